/**
 * Mount namespaces (programs/mntns.c): unshare(CLONE_NEWNS) and clone(CLONE_NEWNS) copy
 * the caller's mounts, a tmpfs mounted in the copy is invisible to a process left in the
 * old namespace (its /proc/<pid>/mountinfo), propagation between the namespaces through
 * shared and slave peer groups two levels deep (a whole rbind tree, a moved mount),
 * MS_PRIVATE, setns back through
 * /proc/self/ns/mnt (at the namespace's root), umount taking the propagated copies, and
 * the errors (setns with a non-namespace fd or the wrong type, clone(CLONE_NEWNS|CLONE_FS),
 * umount, mount and bind of a mount of another namespace, no CAP_SYS_ADMIN), compared
 * between a native run (as root, in a private namespace the program makes) and runc and
 * tvisor. The containers get CAP_SYS_ADMIN and CAP_SYS_CHROOT (setns into a mount
 * namespace needs both) and CAP_SETUID/SETGID for the unprivileged checks.
 */
import { describeProgram, expectLines, withCapabilities } from './compare';
import { SCRATCH } from './runner';

describeProgram({
  program: 'mntns',
  args: [SCRATCH],
  options: { editSpec: withCapabilities(['CAP_SYS_ADMIN', 'CAP_SYS_CHROOT', 'CAP_SETUID', 'CAP_SETGID']) },
  runscUnsupported: 'Debian\'s runsc (2022) has one mount namespace: unshare(CLONE_NEWNS) gives no copy and setns into a mount namespace is EINVAL',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'unshare(CLONE_NEWNS): 0',
      '/proc/self/ns/mnt changed: yes',
      'N1 sees s: rw,relatime shared:G - tmpfs s',
      'the copy of s is in O\'s peer group: yes',
      'N1 sees t: rw,relatime - tmpfs t',
      'O sees t: (none)',
      'O sees s/x: rw,relatime shared:G - tmpfs sx',
      'O sees p/x: (none)',
      'N1 sees v: rw,relatime master:G - tmpfs v',
      'O sees v/x: (none)',
      'cwd after setns: /',
      'O sees t: (none)',
      'N1 sees v/y: rw,relatime master:G - tmpfs vy',
      'N2 sees v/z: rw,relatime shared:G master:G - tmpfs vz',
      'N1\'s and N2\'s copies are peers: yes',
      'N2 sees v/w: rw,relatime shared:G - tmpfs vw',
      'O sees v/w: (none)',
      'N2 sees v/z: (none)',
      'N1 sees s/r/in: rw,relatime shared:G - tmpfs t2in',
      'N1 sees s/m: rw,relatime shared:G - tmpfs mv',
      'setns(/dev/null, CLONE_NEWNS): EINVAL',
      'clone(CLONE_NEWNS|CLONE_FS): EINVAL',
      'umount of N1\'s t through a descriptor: EINVAL',
      'clone(CLONE_NEWNS) child in a new namespace: yes',
      'O sees c: (none)',
      'unprivileged setns(mnt): EPERM',
      'done',
    ]);
  },
});
