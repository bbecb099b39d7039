/*
 * mounts.c: mount(2), umount2(2) and pivot_root(2) as root with CAP_SYS_ADMIN, and the
 * mountinfo lines of the mounts it makes. Natively it first enters a private mount
 * namespace (unshare(CLONE_NEWNS), then / made rprivate) so that nothing it mounts is
 * seen outside; in a container it is already in one (where unshare may be missing: its
 * result is not printed).
 *
 * Under the scratch directory B it mounts a tmpfs, binds it, binds a subdirectory,
 * remounts read-only (per mount and per file system), checks noexec (execve EACCES, mmap
 * PROT_EXEC EPERM, mprotect PROT_EXEC EACCES) and nodev (open of /dev/null bound on a nodev mount: EACCES), the EBUSY rules of umount and MNT_DETACH,
 * propagation types, MS_MOVE, rbind, the error cases, and finally pivots into a tmpfs.
 * mountinfo lines are printed with the mount and parent IDs, the device number and the
 * peer group numbers replaced by letters, and B replaced by "$B".
 *
 * Usage: mounts SCRATCH    (or: mounts --child, the program execve'd from the tmpfs)
 */
#include "common.h"

#include <fcntl.h>
#include <dirent.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

static char base[512];

static const char *err(long r) {
  return r == 0 ? "0" : strerrorname_np(errno);
}

static void path(char *out, size_t n, const char *rel) {
  snprintf(out, n, "%s/%s", base, rel);
}

/* show prints the mountinfo line of the mount at B/rel (the last one listed there), its
 * numbers normalised: "ID PARENT DEV root point opts [fields] - type source super". */
static void show(const char *rel) {
  char want[600];
  path(want, sizeof(want), rel);
  FILE *f = fopen("/proc/self/mountinfo", "r");
  if (!f) {
    say("FAIL open mountinfo: %s", strerrorname_np(errno));
    exit(1);
  }
  char line[2048], found[2048] = "";
  while (fgets(line, sizeof(line), f)) {
    char point[1024];
    if (sscanf(line, "%*d %*d %*s %*s %1023s", point) == 1 && strcmp(point, want) == 0) snprintf(found, sizeof(found), "%s", line);
  }
  fclose(f);
  if (!found[0]) {
    say("mountinfo %s: (none)", rel);
    return;
  }
  char root[1024], point[1024], opts[256], rest[1024];
  if (sscanf(found, "%*d %*d %*s %1023s %1023s %255s %1023[^\n]", root, point, opts, rest) != 4) {
    say("FAIL parse %s", found);
    exit(1);
  }
  /* Peer group numbers: shared:N / master:N become shared:G / master:G. */
  char norm[1024] = "", *save = NULL;
  for (char *w = strtok_r(rest, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
    if (strncmp(w, "shared:", 7) == 0) w = "shared:G";
    else if (strncmp(w, "master:", 7) == 0) w = "master:G";
    strcat(norm, " ");
    strcat(norm, w);
  }
  say("mountinfo %s: ID PARENT DEV %s $B/%s %s%s", rel, root, rel, opts, norm);
}

static int touch(const char *rel) {
  char p[600];
  path(p, sizeof(p), rel);
  int fd = open(p, O_CREAT | O_WRONLY, 0644);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

static long do_mount(const char *src, const char *rel, const char *type, unsigned long flags, const char *data) {
  char p[600];
  path(p, sizeof(p), rel);
  return mount(src, p, type, flags, data);
}

static long do_umount(const char *rel, int flags) {
  char p[600];
  path(p, sizeof(p), rel);
  return umount2(p, flags);
}

static void mk(const char *rel) {
  char p[600];
  path(p, sizeof(p), rel);
  if (mkdir(p, 0755) != 0 && errno != EEXIST) {
    say("FAIL mkdir %s: %s", rel, strerrorname_np(errno));
    exit(1);
  }
}

/* copy_self copies this program to B/rel (mode 0755). */
static void copy_self(const char *rel) {
  char p[600];
  path(p, sizeof(p), rel);
  int in = open("/proc/self/exe", O_RDONLY);
  int out = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0755);
  if (in < 0 || out < 0) {
    say("FAIL copy self: %s", strerrorname_np(errno));
    exit(1);
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof(buf))) > 0) {
    if (write(out, buf, (size_t)n) != n) {
      say("FAIL copy write");
      exit(1);
    }
  }
  close(in);
  close(out);
}

