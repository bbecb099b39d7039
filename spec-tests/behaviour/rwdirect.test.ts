/**
 * read/write straight between a regular file and the caller's memory (the sentry moves
 * them through views of the memory file, with no buffer of its own in between): a 40 MiB
 * file in blocks of a few MiB (crossing the memory file's 32 MiB mapping chunks), 1024
 * iovecs, buffers that end in an unmapped page (the bytes before the fault, then EFAULT),
 * reads into private pages shared since a fork, O_APPEND (pwrite appends too, as on Linux)
 * and a file read into and written from its own MAP_SHARED mapping. On the rootfs and in
 * a bind mount (gofer files under tvisor: pread/pwrite on the host descriptor) and on a
 * tmpfs mount (memory file to memory file), compared between a native run and runc, runsc
 * and tvisor.
 */
import { SCRATCH, type RunResult } from './runner';
import { describeProgram, expectLines } from './compare';

function expectRw(r: RunResult): void {
  expect(r.status).toBe(0);
  expectLines(r.stdout, [
    'big write: 41955385 bytes in 14 writes',
    'big read: 41955385 bytes in 41 reads, 0 bytes differ',
    'big pread: 6 reads, 0 bytes differ',
    'writev of 1024 iovecs: 1346608 of 1346608 bytes',
    "preadv of 1024 iovecs: all the file's bytes, 0 bytes differ",
    'read of 3 pages into 2 mapped + 1 unmapped: 8192, offset 8192',
    'read into the unmapped page: -1 EFAULT, offset 8192',
    'pread at the end of the file into the unmapped page: 0 0',
    'pread straddling into it: 3996 0',
    'bytes read into the mapped pages: 8192',
    'pwrite of 1 mapped + 1 unmapped page: 4096 0',
    'write from the unmapped page: -1 EFAULT',
    'readv with the unmapped page as iovec 2: 100 0',
    'writev likewise: 100 0',
    'file size after the writes: 4096',
    'child read into pages shared since the fork: exit 0',
    "parent's preadv into them: 60000; bytes not as the parent left them: 0",
    'O_APPEND writev: 12388, offset 12398',
    'the mapping sees the appended bytes: yes',
    "pread into its own mapping: 200, the appended 'b' at 60: yes",
    "pwrite from its own mapping with O_APPEND: 100, size 12498, appended the mapping's first bytes: yes",
    "the first byte is still 'X': yes",
    'done',
  ]);
}

/** gVisor checks the buffer before it looks at the file's end (in a bind mount and on a tmpfs; not on its rootfs). */
const runscDeviations: [string, string][] = [
  ['pread at the end of the file into the unmapped page: 0 0', 'pread at the end of the file into the unmapped page: -1 EFAULT'],
];

// The rootfs itself (its /tmp is a tmpfs under tvisor), and a bind mount: gofer files.
describeProgram({ program: 'rwdirect', title: 'rwdirect on the rootfs', args: [SCRATCH], options: { timeoutMs: 120_000, scratch: '/' }, expectNative: expectRw });

describeProgram({
  program: 'rwdirect',
  title: 'rwdirect in a bind mount',
  args: [SCRATCH],
  options: { timeoutMs: 120_000, scratchMount: '/mnt/scratch' },
  expectNative: expectRw,
  runscDeviations,
});

describeProgram({
  program: 'rwdirect',
  title: 'rwdirect on a tmpfs mount',
  args: [SCRATCH],
  options: {
    timeoutMs: 120_000,
    scratch: '/mnt/rwtmpfs',
    editSpec: (spec) => {
      spec.mounts.push({ destination: '/mnt/rwtmpfs', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=128m'] });
    },
  },
  expectNative: expectRw,
  runscDeviations,
});
