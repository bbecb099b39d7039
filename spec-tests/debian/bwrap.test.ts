/**
 * bubblewrap, the sandbox of Flatpak and of many CI tools, run by an unprivileged user in
 * the container (Debian's /usr/bin/bwrap, copied in with the libraries the image lacks):
 * it makes its own user, mount, PID, UTS, IPC and cgroup namespaces, mounts a tmpfs,
 * binds the root and /dev, pivots into its new root and runs a shell as uid 0 of its
 * namespace. Compared with runc. The container's root gets CAP_SETUID and CAP_SETGID to
 * become uid 1000 (setpriv); the script ends with bwrap's status, which runc's run must
 * have 0. With --dev, bwrap makes a /dev of its own: a tmpfs, the host's device nodes
 * bound in, and a devpts instance of its own at /dev/pts (/dev/ptmx a link to its ptmx),
 * where `script` opens a terminal.
 */
import * as fs from 'node:fs';
import { withCapabilities } from '../behaviour/compare';
import { hostTool } from './host-tool';
import { expectSameAsRunc } from './image';

const BWRAP = '/usr/bin/bwrap';

describe('bubblewrap as a user under tvisor matches runc', () => {
  let dir = '';
  beforeAll(() => {
    dir = hostTool(BWRAP);
    fs.chmodSync(dir, 0o755); // uid 1000 runs it
  });
  afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  test('its namespaces, mounts and ids', () => {
    const inner = `id; hostname; echo hi > /tmp/x; cat /tmp/x; ls -ln /tmp | tail -1 | cut -d" " -f3,4; cut -d: -f3 /proc/self/cgroup | sort -u; echo "pid $$"; touch /etc/x 2>&1 | sed "s/^touch: //"`;
    expectSameAsRunc(`chmod 777 . && setpriv --reuid 1000 --regid 1000 --clear-groups env LD_LIBRARY_PATH=/opt/bwrap /opt/bwrap/bwrap --ro-bind / / --dev-bind /dev /dev --tmpfs /tmp --bind /opt/bwrap /opt/bwrap \\
  --unshare-user --unshare-pid --unshare-uts --unshare-ipc --unshare-cgroup --hostname inner --uid 0 --gid 0 --die-with-parent \\
  sh -c '${inner}'; st=$?; echo "status $st"; exit $st`, {
      mounts: [{ source: dir, destination: '/opt/bwrap' }],
      editSpec: withCapabilities(['CAP_SETUID', 'CAP_SETGID']),
    });
  });

  test('--dev: a /dev of its own with a devpts instance, where script opens a terminal', () => {
    const inner = `ls /dev | tr "\\n" " "; echo; readlink /dev/ptmx; stat -c "%a %u %g" /dev/pts /dev/pts/ptmx; script -qc tty /dev/null | tr -d "\\r"; echo "script $?"; ls /dev/pts | tr "\\n" " "`;
    expectSameAsRunc(`chmod 777 . && setpriv --reuid 1000 --regid 1000 --clear-groups env LD_LIBRARY_PATH=/opt/bwrap /opt/bwrap/bwrap --ro-bind / / --dev /dev --tmpfs /tmp --bind /opt/bwrap /opt/bwrap \\
  --unshare-user --unshare-pid --uid 0 --gid 0 --die-with-parent \\
  sh -c '${inner}'; st=$?; echo "status $st"; exit $st`, {
      mounts: [{ source: dir, destination: '/opt/bwrap' }],
      editSpec: withCapabilities(['CAP_SETUID', 'CAP_SETGID']),
    });
  });
});
