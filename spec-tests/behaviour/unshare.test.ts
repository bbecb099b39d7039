/**
 * unshare(2) and clone(2)'s CLONE_NEW* flags (programs/unshare.c): a private descriptor
 * table, file system context and semaphore undo list, new UTS and IPC namespaces (their
 * host name and System V objects, /proc/self/ns links), setns back into a UTS namespace
 * through its /proc/self/ns file, and the EINVAL/EPERM cases,
 * compared between a native run (as root) and runc, runsc and tvisor. The container's
 * root gets CAP_SYS_ADMIN, which Linux requires for a new namespace, and CAP_SETUID/SETGID
 * to become an unprivileged user for the EPERM checks.
 */
import { describeProgram, expectLines, withCapabilities } from './compare';

describeProgram({
  program: 'unshare',
  options: { editSpec: withCapabilities(['CAP_SYS_ADMIN', 'CAP_SETUID', 'CAP_SETGID']) },
  runscUnsupported: 'unshare accepts an unknown flag, CLONE_SYSVSEM does not apply the undo list and /proc/self/ns/uts is missing',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'unshare(0): ok',
      'unshare(an unknown flag): EINVAL',
      "CLONE_FILES child sharing the table closes a descriptor: the parent's is closed",
      "CLONE_FILES child after unshare(CLONE_FILES) closes a descriptor: the parent's is open",
      "CLONE_FS child sharing it changes directory: the parent's cwd is /proc",
      "CLONE_FS child after unshare(CLONE_FS) changes directory: the parent's cwd is /",
      'semaphore after +2 with SEM_UNDO: 2',
      'unshare(CLONE_SYSVSEM): ok',
      'semaphore after it (the undo applied): 0',
      'unshare(CLONE_NEWUTS): ok',
      '/proc/self/ns/uts changed: yes',
      'sethostname(inner): ok',
      'uname after it: inner',
      'its child sees: inner',
      'the parent still sees: outer',
      "the parent's /proc/self/ns/uts unchanged: yes",
      "clone(CLONE_NEWUTS) child starts with the parent's name: yes",
      'clone(CLONE_NEWUTS) child set its name: cloned',
      'clone(CLONE_NEWUTS): ok',
      'the parent after it: outer',
      'setns(a uts file, CLONE_NEWIPC): EINVAL',
      'setns(/dev/null, 0): EINVAL',
      "setns(the parent's uts file, CLONE_NEWUTS): ok",
      'uname after joining it: outer',
      'shmget of the key before unshare: ok',
      'unshare(CLONE_NEWIPC): ok',
      '/proc/self/ns/ipc changed: yes',
      'shmget of the key after it: ENOENT',
      'creating the key in the new namespace: ok',
      "the parent's segment is still there: yes",
      'clone(CLONE_NEWIPC|CLONE_SYSVSEM): EINVAL',
      'unshare(CLONE_THREAD|CLONE_SIGHAND|CLONE_VM), one thread: ok',
      'unshare(CLONE_THREAD), two threads: EINVAL',
      'unshare(CLONE_VM), two threads: EINVAL',
      'unshare(CLONE_FILES|CLONE_FS), two threads: ok',
      'unprivileged setns(uts): EPERM',
      'unprivileged unshare(CLONE_NEWUTS): EPERM',
      'unprivileged unshare(CLONE_NEWIPC): EPERM',
      'unprivileged unshare(CLONE_FILES): ok',
      'done',
    ]);
  },
});
