/**
 * mount(2), umount2(2) and pivot_root(2) (mounts.c) as root with CAP_SYS_ADMIN, compared
 * between a native run (in a private mount namespace the program makes) and runc, runsc
 * and tvisor: tmpfs with options, bind and bind of a subdirectory, remounts per mount and
 * per file system, noexec (execve, mmap and mprotect PROT_EXEC) and nodev, umount's EBUSY rules and
 * MNT_DETACH, propagation types (a mount under a shared mount appears under its peer and
 * its slave, and goes with it), MS_MOVE, rbind, the error cases, pivot_root into a tmpfs,
 * and runc's pivot_root(".", ".") then umount2(".", MNT_DETACH);
 * the mountinfo line of each mount it makes, with IDs, device and peer group numbers
 * normalised by the program. The containers get CAP_SYS_ADMIN (runc's default set lacks it).
 */
import { describeProgram, expectLines, withCapabilities } from './compare';
import { SCRATCH } from './runner';

describeProgram({
  program: 'mounts',
  args: [SCRATCH],
  options: { editSpec: withCapabilities(['CAP_SYS_ADMIN']) },
  runscUnsupported: 'Debian\'s runsc (2022) has no MS_REMOUNT, MS_SLAVE, MS_UNBINDABLE or MS_MOVE, does not enforce noexec or nodev, and shows tmpfs options as given (size=1m): nearly every line after the first mount differs',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'mountinfo c: ID PARENT DEV /sub $B/c rw,relatime - tmpfs none rw,size=1024k,mode=750',
      'create in b: EROFS, in t: 0',
      'execve on noexec: EACCES',
      'mmap PROT_EXEC on noexec: EPERM',
      'mprotect PROT_EXEC of it: EACCES',
      'open d/null on nodev: EACCES',
      'umount b with a file open: EBUSY',
      'umount b MNT_DETACH: 0',
      'umount c as cwd: EBUSY',
      'mount nosuchfs: ENODEV',
      'mountinfo s/sub3: ID PARENT DEV / $B/s/sub3 rw,relatime shared:G - tmpfs prop rw',
      'mountinfo s/sub4: ID PARENT DEV / $B/s/sub4 rw,relatime master:G - tmpfs prop rw',
      'mountinfo t/sub5: (none)',
      'mountinfo r/sub2: ID PARENT DEV / $B/r/sub2 rw,relatime - tmpfs none rw',
      'mountinfo r2/sub2: (none)',
      'pivot_root: 0',
      'entries in new /: 1',
      'pivot_root(., .): 0',
      'umount2(., MNT_DETACH): 0',
      'entries in the newest /: 0',
      'done',
    ]);
  },
});
