/*
 * mntns.c: mount namespaces (CLONE_NEWNS) as root with CAP_SYS_ADMIN: unshare and
 * setns, what each namespace sees of the other's mounts (read from the mountinfo of a
 * "watcher" process left in each namespace, /proc/<pid>/mountinfo), propagation between
 * namespaces through shared and slave peer groups, two levels deep, of a whole rbind
 * tree and of a moved mount, MS_PRIVATE, and the errors. Natively it first enters a private mount namespace (unshare, then /
 * rprivate), so that nothing it mounts is seen outside; a container does the same (the
 * result is not printed).
 *
 * Under the scratch directory B: a tmpfs "top" (private), in it the tmpfs mounts s, p
 * and v, each made shared. Namespace O is where it starts, N1 the first unshare's, N2 a
 * second unshare's from N1. mountinfo lines are printed with numbers normalised ("G" for
 * a peer group), as mounts.c does.
 *
 * Usage: mntns SCRATCH
 */
#include "common.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static char base[512];

static const char *err(long r) {
  return r == 0 ? "0" : strerrorname_np(errno);
}

static void path(char *out, size_t n, const char *rel) {
  snprintf(out, n, "%s/%s", base, rel);
}

/* line finds the mountinfo line of the mount at B/rel (the last listed there) in
 * /proc/<pid>/mountinfo (pid 0: self); "" when there is none. */
static void line(int pid, const char *rel, char *found, size_t n) {
  char want[600], file[64];
  path(want, sizeof(want), rel);
  if (pid) snprintf(file, sizeof(file), "/proc/%d/mountinfo", pid);
  else snprintf(file, sizeof(file), "/proc/self/mountinfo");
  FILE *f = fopen(file, "r");
  if (!f) fail("open mountinfo");
  char l[2048];
  found[0] = 0;
  while (fgets(l, sizeof(l), f)) {
    char point[1024];
    if (sscanf(l, "%*d %*d %*s %*s %1023s", point) == 1 && strcmp(point, want) == 0) snprintf(found, n, "%s", l);
  }
  fclose(f);
}

/* show prints "<who> sees <rel>: <opts> <optional fields> - <type> <source>" with the
 * peer group numbers as G, or "(none)". */
static void show(const char *who, int pid, const char *rel) {
  char found[2048];
  line(pid, rel, found, sizeof(found));
  if (!found[0]) {
    say("%s sees %s: (none)", who, rel);
    return;
  }
  char opts[256], rest[1024];
  if (sscanf(found, "%*d %*d %*s %*s %*s %255s %1023[^\n]", opts, rest) != 2) fail("parse mountinfo");
  char norm[1024] = "", *save = NULL;
  int dash = 0;
  for (char *w = strtok_r(rest, " ", &save); w && dash < 3; w = strtok_r(NULL, " ", &save)) {
    if (dash) dash++;
    if (strcmp(w, "-") == 0) dash = 1;
    if (strncmp(w, "shared:", 7) == 0) w = "shared:G";
    else if (strncmp(w, "master:", 7) == 0) w = "master:G";
    strcat(norm, " ");
    strcat(norm, w);
  }
  say("%s sees %s: %s%s", who, rel, opts, norm);
}

/* group returns the number after `key` ("shared:" or "master:") in the mountinfo line of
 * B/rel for pid, or -1. */
static long group(int pid, const char *rel, const char *key) {
  char found[2048];
  line(pid, rel, found, sizeof(found));
  char *p = strstr(found, key);
  return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

static void mnt(const char *rel, const char *source) {
  char p[600];
  path(p, sizeof(p), rel);
  if (mount(source, p, "tmpfs", 0, NULL) != 0) fail(rel);
}

static void mkd(const char *rel) {
  char p[600];
  path(p, sizeof(p), rel);
  if (mkdir(p, 0755) != 0 && errno != EEXIST) fail(rel);
}

static long propagation(const char *rel, unsigned long flags) {
  char p[600];
  path(p, sizeof(p), rel);
  return mount(NULL, p, NULL, flags, NULL);
}

/* watcher forks a process that stays in the caller's namespace until killed. */
static int watcher(void) {
  int pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    for (;;) pause();
  }
  return pid;
}

static int nsfd(void) {
  int fd = open("/proc/self/ns/mnt", O_RDONLY);
  if (fd < 0) fail("open /proc/self/ns/mnt");
  return fd;
}

