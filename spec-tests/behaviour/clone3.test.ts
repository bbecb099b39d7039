/**
 * clone3's own flags (programs/clone3.c): CLONE_CLEAR_SIGHAND (handlers back to default in
 * the child, ignored signals kept; EINVAL with CLONE_SIGHAND) and CLONE_INTO_CGROUP's
 * checks (EINVAL for a short struct or a descriptor past INT_MAX, EBADF for a closed one
 * or one that is not a cgroup2 directory), compared natively, under runc and under tvisor.
 * Moving into a real cgroup2 directory is not compared: whether /sys/fs/cgroup is one
 * depends on the host (a v1 host's is a tmpfs, EBADF natively and under runc); tvisor
 * accepts only the root of a cgroup2 mount, its one cgroup.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'clone3',
  runscUnsupported: 'gVisor 2022 has no CLONE_CLEAR_SIGHAND or CLONE_INTO_CGROUP',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'CLONE_INTO_CGROUP, struct of 64 bytes: EINVAL',
      'CLONE_INTO_CGROUP, /dev/null: EBADF',
      'CLONE_INTO_CGROUP, /proc: EBADF',
      'CLONE_INTO_CGROUP, a closed descriptor: EBADF',
      'CLONE_INTO_CGROUP, descriptor 2^31: EINVAL',
      'cgroup field without the flag: ok',
      'unknown flag 1<<34: EINVAL',
      'CLONE_CLEAR_SIGHAND|CLONE_SIGHAND|CLONE_VM: EINVAL',
      'CLONE_CLEAR_SIGHAND child: SIGUSR1 default, SIGUSR2 ignored',
      'CLONE_CLEAR_SIGHAND child: signal USR1; the parent keeps SIGUSR1 a handler',
      'done',
    ]);
  },
});
