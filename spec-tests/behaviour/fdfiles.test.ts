/**
 * Files that name open file descriptions, and /proc's view of processes: /proc/self/fd/N
 * and /dev/fd/N reopen pipes, deleted files (and refuse sockets and eventfds) as Linux
 * does, another user's only with CAP_SYS_PTRACE; the fd directory (and fdinfo's
 * position and flags) follows the table; a zombie shows state Z until reaped, then
 * /proc/<pid> is gone; /proc/self/task lists each thread; posix_fadvise's answers;
 * splice, tee, vmsplice, sendfile and copy_file_range; fallocate's modes; inotify's
 * events for changes in a watched directory. Run in /tmp (tmpfs) and in a bind mount,
 * compared between a native run and runc, runsc and tvisor (see compare.ts).
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
    "another user's fd link without CAP_SYS_PTRACE: open EACCES, readlink EACCES",
    "the other user's process ended with status 0",
    'fdinfo of a file: pos:\t5, flags:\t02102002',
    "fdinfo of a pipe's read end: pos:\t0, flags:\t04000",
    'fdinfo of a closed fd: ENOENT',
    'zombie: /proc/<pid>/stat state Z',
    'zombie: /proc/<pid>/stat threads, vsize, rss: 1 0 0',
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
    "splice file->pipe at offset 2: 5, offset now 7, file position 10, pipe has '23456'",
    "splice file->pipe from the position 6: 4, position now 10, pipe has '6789'",
    'splice at the end of the file: 0',
    "splice pipe->file at offset 3: 5, offset now 8, file '...abcde'",
    "splice 2 of 3 bytes pipe->file at the position: 2, file 'xy.abcde', pipe keeps 'z'",
    "splice pipe->pipe: 3, second pipe has 'p2p'",
    'splice file->file: EINVAL',
    'splice with an offset on the pipe: ESPIPE',
    'splice a pipe into itself: EINVAL',
    'splice from an empty pipe, SPLICE_F_NONBLOCK: EAGAIN',
    'splice into an O_APPEND file: EINVAL',
    "tee: 7, copy 'teedata'",
    "tee left the source: 'teedata'",
    'tee from a file: EINVAL',
    'tee from an empty pipe, SPLICE_F_NONBLOCK: EAGAIN',
    "vmsplice into a pipe: 8, pipe has 'vmsplice'",
    'vmsplice on a file: EBADF',
    "sendfile at offset 1: 3, offset now 4, pipe has '123'",
    "copy_file_range with offsets: 4, offsets now 6 5, positions 10 0, dst '.CDEF'",
    "copy_file_range at the positions: 2, positions now 10 2, dst 'IJDEF'",
    'copy_file_range at the end: 0',
    'copy_file_range within one file, overlapping: EINVAL',
    "copy_file_range within one file, apart: 3, file 'ABCDEFGHIJ..........ABC'",
    'copy_file_range with flags 1: EINVAL',
    'copy_file_range from a pipe: EINVAL',
    'copy_file_range into an O_APPEND file: EBADF',
    'copy_file_range from a directory: EISDIR',
    'fallocate mode 0 to 16: ok, size 16',
    'fallocate KEEP_SIZE beyond: ok, size 16',
    "fallocate PUNCH_HOLE|KEEP_SIZE 2..6: ok, size 16, file '01....6789......'",
    'fallocate PUNCH_HOLE alone: EOPNOTSUPP',
    'fallocate len 0: EINVAL',
    'fallocate negative offset: EINVAL',
    'fallocate unknown mode: EOPNOTSUPP',
    "fallocate on a pipe's write end: ESPIPE",
    "fallocate on a pipe's read end: EBADF",
    'fallocate on a read-only fd: EBADF',
    'inotify_add_watch on the directory: wd 1, again: wd 1',
    'nothing done: no event (EAGAIN)',
    "create: wd 1 CREATE 'a' len padded",
    "create: wd 1 OPEN 'a' len padded",
    "two writes: wd 1 MODIFY 'a' len padded",
    "close: wd 1 CLOSE_WRITE 'a' len padded",
    "open, two reads, close: wd 1 OPEN 'a' len padded",
    "open, two reads, close: wd 1 ACCESS 'a' len padded",
    "open, two reads, close: wd 1 CLOSE_NOWRITE 'a' len padded",
    "chmod, truncate: wd 1 ATTRIB 'a' len padded",
    "chmod, truncate: wd 1 MODIFY 'a' len padded",
    "rename: wd 1 MOVED_FROM 'a' len padded cookie set",
    "rename: wd 1 MOVED_TO 'b' len padded same cookie",
    "mkdir: wd 1 CREATE|ISDIR 'sub' len padded",
    "rmdir of a watched directory: wd 2 DELETE_SELF '' len padded",
    "rmdir of a watched directory: wd 2 IGNORED '' len padded",
    "rmdir of a watched directory: wd 1 DELETE|ISDIR 'sub' len padded",
    'watch on the file: wd 3 (after 2)',
    "unlink of a watched file: wd 3 ATTRIB '' len padded",
    "unlink of a watched file: wd 3 DELETE_SELF '' len padded",
    "unlink of a watched file: wd 3 IGNORED '' len padded",
    "unlink of a watched file: wd 1 DELETE 'b' len padded",
    'FIONREAD after a symlink: 32',
    'read into 8 bytes: EINVAL',
    "symlink: wd 1 CREATE 'a' len padded",
    "unlink: wd 1 DELETE 'a' len padded",
    'inotify_rm_watch: ok',
    "rm_watch: wd 1 IGNORED '' len padded",
    'inotify_rm_watch again: EINVAL',
    'IN_ONLYDIR on a file: ENOTDIR',
    'empty mask: EINVAL',
    'missing file: ENOENT',
    'on a pipe fd: EINVAL',
    'rmdir of the unwatched directory: no event (EAGAIN)',
    'readlink of an inotify fd: anon_inode:inotify',
    'done',
  ]);
}

/** gVisor answers ENODEV where Linux's anon inodes answer ENXIO, lets anyone follow
 * another user's fd links, shows no position and flags in fdinfo, lacks vmsplice and
 * copy_file_range (ENOSYS), fallocate's KEEP_SIZE and PUNCH_HOLE, and two of splice's
 * checks; it orders some inotify events otherwise. */
