/*
 * newuser.c: user namespaces made by the application (unshare(CLONE_NEWUSER)), as
 * `unshare -r`, bubblewrap and rootless container tools make them. argv[1] is a scratch
 * directory. Run as root with CAP_SETUID, CAP_SETGID and CAP_SETFCAP (the test gives the
 * container these); natively as root.
 *
 * Part 1, root: a namespace that maps root to root (which needs CAP_SETFCAP), the map
 * written once, setgroups denied, the capabilities it gives (and those it does not: the
 * parent's UTS namespace), a UTS namespace of its own.
 * Part 2, uid 1000: the ids before and after the maps, the map's bad forms and the ids a
 * user may not map, the owners stat shows (the overflow id 65534 for root's files), what
 * root in the namespace may do to its own files and not to root's, set*id to unmapped
 * ids, a mount namespace of its own (tmpfs mounted and unmounted, the copied mounts
 * locked, in an rbind's copies too, and no bind without MS_REC over them), and a namespace
 * nested in it.
 * Part 3, ids from outside: a signal's si_uid, a message's credentials and a shared memory
 * segment's owner from root, as a member of a namespace that does not map root sees them;
 * an IPC namespace of its own, whose segments its root owns.
 */
#include "common.h"
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

static const char *scratch;

/* show prints a file's contents with runs of spaces squeezed (the map's column widths). */
static void show(const char *what, const char *path) {
  char buf[512], out[512];
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    say("%s: %s", what, errname(errno));
    return;
  }
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n < 0) n = 0;
  buf[n] = 0;
  size_t o = 0;
  for (ssize_t i = 0; i < n && o < sizeof(out) - 1; i++) {
    char c = buf[i] == '\n' ? '|' : buf[i];
    if (c == ' ' && (o == 0 || out[o - 1] == ' ' || out[o - 1] == '|')) continue;
    out[o++] = c;
  }
  out[o] = 0;
  say("%s: \"%s\"", what, out);
}

static void ids(const char *when) {
  say("%s: uid %u euid %u gid %u egid %u", when, (unsigned)getuid(), (unsigned)geteuid(), (unsigned)getgid(), (unsigned)getegid());
}

static void owner(const char *what, const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) say("stat %s: %s", what, errname(errno));
  else say("stat %s: uid %u gid %u", what, (unsigned)st.st_uid, (unsigned)st.st_gid);
}

/* has_cap tells whether capability cap is in the effective set (capget). */
static int has_cap(int cap) {
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) != 0) return -1;
  return (d[cap / 32].effective >> (cap % 32)) & 1;
}

/* hostname sets the host name and, when that worked, shows what uname says. */
static void hostname(const char *name) {
  int r = sethostname(name, strlen(name));
  say("sethostname %s: %s", name, result(r));
  struct utsname u;
  if (r == 0 && uname(&u) == 0) say("uname: %s", u.nodename);
}

