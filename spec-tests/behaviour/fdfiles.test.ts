/**
 * Files that name open file descriptions, and /proc's view of processes: /proc/self/fd/N
 * and /dev/fd/N reopen pipes, deleted files (and refuse sockets and eventfds) as Linux
 * does; the fd directory follows the table; a zombie shows state Z until reaped, then
 * /proc/<pid> is gone; /proc/self/task lists each thread; posix_fadvise's answers. Run in
 * /tmp (tmpfs) and in a bind mount, compared between a native run and runc, runsc and
 * tvisor (see compare.ts).
 */
import { RunResult, SCRATCH } from './runner';
import { describeProgram, expectLines } from './compare';

function expectFdFiles(r: RunResult): void {
  expect(r.status).toBe(0);
  expectLines(r.stdout, [
    "reopened read end reads: 'hello', is a new fd: yes",
    "written through /dev/fd, read from the pipe: 'world'",
    'F_GETFL access of the reopened ends: 0 1',
    'readlink of a pipe is pipe:[ino]: yes',
    'stat through the link: fifo yes, same inode yes',
    'lstat of the link: symlink yes',
    'open with O_NOFOLLOW: ELOOP',
    'read after the writers closed: 0',
    "lstat of a closed fd's link: ENOENT",
    "readlink of a deleted file ends with ' (deleted)': yes",
    "reopened deleted file reads from offset 0: 'kept data'",
    'the original offset is still 9: yes',
    'readlink of a socket starts with socket:[: yes',
    "open of a socket's link: ENXIO",
    'readlink of an eventfd: anon_inode:[eventfd]',
    "open of an eventfd's link: ENXIO",
    'fd 50 listed in /proc/self/fd after dup2: yes',
    'fd 50 listed after close: no, stat: ENOENT',
    'zombie: /proc/<pid>/stat state Z',
    'zombie: status State:\tZ (zombie)',
    'zombie: /proc/<pid> ok',
    'reaped (status 7): stat /proc/<pid> ENOENT',
    'reaped: open /proc/<pid>/stat ENOENT',
    'threads listed in /proc/self/task: 2',
    "the thread's tid listed: yes",
    'task/<tid>/stat starts with the tid: yes',
    '/proc/thread-self/stat in the thread names it: yes',
    'task/<tid> after the thread ended: ENOENT',
    'posix_fadvise SEQUENTIAL: 0',
    'posix_fadvise DONTNEED: 0',
    'posix_fadvise bad advice: EINVAL',
    'posix_fadvise negative length: EINVAL',
    'posix_fadvise on a pipe: ESPIPE',
    'posix_fadvise on a closed fd: EBADF',
    'done',
  ]);
}

/** gVisor answers ENODEV where Linux's anon inodes answer ENXIO. */
const runscDeviations: [string, string][] = [["open of an eventfd's link: ENXIO", "open of an eventfd's link: ENODEV"]];

describeProgram({ program: 'fdfiles', title: 'fd files in /tmp', args: [SCRATCH], expectNative: expectFdFiles, runscDeviations });

describeProgram({
  program: 'fdfiles',
  title: 'fd files in a bind mount',
  args: [SCRATCH],
  options: { scratchMount: '/mnt/scratch' },
  expectNative: expectFdFiles,
  runscDeviations,
});
