/**
 * Process groups, sessions and orphaned process groups (programs/pgrp.c), compared
 * between a native run and runc, runsc and tvisor (see compare.ts). The expected lines are
 * what Linux documents for setpgid(2), setsid(2) and orphaned groups (POSIX).
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'pgrp',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'child setsid: returns its pid yes, getsid yes, getpgid yes',
      'child setsid again (a group leader): EPERM',
      'session leader setpgid(0, 0): EPERM',
      'setpgid of the parent (not a child): ESRCH',
      'setpgid into a group that does not exist: EPERM',
      "parent sees getsid(child) is the child's pid, getpgid(child) is the child's pid",
      'setpgid of a child in another session: EPERM',
      'getsid/getpgid of a reaped child: ESRCH ESRCH',
      'setpgid negative group: EINVAL',
      "move a child into its sibling's group: ok, getpgid is the sibling",
      'kill(-pgid) of that group: ok',
      "setpgid of a child that has exec'd: EACCES",
      'C: got SIGHUP and SIGCONT after its group was orphaned',
      'orphaned child (handlers): exit 0',
      'orphaned child (default actions): signal HUP',
      'done',
    ]);
  },
  runscUnsupported: "gVisor's setsid/setpgid do not follow Linux's rules (a child in another session, a session leader, a child that has exec'd)",
});