static void link_of(int pid, char *out, size_t n) {
  char p[64];
  if (pid) snprintf(p, sizeof(p), "/proc/%d/ns/mnt", pid);
  else snprintf(p, sizeof(p), "/proc/self/ns/mnt");
  ssize_t r = readlink(p, out, n - 1);
  if (r < 0) fail("readlink ns/mnt");
  out[r] = 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    say("usage: mntns SCRATCH");
    return 2;
  }
  snprintf(base, sizeof(base), "%s", argv[1]);
  if (unshare(CLONE_NEWNS) == 0) mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  if (mount("top", base, "tmpfs", 0, NULL) != 0) fail("mount top");
  mkd("s"), mkd("p"), mkd("v"), mkd("t");
  mnt("s", "s"), mnt("p", "p"), mnt("v", "v");
  if (propagation("s", MS_SHARED) || propagation("p", MS_SHARED) || propagation("v", MS_SHARED)) fail("MS_SHARED");
  mkd("s/x"), mkd("s/y"), mkd("p/x"), mkd("v/x"), mkd("v/y"), mkd("v/z"), mkd("v/w");

  int w0 = watcher(), fd0 = nsfd();
  char l0[128], l1[128];
  link_of(0, l0, sizeof(l0));
  say("unshare(CLONE_NEWNS): %s", err(unshare(CLONE_NEWNS)));
  link_of(0, l1, sizeof(l1));
  say("/proc/self/ns/mnt changed: %s", strcmp(l0, l1) != 0 ? "yes" : "no");
  link_of(w0, l1, sizeof(l1));
  say("the watcher's is the old one: %s", strcmp(l0, l1) == 0 ? "yes" : "no");
  char cwd[600];
  say("cwd after unshare: %s", getcwd(cwd, sizeof(cwd)) ? "kept" : strerrorname_np(errno));
  show("N1", 0, "s");
  say("the copy of s is in O's peer group: %s", group(0, "s", "shared:") == group(w0, "s", "shared:") ? "yes" : "no");
  say("the copy of s has a new mount ID: %s", group(0, "s", "") != group(w0, "s", "") ? "yes" : "no");

  /* A tmpfs on a private mount: only N1 sees it. */
  mnt("t", "t");
  show("N1", 0, "t");
  show("O", w0, "t");
  /* Under a shared mount: both see it, as peers. */
  mnt("s/x", "sx");
  show("N1", 0, "s/x");
  show("O", w0, "s/x");
  say("the copy in O is a peer: %s", group(0, "s/x", "shared:") == group(w0, "s/x", "shared:") ? "yes" : "no");
  /* MS_PRIVATE stops it. */
  say("MS_PRIVATE p: %s", err(propagation("p", MS_PRIVATE)));
  mnt("p/x", "px");
  show("N1", 0, "p");
  show("N1", 0, "p/x");
  show("O", w0, "p/x");
  /* A slave receives from its master and sends nothing back. */
  say("MS_SLAVE v: %s", err(propagation("v", MS_SLAVE)));
  show("N1", 0, "v");
  mnt("v/x", "vx");
  show("O", w0, "v/x");

  int w1 = watcher(), fd1 = nsfd();
  say("setns(O's file, CLONE_NEWNS): %s", err(setns(fd0, CLONE_NEWNS)));
  link_of(0, l1, sizeof(l1));
  say("back in O: %s", strcmp(l0, l1) == 0 ? "yes" : "no");
  say("cwd after setns: %s", getcwd(cwd, sizeof(cwd)) ? cwd : strerrorname_np(errno));
  show("O", 0, "t");
  mnt("s/y", "sy");
  show("N1", w1, "s/y");
  mnt("v/y", "vy");
  show("N1", w1, "v/y");

  /* Two levels: N1's v made shared too (a slave of O's and shared), N2 copied from N1. */
  say("setns(N1's file, 0): %s", err(setns(fd1, 0)));
  say("MS_SHARED v in N1: %s", err(propagation("v", MS_SHARED)));
  show("N1", 0, "v");
  say("unshare(CLONE_NEWNS) again: %s", err(unshare(CLONE_NEWNS)));
  int w2 = watcher();
  show("N2", 0, "v");
  say("setns(O's file, 0): %s", err(setns(fd0, 0)));
  mnt("v/z", "vz");
  show("N1", w1, "v/z");
  show("N2", w2, "v/z");
  say("N1's and N2's copies are peers: %s", group(w1, "v/z", "shared:") == group(w2, "v/z", "shared:") ? "yes" : "no");
  say("slaves of O's: %s", group(w1, "v/z", "master:") == group(0, "v/z", "shared:") ? "yes" : "no");
  say("setns(N1's file, 0): %s", err(setns(fd1, 0)));
  mnt("v/w", "vw");
  show("N2", w2, "v/w");
  show("O", w0, "v/w");

  /* A umount goes with its copies too. */
  char p[600];
  say("setns(O's file, 0): %s", err(setns(fd0, 0)));
  path(p, sizeof(p), "v/z");
  say("umount v/z in O: %s", err(umount2(p, 0)));
  show("N1", w1, "v/z");
  show("N2", w2, "v/z");

  /* A tree bound (rbind) or moved under a shared mount reaches its peer whole. */
  mkd("s/r"), mkd("s/m"), mkd("t2"), mkd("mv");
  mnt("t2", "t2");
  mkd("t2/in");
  mnt("t2/in", "t2in");
  mnt("mv", "mv");
  char from[600], to[600];
  path(from, sizeof(from), "t2"), path(to, sizeof(to), "s/r");
  say("rbind t2 on s/r: %s", err(mount(from, to, NULL, MS_BIND | MS_REC, NULL)));
  show("N1", w1, "s/r");
  show("N1", w1, "s/r/in");
  path(from, sizeof(from), "mv"), path(to, sizeof(to), "s/m");
  say("move mv to s/m: %s", err(mount(from, to, NULL, MS_MOVE, NULL)));
  show("N1", w1, "s/m");

  /* Errors. */
  int null = open("/dev/null", O_RDONLY);
  say("setns(/dev/null, CLONE_NEWNS): %s", err(setns(null, CLONE_NEWNS)));
  say("setns(a mnt file, CLONE_NEWUTS): %s", err(setns(fd0, CLONE_NEWUTS)));
  say("clone(CLONE_NEWNS|CLONE_FS): %s", err(syscall(SYS_clone, CLONE_NEWNS | CLONE_FS | SIGCHLD, 0, 0, 0, 0)));
  say("setns(fd1, 0): %s", err(setns(fd1, 0)));
  path(p, sizeof(p), "t");
  int tfd = open(p, O_RDONLY | O_DIRECTORY);
  if (tfd < 0) fail("open t");
  say("setns(O's file, 0): %s", err(setns(fd0, 0)));
  char viafd[64];
  snprintf(viafd, sizeof(viafd), "/proc/self/fd/%d", tfd);
  say("umount of N1's t through a descriptor: %s", err(umount2(viafd, 0)));
  say("mount on N1's t through a descriptor: %s", err(mount("x", viafd, "tmpfs", 0, NULL)));
  say("bind from N1's t through a descriptor: %s", err(mount(viafd, base, NULL, MS_BIND, NULL)));
  close(tfd);

  /* A child made with clone(CLONE_NEWNS) mounts for itself only. */
  int pid = (int)syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) fail("clone(CLONE_NEWNS)");
  if (pid == 0) {
    char mine[128];
    link_of(0, mine, sizeof(mine));
    mkd("c");
    mnt("c", "c");
    _exit(strcmp(mine, l0) != 0 ? 0 : 1);
  }
  int st;
  if (waitpid(pid, &st, 0) != pid) fail("waitpid");
  say("clone(CLONE_NEWNS) child in a new namespace: %s", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
  show("O", 0, "c");

  /* Without CAP_SYS_ADMIN. */
  pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) fail("setuid");
    say("unprivileged setns(mnt): %s", err(setns(fd1, CLONE_NEWNS)));
    say("unprivileged unshare(CLONE_NEWNS): %s", err(unshare(CLONE_NEWNS)));
    _exit(0);
  }
  if (waitpid(pid, &st, 0) != pid) fail("waitpid");

  kill(w0, SIGKILL), kill(w1, SIGKILL), kill(w2, SIGKILL);
  waitpid(w0, NULL, 0), waitpid(w1, NULL, 0), waitpid(w2, NULL, 0);
  say("done");
  return 0;
}
