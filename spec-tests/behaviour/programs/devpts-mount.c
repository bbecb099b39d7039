/*
 * devpts-mount.c: a devpts instance mounted by the application, as bubblewrap's --dev
 * mounts one: as uid 1000 in a user and mount namespace of its own, a tmpfs with a devpts
 * under it ("newinstance,ptmxmode=0666,mode=620"). argv[1] is a scratch directory. Run as
 * root with CAP_SETUID and CAP_SETGID (to become uid 1000); natively as root.
 *
 * It shows the instance's owners and modes (root dir, ptmx, a slave), its numbering (a
 * second instance starts at 0 too; max= bounds its pairs), a pair made through it carrying
 * bytes, the slave as a new session's controlling terminal (/dev/tty), the options its
 * super block shows, and the options mount refuses (a bad mode, an unknown word, an
 * unmapped gid).
 */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

static char mnt[600];

/* node prints a file's type, permission bits, owner and (for a device) its numbers. */
static void node(const char *what, const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    say("stat %s: %s", what, errname(errno));
    return;
  }
  char kind = S_ISDIR(st.st_mode) ? 'd' : S_ISCHR(st.st_mode) ? 'c' : '?';
  if (S_ISCHR(st.st_mode))
    say("stat %s: %c %03o uid %u gid %u rdev %u:%u", what, kind, st.st_mode & 07777, (unsigned)st.st_uid, (unsigned)st.st_gid,
        major(st.st_rdev), minor(st.st_rdev));
  else
    say("stat %s: %c %03o uid %u gid %u", what, kind, st.st_mode & 07777, (unsigned)st.st_uid, (unsigned)st.st_gid);
}

/* list prints a directory's names, sorted, without . and .. */
static void list(const char *what, const char *path) {
  struct dirent **names;
  int n = scandir(path, &names, NULL, alphasort);
  if (n < 0) {
    say("list %s: %s", what, errname(errno));
    return;
  }
  char out[512] = "";
  for (int i = 0; i < n; i++) {
    if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
      if (out[0]) strncat(out, " ", sizeof(out) - strlen(out) - 1);
      strncat(out, names[i]->d_name, sizeof(out) - strlen(out) - 1);
    }
    free(names[i]);
  }
  free(names);
  say("list %s: %s", what, out);
}

/* superOptions prints the file system type and super block options mountinfo shows for
 * the mount at `dir` (the part after " - "). */
static void superOptions(const char *what, const char *dir) {
  FILE *f = fopen("/proc/self/mountinfo", "r");
  if (!f) fail("open mountinfo");
  char line[1024], found[512] = "none";
  size_t len = strlen(dir);
  while (fgets(line, sizeof line, f)) {
    // Fields: id parent dev root mountpoint ...; the mount point is the fifth.
    char *p = line;
    for (int i = 0; i < 4 && p; i++) p = strchr(p, ' '), p = p ? p + 1 : NULL;
    if (!p || strncmp(p, dir, len) != 0 || p[len] != ' ') continue;
    char *dash = strstr(p, " - ");
    if (!dash) continue;
    snprintf(found, sizeof found, "%s", dash + 3);
    found[strcspn(found, "\n")] = 0;
  }
  fclose(f);
  say("mountinfo %s: %s", what, found);
}

/* ptyIndex opens a ptmx and prints the pair's number; it returns the master (or -1). */
static int openPtmx(const char *what, const char *path) {
  int m = open(path, O_RDWR | O_NOCTTY);
  if (m < 0) {
    say("open %s: %s", what, errname(errno));
    return -1;
  }
  unsigned n = 12345;
  int r = ioctl(m, TIOCGPTN, &n);
  say("open %s: ok, TIOCGPTN %s %u", what, result(r), n);
  return m;
}