static int wait_child(pid_t pid) {
  int st;
  if (waitpid(pid, &st, 0) != pid) fail("waitpid");
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void as_root(void) {
  say("root: unshare(CLONE_NEWUSER): %s", result(unshare(CLONE_NEWUSER)));
  ids("root, before the maps");
  show("root: uid_map before", "/proc/self/uid_map");
  say("root: setgroups deny: %s", write_once("/proc/self/setgroups", "deny"));
  say("root: uid_map 0 0 1: %s", write_once("/proc/self/uid_map", "0 0 1"));
  say("root: uid_map again: %s", write_once("/proc/self/uid_map", "0 0 1"));
  say("root: gid_map 0 0 1: %s", write_once("/proc/self/gid_map", "0 0 1"));
  ids("root, after");
  show("root: uid_map", "/proc/self/uid_map");
  show("root: setgroups", "/proc/self/setgroups");
  say("root: CAP_SYS_ADMIN %d, CAP_SETFCAP %d", has_cap(21), has_cap(31));
  say("root: setgroups(0): %s", result(setgroups(0, NULL)));
  say("root: setuid(5): %s", result(setuid(5)));
  hostname("outer");
  say("root: unshare(CLONE_NEWUTS): %s", result(unshare(CLONE_NEWUTS)));
  hostname("inner");
}

static void as_user(void) {
  char path[700], rootfile[600], mnt[600];
  snprintf(path, sizeof path, "%s/mine", scratch);
  snprintf(rootfile, sizeof rootfile, "%s/roots", scratch);
  snprintf(mnt, sizeof mnt, "%s/mnt", scratch);
  check(setgroups(0, NULL) == 0 && setresgid(1000, 1000, 1000) == 0 && setresuid(1000, 1000, 1000) == 0, "becoming uid 1000");
  // As a user's program started by exec is: dumpable, so its /proc/self files are its own.
  check(prctl(PR_SET_DUMPABLE, 1) == 0, "PR_SET_DUMPABLE");
  say("user: CAP_SYS_ADMIN %d", has_cap(21));
  say("user: unshare(CLONE_NEWUSER): %s", result(unshare(CLONE_NEWUSER)));
  ids("user, before the maps");
  say("user: CAP_SYS_ADMIN %d, CAP_SETUID %d", has_cap(21), has_cap(7));
  show("user: uid_map before", "/proc/self/uid_map");
  show("user: setgroups", "/proc/self/setgroups");
  say("user: uid_map \"0 1000\": %s", write_once("/proc/self/uid_map", "0 1000"));
  say("user: uid_map \"0 1000 0\": %s", write_once("/proc/self/uid_map", "0 1000 0"));
  say("user: uid_map \"0 1000 1\\n1 1000 1\": %s", write_once("/proc/self/uid_map", "0 1000 1\n1 1000 1"));
  say("user: uid_map of root, 0 0 1: %s", write_once("/proc/self/uid_map", "0 0 1"));
  say("user: uid_map of two ids, 0 1000 2: %s", write_once("/proc/self/uid_map", "0 1000 2"));
  say("user: uid_map 0 1000 1: %s", write_once("/proc/self/uid_map", "0 1000 1"));
  say("user: gid_map before setgroups deny: %s", write_once("/proc/self/gid_map", "0 1000 1"));
  say("user: setgroups deny: %s", write_once("/proc/self/setgroups", "deny"));
  say("user: setgroups allow again: %s", write_once("/proc/self/setgroups", "allow"));
  say("user: gid_map 0 1000 1: %s", write_once("/proc/self/gid_map", "0 1000 1"));
  say("user: setgroups deny after gid_map: %s", write_once("/proc/self/setgroups", "deny"));
  ids("user, after");
  show("user: uid_map", "/proc/self/uid_map");
  show("user: gid_map", "/proc/self/gid_map");
  owner("/", "/");
  owner("a file root made", rootfile);
  int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0644);
  say("user: create a file: %s", fd < 0 ? errname(errno) : "ok");
  if (fd >= 0) close(fd);
  owner("it", path);
  say("user: chown it 0 0: %s", result(chown(path, 0, 0)));
  say("user: chown it 5: %s", result(chown(path, 5, -1)));
  say("user: write root's 0644 file: %s", write_once(rootfile, "x"));
  say("user: chmod root's file: %s", result(chmod(rootfile, 0666)));
  say("user: chown root's file 0: %s", result(chown(rootfile, 0, 0)));
  say("user: setuid(1): %s", result(setuid(1)));
  say("user: setuid(0): %s", result(setuid(0)));
  say("user: setgroups(0): %s", result(setgroups(0, NULL)));
  const char *dropped = result(prctl(PR_CAPBSET_DROP, 13));
  say("user: PR_CAPBSET_DROP CAP_NET_RAW: %s, then it is %ld", dropped, (long)prctl(PR_CAPBSET_READ, 13));
  snprintf(path, sizeof path, "%s/null", scratch);
  say("user: mknod a character device: %s", result(mknod(path, S_IFCHR | 0600, makedev(1, 3))));
  hostname("outer");
  say("user: unshare(CLONE_NEWUTS | CLONE_NEWNS): %s", result(unshare(CLONE_NEWUTS | CLONE_NEWNS)));
  hostname("inner");
  check(mkdir(mnt, 0755) == 0, "mkdir mnt");
  say("user: mount tmpfs: %s", result(mount("none", mnt, "tmpfs", 0, "size=1m")));
  owner("the tmpfs", mnt);
  say("user: umount it: %s", result(umount2(mnt, 0)));
  say("user: umount /proc (a copied mount, locked): %s", result(umount2("/proc", 0)));
  // /dev has locked mounts below it (pts, shm...): a bind without MS_REC would show what
  // they cover; an rbind copies them locked, its top mount the caller's own.
  say("user: bind /dev without MS_REC: %s", result(mount("/dev", mnt, NULL, MS_BIND, NULL)));
  say("user: rbind /dev: %s", result(mount("/dev", mnt, NULL, MS_BIND | MS_REC, NULL)));
  snprintf(path, sizeof path, "%s/pts", mnt);
  say("user: umount its copy of /dev/pts: %s", result(umount2(path, MNT_DETACH)));
  say("user: umount the rbind: %s", result(umount2(mnt, MNT_DETACH)));
  say("user: nested unshare(CLONE_NEWUSER): %s", result(unshare(CLONE_NEWUSER)));
  ids("user, nested");
  say("user: nested uid_map 0 0 1: %s", write_once("/proc/self/uid_map", "0 0 1"));
  ids("user, nested, mapped");
}

