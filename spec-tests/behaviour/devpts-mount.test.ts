/**
 * A devpts instance the application mounts (programs/devpts-mount.c), as bubblewrap's
 * --dev mounts one: as uid 1000 in a user and mount namespace of its own, with
 * bubblewrap's options and with none; its owners, modes, numbering (max= bounding it), a
 * pair carrying bytes, a controlling terminal taken from it, its super block's options
 * and the options mount refuses, compared between a native run and runc, runsc and tvisor. The expected lines are
 * what Linux's fs/devpts/inode.c does natively. The container's root gets CAP_SETUID and
 * CAP_SETGID (to become uid 1000).
 */
import { RunResult, SCRATCH } from './runner';
import { describeProgram, expectLines, withCapabilities } from './compare';

const EXPECTED = [
  'unshare(CLONE_NEWUSER | CLONE_NEWNS): ok',
  'uid_map 0 1000 1: ok',
  'setgroups deny: ok',
  'gid_map 0 1000 1: ok',
  'mount tmpfs: ok',
  "mount devpts (bubblewrap's options): ok",
  'mountinfo devpts: devpts devpts rw,mode=620,ptmxmode=666',
  'stat its root: d 755 uid 0 gid 0',
  'stat its ptmx: c 666 uid 0 gid 0 rdev 5:2',
  'list it: ptmx',
  'open its ptmx: ok, TIOCGPTN ok 0',
  'unlockpt: ok',
  'stat its slave 0: c 620 uid 0 gid 0 rdev 136:0',
  'list it, with a pair: 0 ptmx',
  'open its slave 0: ok',
  'the slave read: 6 "hello"',
  'new session: open the slave ok, then /dev/tty ok',
  'child: 0',
  'mount devpts without options: ok',
  'mountinfo devpts without options: devpts devpts rw,mode=600,ptmxmode=000',
  'stat its ptmx: c 000 uid 0 gid 0 rdev 5:2',
  'open its ptmx: ok, TIOCGPTN ok 0',
  'umount it: ok',
  'mount devpts uid=0,gid=0: ok',
  'mountinfo devpts uid=0,gid=0: devpts devpts rw,uid=1000,gid=1000,mode=600,ptmxmode=000',
  'umount it: ok',
  'mount devpts max=1,ptmxmode=666: ok',
  'mountinfo devpts max=1: devpts devpts rw,mode=600,ptmxmode=666,max=1',
  'open its ptmx, a first pair: ok, TIOCGPTN ok 0',
  'open its ptmx, a second pair: ENOSPC',
  'umount it: ok',
  'mount devpts mode=9: EINVAL',
  'mount devpts bogus: EINVAL',
  'mount devpts gid=5 (unmapped): EINVAL',
  'user part: 0',
  'done',
];

describeProgram({
  program: 'devpts-mount',
  title: 'a devpts instance mounted by the application in its own user namespace',
  runscUnsupported: 'its user namespaces have no /proc/<pid>/setgroups (ENOENT) and refuse mount (EPERM)',
  args: [SCRATCH],
  options: { editSpec: withCapabilities(['CAP_SETUID', 'CAP_SETGID']) },
  expectNative: (r: RunResult) => {
    expect(r.status).toBe(0);
    expectLines(r.stdout, EXPECTED);
  },
});