static int wait_child(pid_t pid) {
  int st;
  if (waitpid(pid, &st, 0) != pid) fail("waitpid");
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void as_user(void) {
  char pts[700], pts2[700], path[800];
  snprintf(pts, sizeof pts, "%s/pts", mnt);
  snprintf(pts2, sizeof pts2, "%s/pts2", mnt);
  check(setgroups(0, NULL) == 0 && setresgid(1000, 1000, 1000) == 0 && setresuid(1000, 1000, 1000) == 0, "becoming uid 1000");
  check(prctl(PR_SET_DUMPABLE, 1) == 0, "PR_SET_DUMPABLE");
  say("unshare(CLONE_NEWUSER | CLONE_NEWNS): %s", result(unshare(CLONE_NEWUSER | CLONE_NEWNS)));
  say("uid_map 0 1000 1: %s", write_once("/proc/self/uid_map", "0 1000 1"));
  say("setgroups deny: %s", write_once("/proc/self/setgroups", "deny"));
  say("gid_map 0 1000 1: %s", write_once("/proc/self/gid_map", "0 1000 1"));
  say("mount tmpfs: %s", result(mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")));
  check(mkdir(pts, 0755) == 0 && mkdir(pts2, 0755) == 0, "mkdir pts");
  say("mount devpts (bubblewrap's options): %s",
      result(mount("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")));
  superOptions("devpts", pts);
  node("its root", pts);
  node("its ptmx", strcat(strcpy(path, pts), "/ptmx"));
  list("it", pts);

  int m = openPtmx("its ptmx", path);
  if (m < 0) return;
  say("unlockpt: %s", result(unlockpt(m)));
  snprintf(path, sizeof path, "%s/0", pts);
  node("its slave 0", path);
  list("it, with a pair", pts);
  int s = open(path, O_RDWR | O_NOCTTY);
  say("open its slave 0: %s", s < 0 ? errname(errno) : "ok");
  if (s >= 0) {
    struct termios t;
    check(tcgetattr(s, &t) == 0, "tcgetattr");
    t.c_lflag &= ~(tcflag_t)ECHO;
    check(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
    check(write(m, "hello\n", 6) == 6, "write the master");
    char buf[32] = "";
    ssize_t n = read(s, buf, sizeof buf - 1);
    if (n > 0) buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    say("the slave read: %zd \"%s\"", n, buf);
    close(s);
  }
  pid_t c = fork();
  if (c == 0) {
    // A session leader without a terminal that opens the slave without O_NOCTTY gets it
    // as its controlling terminal, reached through /dev/tty.
    check(setsid() > 0, "setsid");
    int cs = open(path, O_RDWR);
    int tty = open("/dev/tty", O_RDWR);
    say("new session: open the slave %s, then /dev/tty %s", cs < 0 ? errname(errno) : "ok", tty < 0 ? errname(errno) : "ok");
    _exit(0);
  }
  say("child: %d", wait_child(c));

  say("mount devpts without options: %s", result(mount("devpts", pts2, "devpts", 0, NULL)));
  superOptions("devpts without options", pts2);
  node("its ptmx", strcat(strcpy(path, pts2), "/ptmx"));
  int m2 = openPtmx("its ptmx", path);
  if (m2 >= 0) close(m2);
  say("umount it: %s", result(umount2(pts2, 0)));
  say("mount devpts uid=0,gid=0: %s", result(mount("devpts", pts2, "devpts", 0, "uid=0,gid=0")));
  superOptions("devpts uid=0,gid=0", pts2);
  say("umount it: %s", result(umount2(pts2, 0)));
  say("mount devpts max=1,ptmxmode=666: %s", result(mount("devpts", pts2, "devpts", 0, "max=1,ptmxmode=666")));
  superOptions("devpts max=1", pts2);
  int a = openPtmx("its ptmx, a first pair", path);
  int b = openPtmx("its ptmx, a second pair", path);
  if (a >= 0) close(a);
  if (b >= 0) close(b);
  say("umount it: %s", result(umount2(pts2, 0)));
  say("mount devpts mode=9: %s", result(mount("devpts", pts2, "devpts", 0, "mode=9")));
  say("mount devpts bogus: %s", result(mount("devpts", pts2, "devpts", 0, "newinstance,bogus")));
  say("mount devpts gid=5 (unmapped): %s", result(mount("devpts", pts2, "devpts", 0, "gid=5")));
  close(m);
}

int main(int argc, char **argv) {
  if (argc < 2) fail("usage: devpts-mount SCRATCH");
  snprintf(mnt, sizeof mnt, "%s/mnt", argv[1]);
  check(mkdir(mnt, 0777) == 0 && chmod(mnt, 0777) == 0, "mkdir mnt");
  // uid 1000 must reach the scratch directory: natively it lies in a 0700 temporary
  // directory of the test's, which is made searchable (in a container it is /tmp).
  char parent[600];
  snprintf(parent, sizeof parent, "%s", argv[1]);
  for (int up = 0; up < 2; up++) {
    struct stat pst;
    check(stat(parent, &pst) == 0, "stat the scratch");
    if (!(pst.st_mode & S_IXOTH)) check(chmod(parent, (pst.st_mode & 07777) | 0011) == 0, "chmod the scratch");
    strncat(parent, "/..", sizeof(parent) - strlen(parent) - 1);
  }
  pid_t b = fork();
  if (b == 0) {
    as_user();
    _exit(0);
  }
  say("user part: %d", wait_child(b));
  say("done");
  return 0;
}
