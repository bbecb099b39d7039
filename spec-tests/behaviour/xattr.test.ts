/**
 * Extended attributes of the "user." namespace (programs/xattr.c: set, get, list, remove,
 * the flags, a directory's, none on a symlink or a pipe, through descriptors, the argument
 * checks, and another user's permissions), in /tmp (tvisor: a tmpfs kept in the sentry)
 * and in a bind mount (served by the gofer, kept on the host), compared between a native
 * run and runc, runsc and tvisor (see compare.ts). The expected lines are what Linux's
 * fs/xattr.c and ext4 do natively. The container's root gets CAP_SETUID and CAP_SETGID (for
 * the other user's part).
 */
import { RunResult, SCRATCH } from './runner';
import { describeProgram, expectLines, withCapabilities } from './compare';

const EXPECTED = [
  "set user.a: 0",
  "size of user.a: 5",
  "get user.a into 2 bytes: ERANGE",
  "get user.a: 5 \"hello\"",
  "get user.missing: ENODATA",
  "XATTR_CREATE user.a: EEXIST",
  "XATTR_REPLACE user.b: ENODATA",
  "XATTR_CREATE user.b: 0",
  "XATTR_REPLACE user.a: 0",
  "get user.a: 6 \"again!\"",
  "set user.empty to nothing: 0",
  "get user.empty: 0",
  "XATTR_REPLACE user.empty with nothing: 0",
  "get user.empty: 0",
  "set a 1000-byte value: 0",
  "get it: 1000",
  "f: list (4): user.a user.b user.big user.empty",
  "list size query matches the list: yes",
  "list into 3 bytes: ERANGE",
  "remove user.b: 0",
  "remove user.b again: ENODATA",
  "remove user.empty: 0, user.big: 0",
  "f: list (1): user.a",
  "fsetxattr user.fd: 0",
  "fgetxattr user.fd: 5 \"by fd\"",
  "flistxattr: 15",
  "another process reads it: yes",
  "fremovexattr user.fd: 0",
  "set user.d on a directory: 0",
  "get it: 3",
  "lsetxattr on a symlink: EPERM",
  "lgetxattr on a symlink: ENODATA",
  "getxattr through the symlink: 6",
  "llistxattr of the symlink: 0",
  "fsetxattr on a pipe: EPERM",
  "fgetxattr on a pipe: ENODATA",
  "flistxattr of a pipe: 0",
  "empty name: ERANGE",
  "a 299-byte name: set ERANGE, get ERANGE",
  "flags 4: EINVAL",
  "a value of 65537 bytes: E2BIG",
  "a namespace that does not exist: set EOPNOTSUPP, get EOPNOTSUPP",
  "a name without a dot: EOPNOTSUPP",
  "a missing file: ENOENT",
  "a bad fd: EBADF",
  "a bad value pointer: EFAULT",
  "a bad list pointer: EFAULT",
  "nobody: get user.a of a 0644 file: 6",
  "nobody: set user.n on it: EACCES",
  "nobody: remove user.a: EACCES",
  "nobody: get user.s of a 0600 file: EACCES",
  "nobody: list the 0600 file: 7",
  "nobody: set user.t on a 01777 directory of root: EPERM",
  "nobody: get it: 1",
  "done",
];

function expectXattr(r: RunResult): void {
  expect(r.status).toBe(0);
  expectLines(r.stdout, EXPECTED);
}

/** RUNSC_PIPE: gVisor answers EOPNOTSUPP for a pipe's attributes (Linux: none to read, EPERM to set). */
const RUNSC_PIPE: [string, string][] = [
  ['fsetxattr on a pipe: EPERM', 'fsetxattr on a pipe: EOPNOTSUPP'],
  ['fgetxattr on a pipe: ENODATA', 'fgetxattr on a pipe: EOPNOTSUPP'],
  ['flistxattr of a pipe: 0', 'flistxattr of a pipe: EOPNOTSUPP'],
];

describeProgram({ program: 'xattr', title: 'xattr in /tmp', runscDeviations: RUNSC_PIPE, args: [SCRATCH], options: { editSpec: withCapabilities(['CAP_SETUID', 'CAP_SETGID']) }, expectNative: expectXattr });

describeProgram({
  program: 'xattr',
  title: 'xattr in a bind mount',
  runscUnsupported: 'a bind mount (its gofer) stores no extended attributes: every call is EOPNOTSUPP',
  args: [SCRATCH],
  options: { scratchMount: '/mnt/scratch', editSpec: withCapabilities(['CAP_SETUID', 'CAP_SETGID']) },
  expectNative: expectXattr,
});
