/**
 * File behaviour: create/read/write/rename/unlink/readdir in a scratch directory (/tmp of
 * the rootfs, and a bind mount), and the descriptor table (dup, dup2, dup3, fcntl),
 * compared between a native run and runc, runsc and tvisor (see compare.ts).
 */
import { RunResult, SCRATCH } from './runner';
import { describeProgram, expectLines } from './compare';

function expectFiles(r: RunResult): void {
  expect(r.status).toBe(0);
  const many = Array.from({ length: 20 }, (_, i) => `f${String(i).padStart(2, '0')}`).join(' ');
  expectLines(r.stdout, [
    'ls .: []',
    'write: 12',
    'fstat: size 12, regular yes, mode 640',
    'open O_EXCL again: EEXIST',
    "read from 7: 5 'file'",
    "pread at 0: 'HELLO', offset still 12",
    'lseek to -1: EINVAL',
    "cat a.txt: 'HELLO, file\\n'",
    "cat a.txt: 'HELLO, file\\nmore\\n'",
    "cat a.txt: 'HELLO'",
    'ftruncate to 8192: size 8192, hole reads 4 bytes of zeros: yes',
    "cat b.txt: 'sea\\n'",
    'stat a.txt after rename: ENOENT',
    'b.txt links: 2',
    "readlink f.lnk: 'b.txt'",
    'mkdir sub again: EEXIST',
    'open sub for writing: EISDIR',
    'open b.txt/x: ENOTDIR',
    'rmdir non-empty sub: ENOTEMPTY',
    'ls .: [b.txt d.txt e.txt f.lnk@ sub/]',
    'ls sub: [inner]',
    `ls many: [${many}]`,
    'unlink again: ENOENT',
    'ls .: []',
    'rmdir files-work: ok',
    'done',
  ]);
}

describeProgram({ program: 'files', title: 'files in /tmp', args: [SCRATCH], expectNative: expectFiles });

describeProgram({
  program: 'files',
  title: 'files in a bind mount',
  args: [SCRATCH],
  options: { scratchMount: '/mnt/scratch' },
  expectNative: expectFiles,
});

describeProgram({
  program: 'fds',
  args: [SCRATCH],
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'pipe fds are the lowest free: yes',
      'dup after closing fd 3: got 3',
      "read through the dup after seeking the original: '2', offset now 3",
      "dup2 replaced fd 10 with the file: read '4'",
      'dup2 from a closed fd: EBADF',
      'dup3 with equal fds: EINVAL',
      'dup3 O_CLOEXEC: FD_CLOEXEC set',
      'F_DUPFD from 20: 20',
      'F_DUPFD from 20 again: 21',
      'F_DUPFD_CLOEXEC from 30: 30, FD_CLOEXEC set',
      'after exec: fd 20 is closed, fd 21 is open',
      'after F_SETFL O_APPEND: O_APPEND yes, shared by the dup: yes',
      'append write landed at the end: size 11',
      'read on an empty O_NONBLOCK pipe: EAGAIN',
      'close fd 21: ok, again: EBADF',
      "captured from the child's redirected stdout: 'child writing to its stdout'",
      'done',
    ]);
  },
});
