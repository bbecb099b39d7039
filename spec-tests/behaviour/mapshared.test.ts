/**
 * MAP_SHARED mappings of a file on a bind mount and on the rootfs (gofer files under
 * tvisor, served through their page cache): two processes sharing a file's pages, read()
 * and write() coherent with a mapping, msync and its errors, write-back at munmap and
 * close and at exit, SIGBUS past a truncated end, a process-shared mutex (a futex keyed
 * by the file's pages) and atomics in a file mapping, EACCES for a writable mapping of a
 * read-only descriptor; compared natively, under runc, runsc and tvisor.
 */
import { SCRATCH, type RunResult } from './runner';
import { describeProgram, expectLines } from './compare';

/** expectMapshared asserts the native run's output (the same wherever the file lives). */
function expectMapshared(r: RunResult): void {
  expect(r.status).toBe(0);
  expectLines(r.stdout, [
    'parent sees the child\'s writes: "from the child" "inherited"',
    'child sees the parent\'s write: "parent"',
    'child exit status 0',
    'read() sees the mapping: "stored in memory"',
    'the mapping sees write(): "by write()"',
    'msync MS_SYNC: ok',
    'fresh open after msync: "synced"',
    'msync MS_ASYNC|MS_INVALIDATE: ok',
    'msync of an unaligned address: EINVAL',
    'msync MS_SYNC|MS_ASYNC: EINVAL',
    'msync with an unknown flag: EINVAL',
    'msync of length 0: ok',
    'msync over a hole: ENOMEM',
    'read() sees the moved mapping: "remapped"',
    'private mapping made afterwards: "stored in memory"',
    'after munmap and close: size 8192',
    'content: "unmapped"',
    'content: "from the child"',
    'after a child exited with its mapping: "at exit"',
    'killed child: SIGKILL',
    'after a child was killed with its mapping: "at SIGKILL"',
    'after ftruncate to 100: byte 50 \'.\', byte 200 0',
    'second page after ftruncate: SIGBUS BUS_ADRERR',
    'size after ftruncate: 100',
    'two processes counting in a file mapping: 40000 under a shared mutex, 40000 atomically',
    'mmap(PROT_WRITE, MAP_SHARED) of a read-only descriptor: EACCES',
    'mprotect(PROT_WRITE) of it: EACCES',
    'done',
  ]);
}

describeProgram({
  program: 'mapshared',
  title: 'mapshared on a bind mount',
  args: [SCRATCH],
  options: { scratchMount: '/work' },
  expectNative: expectMapshared,
});

describeProgram({
  program: 'mapshared',
  title: 'mapshared on the rootfs',
  args: [SCRATCH],
  options: { scratch: '/' },
  expectNative: expectMapshared,
});
