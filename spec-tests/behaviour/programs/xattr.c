/*
 * xattr: extended attributes of the "user." namespace, in a fresh directory under argv[1]:
 * set, get (the size query with a size of 0, ERANGE for a short buffer), XATTR_CREATE and
 * XATTR_REPLACE, an empty value, list (sorted here: the order is the file system's),
 * remove, a directory's, a symlink's (none: EPERM to set, ENODATA to read), through a
 * descriptor and through a pipe's, another process reading what one set, the argument
 * checks (empty and overlong names, bad flags, oversized values, a namespace that does
 * not exist), and the permission checks of another user (65534): reading needs read
 * permission, writing write permission, a sticky directory's are its owner's to write.
 * Prints one line per case: the results and errno names.
 */
#include "common.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static char dir[4096];

/* at returns dir/name (allocated: the program is short-lived). */
static const char *at(const char *name) {
  char *p;
  check(asprintf(&p, "%s/%s", dir, name) > 0, "asprintf");
  return p;
}

/* res is "ok", a number, or the errno name of a call's result. */
static const char *res(long r) {
  static char buf[4][64];
  static int i;
  i = (i + 1) % 4;
  if (r < 0) return errname(errno);
  snprintf(buf[i], sizeof buf[i], "%ld", r);
  return buf[i];
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* list prints the sorted names listxattr gives for path. */
static void list(const char *what, const char *path) {
  char buf[4096];
  ssize_t n = listxattr(path, buf, sizeof buf);
  if (n < 0) {
    say("%s: list %s", what, errname(errno));
    return;
  }
  char *names[64];
  int k = 0;
  for (char *p = buf; p < buf + n && k < 64; p += strlen(p) + 1) names[k++] = p;
  qsort(names, (size_t)k, sizeof names[0], cmp);
  char line[4096] = "";
  for (int i = 0; i < k; i++) {
    strcat(line, " ");
    strcat(line, names[i]);
  }
  say("%s: list (%d):%s", what, k, line);
}

int main(int argc, char **argv) {
  check(argc == 2, "usage: xattr DIR");
  snprintf(dir, sizeof dir, "%s/xattr-%d", argv[1], getpid());
  check(mkdir(dir, 0777) == 0, "mkdir");
  check(chmod(dir, 0777) == 0, "chmod");
  const char *f = at("f");
  int fd = open(f, O_CREAT | O_RDWR, 0644);
  check(fd >= 0, "create f");
  char buf[2048];

  say("set user.a: %s", res(setxattr(f, "user.a", "hello", 5, 0)));
  say("size of user.a: %s", res(getxattr(f, "user.a", NULL, 0)));
  say("get user.a into 2 bytes: %s", res(getxattr(f, "user.a", buf, 2)));
  ssize_t n = getxattr(f, "user.a", buf, sizeof buf);
  say("get user.a: %s \"%.*s\"", res(n), n > 0 ? (int)n : 0, buf);
  say("get user.missing: %s", res(getxattr(f, "user.missing", buf, sizeof buf)));
  say("XATTR_CREATE user.a: %s", res(setxattr(f, "user.a", "x", 1, XATTR_CREATE)));
  say("XATTR_REPLACE user.b: %s", res(setxattr(f, "user.b", "x", 1, XATTR_REPLACE)));
  say("XATTR_CREATE user.b: %s", res(setxattr(f, "user.b", "world", 5, XATTR_CREATE)));
  say("XATTR_REPLACE user.a: %s", res(setxattr(f, "user.a", "again!", 6, XATTR_REPLACE)));
  n = getxattr(f, "user.a", buf, sizeof buf);
  say("get user.a: %s \"%.*s\"", res(n), n > 0 ? (int)n : 0, buf);
  say("set user.empty to nothing: %s", res(setxattr(f, "user.empty", "", 0, 0)));
  say("get user.empty: %s", res(getxattr(f, "user.empty", buf, sizeof buf)));
  say("XATTR_REPLACE user.empty with nothing: %s", res(setxattr(f, "user.empty", "", 0, XATTR_REPLACE)));
  say("get user.empty: %s", res(getxattr(f, "user.empty", buf, sizeof buf)));
  memset(buf, 'v', 1000);
  say("set a 1000-byte value: %s", res(setxattr(f, "user.big", buf, 1000, 0)));
  say("get it: %s", res(getxattr(f, "user.big", buf, sizeof buf)));
  list("f", f);
  ssize_t need = listxattr(f, NULL, 0);
  say("list size query matches the list: %s", need == listxattr(f, buf, sizeof buf) ? "yes" : "no");
  say("list into 3 bytes: %s", res(listxattr(f, buf, 3)));
  say("remove user.b: %s", res(removexattr(f, "user.b")));
  say("remove user.b again: %s", res(removexattr(f, "user.b")));
  say("remove user.empty: %s, user.big: %s", res(removexattr(f, "user.empty")), res(removexattr(f, "user.big")));
  list("f", f);

  /* Through a descriptor, and what another process sees. */
  say("fsetxattr user.fd: %s", res(fsetxattr(fd, "user.fd", "by fd", 5, 0)));
  n = fgetxattr(fd, "user.fd", buf, sizeof buf);
  say("fgetxattr user.fd: %s \"%.*s\"", res(n), n > 0 ? (int)n : 0, buf);
  say("flistxattr: %s", res(flistxattr(fd, buf, sizeof buf)));
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    ssize_t m = getxattr(f, "user.fd", buf, sizeof buf);
    _exit(m == 5 && memcmp(buf, "by fd", 5) == 0 ? 0 : 1);
  }
  int st;
  check(waitpid(pid, &st, 0) == pid, "waitpid");
  say("another process reads it: %s", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
  say("fremovexattr user.fd: %s", res(fremovexattr(fd, "user.fd")));

  /* A directory has them; a symlink and a pipe have no user attributes. */
  const char *d = at("d");
  check(mkdir(d, 0755) == 0, "mkdir d");
  say("set user.d on a directory: %s", res(setxattr(d, "user.d", "dir", 3, 0)));
  say("get it: %s", res(getxattr(d, "user.d", buf, sizeof buf)));
  const char *l = at("l");
  check(symlink("f", l) == 0, "symlink");
  say("lsetxattr on a symlink: %s", res(lsetxattr(l, "user.l", "x", 1, 0)));
  say("lgetxattr on a symlink: %s", res(lgetxattr(l, "user.a", buf, sizeof buf)));
  say("getxattr through the symlink: %s", res(getxattr(l, "user.a", buf, sizeof buf)));
  say("llistxattr of the symlink: %s", res(llistxattr(l, buf, sizeof buf)));
  int p[2];
  check(pipe(p) == 0, "pipe");
  say("fsetxattr on a pipe: %s", res(fsetxattr(p[0], "user.p", "x", 1, 0)));
  say("fgetxattr on a pipe: %s", res(fgetxattr(p[0], "user.p", buf, sizeof buf)));
  say("flistxattr of a pipe: %s", res(flistxattr(p[0], buf, sizeof buf)));

  /* Argument checks. */
  char longname[300];
  memset(longname, 'n', sizeof longname);
  memcpy(longname, "user.", 5);
  longname[sizeof longname - 1] = 0;
  say("empty name: %s", res(setxattr(f, "", "x", 1, 0)));
  say("a 299-byte name: set %s, get %s", res(setxattr(f, longname, "x", 1, 0)), res(getxattr(f, longname, buf, sizeof buf)));
  say("flags 4: %s", res(setxattr(f, "user.x", "x", 1, 4)));
  say("a value of 65537 bytes: %s", res(syscall(SYS_setxattr, f, "user.x", buf, 65537, 0)));
  say("a namespace that does not exist: set %s, get %s", res(setxattr(f, "nonesuch.x", "x", 1, 0)), res(getxattr(f, "nonesuch.x", buf, sizeof buf)));
  say("a name without a dot: %s", res(setxattr(f, "user", "x", 1, 0)));
  say("a missing file: %s", res(getxattr(at("missing"), "user.a", buf, sizeof buf)));
  say("a bad fd: %s", res(fgetxattr(-1, "user.a", buf, sizeof buf)));
  say("a bad value pointer: %s", res(syscall(SYS_setxattr, f, "user.x", 8L, 4, 0)));
  say("a bad list pointer: %s", res(syscall(SYS_listxattr, f, 8L, 100)));

  /* Another user (through descriptors opened before: the scratch directory's parents may
   * not be searchable for it): root's 0644 file is readable, not writable; 0600 neither,
   * but its names are listed; a sticky directory's attributes are its owner's to write. */
  const char *secret = at("secret");
  int sfd = open(secret, O_CREAT | O_RDONLY, 0600);
  check(sfd >= 0, "create secret");
  check(fsetxattr(sfd, "user.s", "s", 1, 0) == 0, "set user.s");
  const char *sticky = at("sticky");
  check(mkdir(sticky, 0777) == 0 && chmod(sticky, 01777) == 0, "mkdir sticky");
  check(setxattr(sticky, "user.t", "t", 1, 0) == 0, "set user.t");
  int tfd = open(sticky, O_RDONLY | O_DIRECTORY);
  check(tfd >= 0, "open sticky");
  int ffd = open(f, O_RDONLY);
  check(ffd >= 0, "open f");
  pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) {
      say("setuid: %s", errname(errno));
      _exit(1);
    }
    say("nobody: get user.a of a 0644 file: %s", res(fgetxattr(ffd, "user.a", buf, sizeof buf)));
    say("nobody: set user.n on it: %s", res(fsetxattr(ffd, "user.n", "x", 1, 0)));
    say("nobody: remove user.a: %s", res(fremovexattr(ffd, "user.a")));
    say("nobody: get user.s of a 0600 file: %s", res(fgetxattr(sfd, "user.s", buf, sizeof buf)));
    say("nobody: list the 0600 file: %s", res(flistxattr(sfd, buf, sizeof buf)));
    say("nobody: set user.t on a 01777 directory of root: %s", res(fsetxattr(tfd, "user.t", "x", 1, 0)));
    say("nobody: get it: %s", res(fgetxattr(tfd, "user.t", buf, sizeof buf)));
    _exit(0);
  }
  check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "nobody's child");
  say("done");
  return 0;
}
