/**
 * open(2) with O_PATH, on tmpfs and on a bind mount: a descriptor of a symlink itself
 * (O_NOFOLLOW), of a FIFO without waiting, O_CREAT/O_TRUNC ignored, the calls such a
 * descriptor serves and the EBADF of those it does not; compared natively, under runc,
 * runsc and tvisor. tar extracting a symlink depends on it (glibc's
 * fchmodat(AT_SYMLINK_NOFOLLOW) opens the link with O_PATH|O_NOFOLLOW).
 */
import { SCRATCH, type RunResult } from './runner';
import { describeProgram, expectLines } from './compare';

/** expectOpath asserts the native run's output (the same wherever the files live). */
function expectOpath(r: RunResult): void {
  expect(r.status).toBe(0);
  expectLines(r.stdout, [
    'O_PATH|O_NOFOLLOW of a symlink: ok',
    '  fstat: ok symlink',
    '  readlinkat(fd, ""): ok file',
    '  fstatat AT_EMPTY_PATH: ok symlink',
    'O_PATH|O_NOFOLLOW of a dangling symlink: ok',
    'O_RDONLY|O_NOFOLLOW of a symlink: ELOOP',
    'O_PATH of a FIFO with no writer: ok',
    '  fstat: ok FIFO',
    'O_PATH of a regular file: ok',
    '  write: EBADF',
    '  reopened O_RDONLY through /proc/self/fd: ok',
    'O_PATH|O_CREAT of a missing file: ENOENT',
    'O_PATH|O_TRUNC|O_WRONLY: ok, size after 8',
    '  getdents64: EBADF',
    '  fchdir: ok',
    'done',
  ]);
}

/** RUNSC_DEVIATIONS: Debian's gVisor (2022) refuses fchownat on an O_PATH descriptor and
 * answers ftruncate on one with EINVAL. */
const RUNSC_DEVIATIONS: [string, string][] = [['  fchownat AT_EMPTY_PATH: ok', '  fchownat AT_EMPTY_PATH: EBADF'], ['  ftruncate: EBADF', '  ftruncate: errno 22']];

describeProgram({ program: 'opath', title: 'O_PATH on tmpfs', args: [SCRATCH], expectNative: expectOpath, runscDeviations: RUNSC_DEVIATIONS });
describeProgram({
  program: 'opath',
  title: 'O_PATH on a bind mount',
  args: [SCRATCH],
  options: { scratchMount: '/work' },
  expectNative: expectOpath,
  runscDeviations: RUNSC_DEVIATIONS,
});