/* run_child execve's B/rel --child in a child process; returns its exit status, or
 * 100 + errno of a failed execve. */
static int run_child(const char *rel) {
  char p[600];
  path(p, sizeof(p), rel);
  pid_t pid = fork();
  if (pid == 0) {
    char *argv[] = {p, "--child", NULL};
    execve(p, argv, environ);
    _exit(100 + errno);
  }
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--child") == 0) return 7;
  if (argc != 2) {
    say("usage: mounts SCRATCH");
    return 2;
  }
  if (unshare(CLONE_NEWNS) == 0) mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  snprintf(base, sizeof(base), "%s", argv[1]);

  /* A tmpfs with options. */
  mk("t");
  say("mount tmpfs: %s", err(do_mount("none", "t", "tmpfs", 0, "size=1m,mode=750")));
  char p[600], q[600];
  struct stat st;
  path(p, sizeof(p), "t");
  stat(p, &st);
  say("tmpfs root mode %o", st.st_mode & 07777);
  show("t");
  mk("t/sub");
  say("touch t/f: %d, t/sub/g: %d", touch("t/f"), touch("t/sub/g"));
  struct stat top;
  path(q, sizeof(q), "t/f");
  stat(q, &top);
  say("st_dev of a tmpfs file equals the mount's: %s", top.st_dev == st.st_dev ? "yes" : "no");

  /* Binds: the whole tmpfs, then a subdirectory (mountinfo's root column). */
  mk("b");
  mk("c");
  path(p, sizeof(p), "t");
  say("bind t on b: %s", err(do_mount(p, "b", NULL, MS_BIND, NULL)));
  show("b");
  path(p, sizeof(p), "t/sub");
  say("bind t/sub on c: %s", err(do_mount(p, "c", NULL, MS_BIND, NULL)));
  show("c");
  path(p, sizeof(p), "c/g");
  say("c/g exists: %s", access(p, F_OK) == 0 ? "yes" : "no");

  /* Remounts: per mount (MS_BIND), then the file system. */
  say("remount b ro (bind): %s", err(do_mount(NULL, "b", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL)));
  show("b");
  say("create in b: %s, in t: %d", touch("b/x") == 0 ? "0" : strerrorname_np(errno), touch("t/x"));
  say("remount t ro: %s", err(do_mount(NULL, "t", NULL, MS_REMOUNT | MS_RDONLY, NULL)));
  show("t");
  show("c");
  say("create in c (file system ro): %s", touch("c/y") == 0 ? "0" : strerrorname_np(errno));
  say("remount t rw: %s", err(do_mount(NULL, "t", NULL, MS_REMOUNT, NULL)));
  say("create in c: %d", touch("c/y"));

  /* noexec: execve and mmap PROT_EXEC; then exec allowed again. */
  copy_self("t/prog");
  say("remount t noexec: %s", err(do_mount(NULL, "t", NULL, MS_REMOUNT | MS_BIND | MS_NOEXEC, NULL)));
  show("t");
  int r = run_child("t/prog");
  say("execve on noexec: %s", r >= 100 && r < 200 ? strerrorname_np(r - 100) : "ran");
  path(p, sizeof(p), "t/prog");
  int fd = open(p, O_RDONLY);
  void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
  say("mmap PROT_EXEC on noexec: %s", m == MAP_FAILED ? strerrorname_np(errno) : "mapped");
  m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  say("mmap PROT_READ on noexec: %s", m == MAP_FAILED ? strerrorname_np(errno) : "mapped");
  if (m != MAP_FAILED) say("mprotect PROT_EXEC of it: %s", err(mprotect(m, 4096, PROT_READ | PROT_EXEC)));
  close(fd);
  say("remount t exec: %s", err(do_mount(NULL, "t", NULL, MS_REMOUNT | MS_BIND, NULL)));
  say("execve on exec: exit %d", run_child("t/prog"));

  /* nodev: a device node on a nodev tmpfs cannot be opened. */
  mk("d");
  say("mount tmpfs nodev: %s", err(do_mount("none", "d", "tmpfs", MS_NODEV, NULL)));
  show("d");
  /* The device is /dev/null bound on a file (the sandbox makes no device nodes with
   * mknod): its bind mount is not nodev until remounted so. */
  say("touch d/null: %d", touch("d/null"));
  say("bind /dev/null on d/null: %s", err(do_mount("/dev/null", "d/null", NULL, MS_BIND, NULL)));
  path(p, sizeof(p), "d/null");
  fd = open(p, O_RDWR);
  say("open d/null: %s", fd < 0 ? strerrorname_np(errno) : "opened");
  if (fd >= 0) close(fd);
  say("remount d/null nodev (bind): %s", err(do_mount(NULL, "d/null", NULL, MS_REMOUNT | MS_BIND | MS_NODEV, NULL)));
  fd = open(p, O_RDWR);
  say("open d/null on nodev: %s", fd < 0 ? strerrorname_np(errno) : "opened");
  if (fd >= 0) close(fd);
  say("umount d/null: %s", err(do_umount("d/null", 0)));

  /* umount: busy with an open file, a cwd, a mount below; MNT_DETACH; errors. */
  path(p, sizeof(p), "b/f");
  fd = open(p, O_RDONLY);
  say("umount b with a file open: %s", err(do_umount("b", 0)));
  say("umount b MNT_FORCE: %s", err(do_umount("b", MNT_FORCE)));
  say("umount b MNT_DETACH: %s", err(do_umount("b", MNT_DETACH)));
  say("fstat of the file still open: %s", fstat(fd, &st) == 0 ? "0" : strerrorname_np(errno));
  close(fd);
  show("b");
  path(p, sizeof(p), "c");
  if (chdir(p) != 0) say("FAIL chdir c");
  say("umount c as cwd: %s", err(do_umount("c", 0)));
  if (chdir(base) != 0) say("FAIL chdir base");
  say("umount c: %s", err(do_umount("c", 0)));
  show("c");
  mk("t/sub2");
  say("mount tmpfs on t/sub2: %s", err(do_mount("none", "t/sub2", "tmpfs", 0, NULL)));
  say("umount t with a mount below: %s", err(do_umount("t", 0)));
  say("umount t/sub (not a mount point): %s", err(do_umount("t/sub", 0)));
  say("umount missing: %s", err(do_umount("missing", 0)));
  say("umount2 bad flags: %s", err(do_umount("t/sub2", 0x100)));
  say("umount2 MNT_EXPIRE|MNT_DETACH: %s", err(do_umount("t/sub2", MNT_EXPIRE | MNT_DETACH)));
  mk("lnk-target");
  path(p, sizeof(p), "t/sub2");
  path(q, sizeof(q), "lnk");
  if (symlink(p, q) != 0) say("FAIL symlink");
  say("umount lnk UMOUNT_NOFOLLOW: %s", err(do_umount("lnk", UMOUNT_NOFOLLOW)));
  say("umount lnk (followed): %s", err(do_umount("lnk", 0)));
  show("t/sub2");
  say("mount tmpfs on t/sub2 again: %s", err(do_mount("none", "t/sub2", "tmpfs", 0, NULL)));

  /* mount(2) errors. */
  say("mount nosuchfs: %s", err(do_mount("none", "d", "nosuchfs", 0, NULL)));
  say("mount tmpfs bogus option: %s", err(do_mount("none", "d", "tmpfs", 0, "bogus=1")));
  say("bind missing source: %s", err(do_mount("/nonexistent-mounts-test", "d", NULL, MS_BIND, NULL)));
  say("mount tmpfs on a file: %s", err(do_mount("none", "t/f", "tmpfs", 0, NULL)));
  say("mount on missing target: %s", err(do_mount("none", "missing", "tmpfs", 0, NULL)));
  say("two propagation types: %s", err(do_mount(NULL, "t", NULL, MS_SHARED | MS_PRIVATE, NULL)));
  say("propagation of a non-mount-point: %s", err(do_mount(NULL, "t/sub", NULL, MS_PRIVATE, NULL)));
  say("remount of a non-mount-point: %s", err(do_mount(NULL, "t/sub", NULL, MS_REMOUNT, NULL)));

  /* Propagation types, shown in mountinfo. */
  say("make t shared: %s", err(do_mount(NULL, "t", NULL, MS_SHARED, NULL)));
  show("t");
  mk("s");
  path(p, sizeof(p), "t");
  say("bind shared t on s: %s", err(do_mount(p, "s", NULL, MS_BIND, NULL)));
  show("s");
  /* A mount under one peer appears under the other, and goes with it. */
  mk("t/sub3");
  say("mount tmpfs on t/sub3: %s", err(do_mount("prop", "t/sub3", "tmpfs", 0, NULL)));
  show("t/sub3");
  show("s/sub3");
  say("umount t/sub3: %s", err(do_umount("t/sub3", 0)));
  show("s/sub3");
  say("make s slave: %s", err(do_mount(NULL, "s", NULL, MS_SLAVE, NULL)));
  show("s");
  /* A slave receives from its master, not the other way. */
  mk("t/sub4");
  mk("t/sub5");
  say("mount tmpfs on t/sub4: %s", err(do_mount("prop", "t/sub4", "tmpfs", 0, NULL)));
  show("t/sub4");
  show("s/sub4");
  say("mount tmpfs on s/sub5: %s", err(do_mount("prop", "s/sub5", "tmpfs", 0, NULL)));
  show("s/sub5");
  show("t/sub5");
  say("umount t/sub4: %s, s/sub5: %s", err(do_umount("t/sub4", 0)), err(do_umount("s/sub5", 0)));
  show("s/sub4");
  say("make t private: %s", err(do_mount(NULL, "t", NULL, MS_PRIVATE, NULL)));
  show("t");
  say("make t unbindable: %s", err(do_mount(NULL, "t", NULL, MS_UNBINDABLE, NULL)));
  show("t");
  mk("u");
  say("bind unbindable t: %s", err(do_mount(p, "u", NULL, MS_BIND, NULL)));
  say("make t private again: %s", err(do_mount(NULL, "t", NULL, MS_PRIVATE, NULL)));

  /* MS_MOVE and rbind. */
  mk("m1");
  mk("m2");
  say("mount tmpfs on m1: %s", err(do_mount("moved", "m1", "tmpfs", 0, NULL)));
  path(p, sizeof(p), "m1");
  say("move m1 to m2: %s", err(do_mount(p, "m2", NULL, MS_MOVE, NULL)));
  show("m1");
  show("m2");
  mk("r");
  path(p, sizeof(p), "t");
  say("rbind t on r: %s", err(do_mount(p, "r", NULL, MS_BIND | MS_REC, NULL)));
  show("r");
  show("r/sub2");
  mk("r2");
  say("bind (not rec) t on r2: %s", err(do_mount(p, "r2", NULL, MS_BIND, NULL)));
  show("r2/sub2");

  /* pivot_root into a tmpfs, the old root detached. */
  mk("p");
  say("mount tmpfs on p: %s", err(do_mount("none", "p", "tmpfs", 0, NULL)));
  mk("p/old");
  path(p, sizeof(p), "p/old");
  say("pivot_root to a non-mount-point: %s", err(syscall(SYS_pivot_root, p, p)));
  path(p, sizeof(p), "p");
  if (chdir(p) != 0) say("FAIL chdir p");
  say("pivot_root with put_old outside: %s", err(syscall(SYS_pivot_root, ".", "/")));
  say("pivot_root: %s", err(syscall(SYS_pivot_root, ".", "old")));
  char cwd[256];
  say("cwd: %s", getcwd(cwd, sizeof(cwd)) ? cwd : strerrorname_np(errno));
  say("old root has the scratch: %s", access("/old", F_OK) == 0 ? "yes" : "no");
  say("umount old MNT_DETACH: %s", err(umount2("/old", MNT_DETACH)));
  DIR *dir = opendir("/");
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      say("/ has %s", e->d_name);
      n++;
    }
  }
  closedir(dir);
  say("entries in new /: %d", n);
  say("/old is empty: %s", rmdir("/old") == 0 ? "yes" : strerrorname_np(errno));

  /* runc's idiom: pivot_root(".", ".") stacks the old root on the new one, and
   * umount2(".", MNT_DETACH) takes it off. */
  if (mkdir("/q", 0755) != 0) say("FAIL mkdir /q");
  say("mount tmpfs on /q: %s", err(mount("q", "/q", "tmpfs", 0, NULL)));
  if (chdir("/q") != 0) say("FAIL chdir /q");
  say("pivot_root(., .): %s", err(syscall(SYS_pivot_root, ".", ".")));
  say("umount2(., MNT_DETACH): %s", err(umount2(".", MNT_DETACH)));
  say("cwd: %s", getcwd(cwd, sizeof(cwd)) ? cwd : strerrorname_np(errno));
  dir = opendir("/");
  n = 0;
  while ((e = readdir(dir)) != NULL) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
  closedir(dir);
  say("entries in the newest /: %d", n);
  say("done");
  return 0;
}