const runscDeviations: [string, string][] = [
  ["open of an eventfd's link: ENXIO", "open of an eventfd's link: ENODEV"],
  ["another user's fd link without CAP_SYS_PTRACE: open EACCES, readlink EACCES", "another user's fd link without CAP_SYS_PTRACE: open ok, readlink ok"],
  ['fdinfo of a file: pos:\t5, flags:\t02102002', 'fdinfo of a file: no pos and flags lines'],
  ["fdinfo of a pipe's read end: pos:\t0, flags:\t04000", "fdinfo of a pipe's read end: no pos and flags lines"],
  ['splice from an empty pipe, SPLICE_F_NONBLOCK: EAGAIN', 'splice from an empty pipe, SPLICE_F_NONBLOCK: ok'],
  ['splice into an O_APPEND file: EINVAL', 'splice into an O_APPEND file: ok'],
  ["vmsplice into a pipe: 8, pipe has 'vmsplice'", "vmsplice into a pipe: -1, pipe has ''"],
  ['vmsplice on a file: EBADF', 'vmsplice on a file: ENOSYS'],
  ["copy_file_range with offsets: 4, offsets now 6 5, positions 10 0, dst '.CDEF'", "copy_file_range with offsets: -1, offsets now 2 1, positions 10 0, dst ''"],
  ["copy_file_range at the positions: 2, positions now 10 2, dst 'IJDEF'", "copy_file_range at the positions: -1, positions now 8 0, dst ''"],
  ['copy_file_range at the end: 0', 'copy_file_range at the end: -1'],
  ['copy_file_range within one file, overlapping: EINVAL', 'copy_file_range within one file, overlapping: ENOSYS'],
  ["copy_file_range within one file, apart: 3, file 'ABCDEFGHIJ..........ABC'", "copy_file_range within one file, apart: -1, file 'ABCDEFGHIJ'"],
  ['copy_file_range with flags 1: EINVAL', 'copy_file_range with flags 1: ENOSYS'],
  ['copy_file_range from a pipe: EINVAL', 'copy_file_range from a pipe: ENOSYS'],
  ['copy_file_range into an O_APPEND file: EBADF', 'copy_file_range into an O_APPEND file: ENOSYS'],
  ['copy_file_range from a directory: EISDIR', 'copy_file_range from a directory: ENOSYS'],
  ['fallocate KEEP_SIZE beyond: ok, size 16', 'fallocate KEEP_SIZE beyond: EOPNOTSUPP, size 16'],
  ["fallocate PUNCH_HOLE|KEEP_SIZE 2..6: ok, size 16, file '01....6789......'", "fallocate PUNCH_HOLE|KEEP_SIZE 2..6: EOPNOTSUPP, size 16, file '0123456789......'"],
  // gVisor reports the directory's IN_DELETE before the file's own events (three
  // replacements, applied in order, move that line up), and names inotify fds differently.
  ["rmdir of a watched directory: wd 1 DELETE|ISDIR 'sub' len padded", "rmdir of a watched directory: wd 2 IGNORED '' len padded"],
  ["rmdir of a watched directory: wd 2 IGNORED '' len padded", "rmdir of a watched directory: wd 2 DELETE_SELF '' len padded"],
  ["rmdir of a watched directory: wd 2 DELETE_SELF '' len padded", "rmdir of a watched directory: wd 1 DELETE|ISDIR 'sub' len padded"],
  ["unlink of a watched file: wd 1 DELETE 'b' len padded", "unlink of a watched file: wd 3 IGNORED '' len padded"],
  ["unlink of a watched file: wd 3 IGNORED '' len padded", "unlink of a watched file: wd 3 DELETE_SELF '' len padded"],
  ["unlink of a watched file: wd 3 DELETE_SELF '' len padded", "unlink of a watched file: wd 1 DELETE 'b' len padded"],
  ['readlink of an inotify fd: anon_inode:inotify', 'readlink of an inotify fd: anon_inode:[inotifyfd:3]'],
];

/** withIdCaps adds what the other-user case needs (a child that becomes uid 1000, a
 * parent that drops CAP_SYS_PTRACE, and that may search any directory, so that only the
 * ptrace check can refuse) to the container's capability sets. */
function withIdCaps(spec: { process: { capabilities?: Record<string, string[]> } }): void {
  const caps = (spec.process.capabilities ??= {});
  for (const set of ['bounding', 'effective', 'permitted']) {
    caps[set] = [...new Set([...(caps[set] ?? []), 'CAP_SETUID', 'CAP_SETGID', 'CAP_SYS_PTRACE', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH'])];
  }
}

describeProgram({
  program: 'fdfiles',
  title: 'fd files in /tmp',
  args: [SCRATCH],
  options: { editSpec: withIdCaps },
  expectNative: expectFdFiles,
  runscDeviations,
});

describeProgram({
  program: 'fdfiles',
  title: 'fd files in a bind mount',
  args: [SCRATCH],
  options: { scratchMount: '/mnt/scratch', editSpec: withIdCaps },
  expectNative: expectFdFiles,
  runscDeviations,
});