/* seen: ids that come from outside a user namespace as its member sees them. The child,
 * uid 1000 in a namespace mapping only itself (as 0), gets a signal and a message with
 * credentials from root outside: their uid is root's, unmapped there, so the overflow id
 * 65534 (si_uid, SCM_CREDENTIALS, SO_PEERCRED). */
static void seen(void) {
  int sv[2], ready[2];
  int rootshm = shmget(IPC_PRIVATE, 4096, 0644);
  check(rootshm >= 0, "root's segment");
  check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && pipe(ready) == 0, "socketpair");
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  check(sigprocmask(SIG_BLOCK, &usr1, NULL) == 0, "sigprocmask");
  pid_t c = fork();
  if (c == 0) {
    check(setgroups(0, NULL) == 0 && setresgid(1000, 1000, 1000) == 0 && setresuid(1000, 1000, 1000) == 0, "becoming uid 1000");
    check(prctl(PR_SET_DUMPABLE, 1) == 0, "PR_SET_DUMPABLE");
    check(unshare(CLONE_NEWUSER) == 0, "unshare");
    check(!strcmp(write_once("/proc/self/uid_map", "0 1000 1"), "ok") && !strcmp(write_once("/proc/self/setgroups", "deny"), "ok") &&
          !strcmp(write_once("/proc/self/gid_map", "0 1000 1"), "ok"), "maps");
    int on = 1;
    check(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0, "SO_PASSCRED");
    check(write(ready[1], "r", 1) == 1, "ready");
    siginfo_t si;
    check(sigwaitinfo(&usr1, &si) == SIGUSR1, "sigwaitinfo");
    say("seen: SIGUSR1 from root outside: si_uid %u", (unsigned)si.si_uid);
    char data[8], ctl[CMSG_SPACE(sizeof(struct ucred))];
    struct iovec iov = { data, sizeof data };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
    check(recvmsg(sv[1], &mh, 0) > 0, "recvmsg");
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    if (cm && cm->cmsg_type == SCM_CREDENTIALS) {
      struct ucred u;
      memcpy(&u, CMSG_DATA(cm), sizeof u);
      say("seen: SCM_CREDENTIALS from root outside: uid %u gid %u", (unsigned)u.uid, (unsigned)u.gid);
    } else say("seen: no SCM_CREDENTIALS");
    struct ucred peer;
    socklen_t len = sizeof peer;
    check(getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0, "SO_PEERCRED");
    say("seen: SO_PEERCRED of root's socket: uid %u gid %u", (unsigned)peer.uid, (unsigned)peer.gid);
    struct shmid_ds ds;
    check(shmctl(rootshm, IPC_STAT, &ds) == 0, "IPC_STAT root's segment");
    say("seen: root's segment: uid %u cuid %u", (unsigned)ds.shm_perm.uid, (unsigned)ds.shm_perm.cuid);
    // An IPC namespace of its own, owned by its user namespace: its objects are its root's.
    check(unshare(CLONE_NEWIPC) == 0, "unshare(CLONE_NEWIPC)");
    int mine = shmget(IPC_PRIVATE, 4096, 0600);
    check(mine >= 0 && shmctl(mine, IPC_STAT, &ds) == 0, "its own segment");
    say("seen: its own segment: uid %u gid %u cuid %u", (unsigned)ds.shm_perm.uid, (unsigned)ds.shm_perm.gid, (unsigned)ds.shm_perm.cuid);
    ds.shm_perm.uid = 5;
    say("seen: IPC_SET uid 5 (unmapped): %s", result(shmctl(mine, IPC_SET, &ds)));
    FILE *f = fopen("/proc/sysvipc/shm", "r");
    char line[512];
    unsigned long fields[16] = {0};
    if (f && fgets(line, sizeof line, f) && fgets(line, sizeof line, f)) {
      // key shmid perms size cpid lpid nattch uid gid cuid cgid ...
      char *p = line;
      for (int i = 0; i < 11; i++) fields[i] = strtoul(p, &p, i == 2 ? 8 : 10);
      say("seen: /proc/sysvipc/shm: uid %lu gid %lu cuid %lu cgid %lu", fields[7], fields[8], fields[9], fields[10]);
    } else say("seen: /proc/sysvipc/shm: no segment");
    if (f) fclose(f);
    say("seen: IPC_RMID its own: %s", result(shmctl(mine, IPC_RMID, NULL)));
    _exit(0);
  }
  char r;
  check(read(ready[0], &r, 1) == 1, "read ready");
  check(kill(c, SIGUSR1) == 0, "kill");
  check(write(sv[0], "m", 1) == 1, "send");
  say("seen part: %d", wait_child(c));
  check(shmctl(rootshm, IPC_RMID, NULL) == 0, "IPC_RMID root's segment");
  close(sv[0]);
  close(sv[1]);
}

int main(int argc, char **argv) {
  if (argc < 2) fail("usage: newuser SCRATCH");
  scratch = argv[1];
  char rootfile[600];
  snprintf(rootfile, sizeof rootfile, "%s/roots", scratch);
  int fd = open(rootfile, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  check(fd >= 0, "create roots");
  close(fd);
  check(chmod(scratch, 0777) == 0, "chmod scratch");
  // uid 1000 must reach the scratch directory: natively it lies in a 0700 temporary
  // directory of the test's, which is made searchable (in a container it is /tmp).
  char parent[600];
  snprintf(parent, sizeof parent, "%s/..", scratch);
  struct stat pst;
  check(stat(parent, &pst) == 0, "stat the scratch's parent");
  if (!(pst.st_mode & S_IXOTH)) check(chmod(parent, (pst.st_mode & 07777) | 0011) == 0, "chmod the scratch's parent");
  pid_t a = fork();
  if (a == 0) {
    as_root();
    _exit(0);
  }
  say("root part: %d", wait_child(a));
  pid_t b = fork();
  if (b == 0) {
    as_user();
    _exit(0);
  }
  say("user part: %d", wait_child(b));
  seen();
  ids("parent");
  say("done");
  return 0;
}
