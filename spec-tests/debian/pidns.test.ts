/**
 * util-linux's unshare(1) with a new PID namespace on the Debian image, compared with runc:
 * `unshare -p -f` forks a child that is pid 1 of the new namespace ($$ is 1, $PPID 0),
 * its children count from 2 there, /proc/self/status shows a pid per level (NSpid), and
 * kill from inside cannot end its pid 1. Without --mount-proc: a new mount namespace
 * (CLONE_NEWNS) is not in the sentry yet, so ps reads the container's /proc, where its own
 * pid in the new namespace is not found, and stops with procps' "fatal library error,
 * lookup self" on stderr under runc as under tvisor (compared too). The container gets
 * CAP_SYS_ADMIN, which unshare needs.
 */
import { expectSameAsRunc } from './image';
import { withCapabilities } from '../behaviour/compare';

const caps = { editSpec: withCapabilities(['CAP_SYS_ADMIN']) };

describe('unshare -p -f on the Debian image', () => {
  test('the shell is pid 1 of a new namespace, as under runc', () => {
    expectSameAsRunc(
      `unshare -p -f sh -c 'echo "pid $$ ppid $PPID"; sh -c "echo child \\$\\$ parent \\$PPID"; awk "/^NSpid/ { print NF - 1 \\" levels, innermost \\" \\$NF }" /proc/self/status; kill -TERM 1; kill -KILL 1; echo "still here after kill 1"; ps -eo comm= | sort | uniq -c'; echo "unshare: $?"`,
      caps,
    );
  });
});
