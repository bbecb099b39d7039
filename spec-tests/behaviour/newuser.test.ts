/**
 * User namespaces the application makes (programs/newuser.c: unshare(CLONE_NEWUSER) as
 * root and as uid 1000, uid_map/gid_map/setgroups and their rules, the ids and owners seen
 * through the maps, the capabilities a namespace gives over its own files and not over
 * root's, a UTS, a mount and an IPC namespace owned by it, a nested one, the ids of a
 * signal, of socket credentials and of a segment's owner from outside it), compared between a native run and runc, runsc
 * and tvisor. The expected lines are what Linux's
 * kernel/user_namespace.c does natively. The container's root gets CAP_SETUID and
 * CAP_SETGID (to become uid 1000) and CAP_SETFCAP (mapping root to root needs it, as
 * Linux 5.12's verify_root_map asks).
 */
import { RunResult, SCRATCH } from './runner';
import { describeProgram, expectLines, withCapabilities } from './compare';

const EXPECTED = [
  "root: unshare(CLONE_NEWUSER): ok",
  "root, before the maps: uid 65534 euid 65534 gid 65534 egid 65534",
  "root: uid_map before: \"\"",
  "root: setgroups deny: ok",
  "root: uid_map 0 0 1: ok",
  "root: uid_map again: EPERM",
  "root: gid_map 0 0 1: ok",
  "root, after: uid 0 euid 0 gid 0 egid 0",
  "root: uid_map: \"0 0 1|\"",
  "root: setgroups: \"deny|\"",
  "root: CAP_SYS_ADMIN 1, CAP_SETFCAP 1",
  "root: setgroups(0): EPERM",
  "root: setuid(5): EINVAL",
  "sethostname outer: EPERM",
  "root: unshare(CLONE_NEWUTS): ok",
  "sethostname inner: ok",
  "uname: inner",
  "root part: 0",
  "user: CAP_SYS_ADMIN 0",
  "user: unshare(CLONE_NEWUSER): ok",
  "user, before the maps: uid 65534 euid 65534 gid 65534 egid 65534",
  "user: CAP_SYS_ADMIN 1, CAP_SETUID 1",
  "user: uid_map before: \"\"",
  "user: setgroups: \"allow|\"",
  "user: uid_map \"0 1000\": EINVAL",
  "user: uid_map \"0 1000 0\": EINVAL",
  "user: uid_map \"0 1000 1\\n1 1000 1\": EINVAL",
  "user: uid_map of root, 0 0 1: EPERM",
  "user: uid_map of two ids, 0 1000 2: EPERM",
  "user: uid_map 0 1000 1: ok",
  "user: gid_map before setgroups deny: EPERM",
  "user: setgroups deny: ok",
  "user: setgroups allow again: EPERM",
  "user: gid_map 0 1000 1: ok",
  "user: setgroups deny after gid_map: EPERM",
  "user, after: uid 0 euid 0 gid 0 egid 0",
  "user: uid_map: \"0 1000 1|\"",
  "user: gid_map: \"0 1000 1|\"",
  "stat /: uid 65534 gid 65534",
  "stat a file root made: uid 65534 gid 65534",
  "user: create a file: ok",
  "stat it: uid 0 gid 0",
  "user: chown it 0 0: ok",
  "user: chown it 5: EINVAL",
  "user: write root's 0644 file: EACCES",
  "user: chmod root's file: EPERM",
  "user: chown root's file 0: EPERM",
  "user: setuid(1): EINVAL",
  "user: setuid(0): ok",
  "user: setgroups(0): EPERM",
  "user: PR_CAPBSET_DROP CAP_NET_RAW: ok, then it is 0",
  "user: mknod a character device: EPERM",
  "sethostname outer: EPERM",
  "user: unshare(CLONE_NEWUTS | CLONE_NEWNS): ok",
  "sethostname inner: ok",
  "uname: inner",
  "user: mount tmpfs: ok",
  "stat the tmpfs: uid 0 gid 0",
  "user: umount it: ok",
  "user: umount /proc (a copied mount, locked): EINVAL",
  "user: bind /dev without MS_REC: EINVAL",
  "user: rbind /dev: ok",
  "user: umount its copy of /dev/pts: EINVAL",
  "user: umount the rbind: ok",
  "user: nested unshare(CLONE_NEWUSER): ok",
  "user, nested: uid 65534 euid 65534 gid 65534 egid 65534",
  "user: nested uid_map 0 0 1: ok",
  "user, nested, mapped: uid 0 euid 0 gid 65534 egid 65534",
  "user part: 0",
  "seen: SIGUSR1 from root outside: si_uid 65534",
  "seen: SCM_CREDENTIALS from root outside: uid 65534 gid 65534",
  "seen: SO_PEERCRED of root's socket: uid 65534 gid 65534",
  "seen: root's segment: uid 65534 cuid 65534",
  "seen: its own segment: uid 0 gid 0 cuid 0",
  "seen: IPC_SET uid 5 (unmapped): EINVAL",
  "seen: /proc/sysvipc/shm: uid 0 gid 0 cuid 0 cgid 0",
  "seen: IPC_RMID its own: ok",
  "seen part: 0",
  "parent: uid 0 euid 0 gid 0 egid 0",
  "done",
];

describeProgram({
  program: 'newuser',
  title: 'user namespaces made by the application',
  runscUnsupported: 'its user namespaces have no /proc/<pid>/setgroups (so no gid_map for a user), answer malformed uid_map lines EPERM, let the namespace\'s root call setgroups and mknod a device, and refuse mount and umount in them (EPERM)',
  args: [SCRATCH],
  options: { editSpec: withCapabilities(['CAP_SETUID', 'CAP_SETGID', 'CAP_SETFCAP']) },
  expectNative: (r: RunResult) => {
    expect(r.status).toBe(0);
    expectLines(r.stdout, EXPECTED);
  },
});
