/*
 * files-legacy: the old path syscalls (open, creat, lstat, mknod, utimes, lchown), the *at
 * family (mkdirat, fchownat, unlinkat, renameat, linkat, symlinkat, readlinkat, fchmodat,
 * fchmodat2, faccessat), the vectored and descriptor calls (readv, writev, preadv,
 * pwritev, fstat, fstatfs, fchmod, fchdir, fsync, syncfs, sync), getdents and chroot, each called
 * as the raw syscall (glibc would use another one: open() is openat, lstat is
 * newfstatat), with its results and its error answers.
 *
 * Works in a fresh subdirectory of argv[1] and removes it at the end. The container runs
 * as root with CAP_CHOWN, CAP_SETUID, CAP_SETGID, CAP_MKNOD and CAP_SYS_CHROOT (the test
 * grants them, so that root behaves as it does natively); the checks that need an
 * unprivileged caller run in a forked child that became uid/gid 65534.
 */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static long sys_open(const char *p, int flags, int mode) { return syscall(SYS_open, p, flags, mode); }

/* raw_lstat is lstat(2) itself (glibc's lstat() calls newfstatat). */
static long raw_lstat(const char *p, struct stat *s) { return syscall(SYS_lstat, p, s); }

/* raw_fstat is fstat(2) itself. */
static long raw_fstat(int fd, struct stat *s) { return syscall(SYS_fstat, fd, s); }

static unsigned mode_of(const char *p) {
  struct stat s;
  check(raw_lstat(p, &s) == 0, "lstat");
  return s.st_mode & 07777;
}

static const char *type_of(mode_t m) {
  return S_ISREG(m) ? "regular" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink" : S_ISFIFO(m) ? "fifo" : S_ISCHR(m) ? "chardev" : "other";
}

/* as_nobody runs fn in a child that dropped to uid/gid 65534 and returns its exit code. */
static void as_nobody(void (*fn)(void)) {
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) fail("drop to 65534");
    fn();
    _exit(0);
  }
  int st;
  check(waitpid(pid, &st, 0) == pid, "waitpid");
  check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "unprivileged child");
}

static void open_creat(void) {
  long fd = sys_open("a", O_RDWR | O_CREAT | O_EXCL, 0640);
  check(fd >= 0, "open O_CREAT");
  say("open O_CREAT|O_EXCL: ok, mode %o", mode_of("a"));
  say("open O_CREAT|O_EXCL again: %s", result(sys_open("a", O_RDWR | O_CREAT | O_EXCL, 0640)));
  say("open missing: %s", result(sys_open("missing", O_RDONLY, 0)));
  say("open a O_DIRECTORY: %s", result(sys_open("a", O_RDONLY | O_DIRECTORY, 0)));
  say("open a/x: %s", result(sys_open("a/x", O_RDONLY, 0)));
  say("open . O_WRONLY: %s", result(sys_open(".", O_WRONLY, 0)));
  say("open with a bad path pointer: %s", result(sys_open((const char *)8, O_RDONLY, 0)));
  close((int)fd);

  long c = syscall(SYS_creat, "b", 0600);
  check(c >= 0, "creat");
  check(write((int)c, "hello", 5) == 5, "write");
  say("creat b: ok, mode %o, O_WRONLY: %s", mode_of("b"), (fcntl((int)c, F_GETFL) & O_ACCMODE) == O_WRONLY ? "yes" : "no");
  char ch;
  say("read from a creat descriptor: %s", result(read((int)c, &ch, 1)));
  close((int)c);
  c = syscall(SYS_creat, "b", 0600);
  struct stat s;
  check(raw_fstat((int)c, &s) == 0, "fstat");
  say("creat b again truncates: size %lld", (long long)s.st_size);
  close((int)c);
  say("creat on a directory: %s", result(syscall(SYS_creat, ".", 0600)));
  say("creat in a missing directory: %s", result(syscall(SYS_creat, "nodir/f", 0600)));
}

static void vectored(void) {
  int fd = (int)sys_open("v", O_RDWR | O_CREAT | O_TRUNC, 0644);
  check(fd >= 0, "open v");
  struct iovec w[3] = {{"abc", 3}, {"", 0}, {"defgh", 5}};
  say("writev 3 buffers: %ld", syscall(SYS_writev, fd, w, 3));
  check(lseek(fd, 0, SEEK_SET) == 0, "lseek");
  char a[2], b[10] = {0};
  struct iovec r[2] = {{a, 2}, {b, sizeof(b) - 1}};
  long n = syscall(SYS_readv, fd, r, 2);
  say("readv 2 buffers: %ld '%.2s' '%s'", n, a, b);
  say("readv at the end: %ld", syscall(SYS_readv, fd, r, 2));
  say("readv with iovcnt -1: %s", result(syscall(SYS_readv, fd, r, -1)));
  say("readv with iovcnt 1025: %s", result(syscall(SYS_readv, fd, r, 1025)));
  say("readv on a bad fd: %s", result(syscall(SYS_readv, 99, r, 2)));
  say("writev on a bad fd: %s", result(syscall(SYS_writev, 99, w, 3)));
  say("readv 0 buffers: %ld", syscall(SYS_readv, fd, r, 0));

  struct iovec pw[2] = {{"XY", 2}, {"Z", 1}};
  say("pwritev at 20: %ld", syscall(SYS_pwritev, fd, pw, 2, 20L, 0L));
  struct stat s;
  check(raw_fstat(fd, &s) == 0, "fstat");
  say("size after pwritev: %lld, offset still %lld", (long long)s.st_size, (long long)lseek(fd, 0, SEEK_CUR));
  char p1[3] = {0}, p2[4] = {0};
  struct iovec pr[2] = {{p1, 2}, {p2, 3}};
  n = syscall(SYS_preadv, fd, pr, 2, 1L, 0L);
  say("preadv at 1: %ld '%s' '%s'", n, p1, p2);
  char hole[2] = {1, 1};
  struct iovec ph[1] = {{hole, 2}};
  n = syscall(SYS_preadv, fd, ph, 1, 10L, 0L);
  say("preadv in the hole: %ld bytes, zeros: %s", n, hole[0] == 0 && hole[1] == 0 ? "yes" : "no");
  say("preadv at -1: %s", result(syscall(SYS_preadv, fd, pr, 2, -1L, -1L)));
  int p[2];
  check(pipe(p) == 0, "pipe");
  say("preadv on a pipe: %s", result(syscall(SYS_preadv, p[0], pr, 2, 0L, 0L)));
  say("pwritev on a pipe: %s", result(syscall(SYS_pwritev, p[1], pw, 2, 0L, 0L)));
  say("pwritev on a bad fd: %s", result(syscall(SYS_pwritev, 99, pw, 2, 0L, 0L)));

  // fstat, fsync, syncfs, fstatfs on files and pipes.
  check(raw_fstat(p[0], &s) == 0, "fstat pipe");
  say("fstat pipe: %s", type_of(s.st_mode));
  say("fstat bad fd: %s", result(raw_fstat(99, &s)));
  say("fsync file: %s", result(syscall(SYS_fsync, fd)));
  say("fsync pipe: %s", result(syscall(SYS_fsync, p[0])));
  say("fsync bad fd: %s", result(syscall(SYS_fsync, 99)));
  say("syncfs file: %s", result(syscall(SYS_syncfs, fd)));
  say("syncfs bad fd: %s", result(syscall(SYS_syncfs, 99)));
  say("sync: %ld", syscall(SYS_sync));
  struct statfs fs;
  long rs = syscall(SYS_fstatfs, fd, &fs);
  say("fstatfs file: %s, block size > 0: %s, name length %ld", result(rs), fs.f_bsize > 0 ? "yes" : "no", (long)fs.f_namelen);
  rs = syscall(SYS_fstatfs, p[0], &fs);
  say("fstatfs pipe: %s, pipefs: %s", result(rs), fs.f_type == 0x50495045 ? "yes" : "no");
  say("fstatfs bad fd: %s", result(syscall(SYS_fstatfs, 99, &fs)));
  close(p[0]);
  close(p[1]);

  {

    const char *res = result(syscall(SYS_fchmod, fd, 0604));

    say("fchmod 0604: %s, mode %o", res, mode_of("v"));

  }
  {
    const char *res = result(syscall(SYS_fchmod, fd, 0170755));
    say("fchmod keeps only 07777: %s, mode %o", res, mode_of("v"));
  }
  say("fchmod bad fd: %s", result(syscall(SYS_fchmod, 99, 0600)));
  close(fd);
}

static void nobody_checks(void) {
  int fd = open("v", O_RDONLY);
  check(fd >= 0, "open v as nobody");
  say("nobody: fchmod of root's file: %s", result(syscall(SYS_fchmod, fd, 0666)));
  close(fd);
  say("nobody: lchown of root's link: %s", result(syscall(SYS_lchown, "l", 0, 0)));
  say("nobody: fchownat of root's file: %s", result(syscall(SYS_fchownat, AT_FDCWD, "v", 65534, -1, 0)));
  say("nobody: fchmodat of root's file: %s", result(syscall(SYS_fchmodat, AT_FDCWD, "v", 0666)));
  say("nobody: faccessat R_OK on mode 600: %s", result(syscall(SYS_faccessat, AT_FDCWD, "secret", R_OK)));
  say("nobody: faccessat F_OK on mode 600: %s", result(syscall(SYS_faccessat, AT_FDCWD, "secret", F_OK)));
  say("nobody: mknod a char device: %s", result(syscall(SYS_mknod, "pub/null2", S_IFCHR | 0666, makedev(1, 3))));
  say("nobody: mknod a fifo: %s", result(syscall(SYS_mknod, "pub/fifo", S_IFIFO | 0666, 0)));
  say("nobody: mkdirat in a 1777 directory: %s", result(syscall(SYS_mkdirat, AT_FDCWD, "pub/nd", 0755)));
  say("nobody: unlinkat its fifo: %s", result(syscall(SYS_unlinkat, AT_FDCWD, "pub/fifo", 0)));
  say("nobody: unlinkat its directory: %s", result(syscall(SYS_unlinkat, AT_FDCWD, "pub/nd", AT_REMOVEDIR)));
  say("nobody: chroot: %s", result(syscall(SYS_chroot, ".")));
  say("nobody: chroot to a missing directory: %s", result(syscall(SYS_chroot, "missing")));
  say("nobody: chroot to a file: %s", result(syscall(SYS_chroot, "v")));
  say("nobody: utimes with explicit times on root's file: %s", result(syscall(SYS_utimes, "v", (struct timeval[2]){{1, 0}, {2, 0}})));
  say("nobody: unlinkat in root's 755 directory: %s", result(syscall(SYS_unlinkat, AT_FDCWD, "v", 0)));
  say("nobody: mkdirat in root's 755 directory: %s", result(syscall(SYS_mkdirat, AT_FDCWD, "nd", 0755)));
}

static void legacy_paths(void) {
  check(symlink("v", "l") == 0, "symlink");
  struct stat s;
  check(raw_lstat("l", &s) == 0, "lstat l");
  say("lstat symlink: %s, size %lld", type_of(s.st_mode), (long long)s.st_size);
  say("lstat missing: %s", result(raw_lstat("missing", &s)));
  say("lstat through a file: %s", result(raw_lstat("v/x", &s)));

  say("lchown link to 65534: %s", result(syscall(SYS_lchown, "l", 65534, 65534)));
  check(raw_lstat("l", &s) == 0, "lstat l");
  struct stat t;
  check(stat("v", &t) == 0, "stat v");
  say("link owner %u:%u, target owner %u:%u", s.st_uid, s.st_gid, t.st_uid, t.st_gid);
  say("lchown -1 -1: %s", result(syscall(SYS_lchown, "l", -1, -1)));
  say("lchown missing: %s", result(syscall(SYS_lchown, "missing", 0, 0)));

  say("mknod fifo: %s", result(syscall(SYS_mknod, "fifo", S_IFIFO | 0644, 0)));
  check(raw_lstat("fifo", &s) == 0, "lstat fifo");
  say("fifo is %s, mode %o", type_of(s.st_mode), s.st_mode & 07777);
  say("mknod with type 0: %s", result(syscall(SYS_mknod, "plain", 0644, 0)));
  check(raw_lstat("plain", &s) == 0, "lstat plain");
  say("plain is %s", type_of(s.st_mode));
  say("mknod S_IFREG existing: %s", result(syscall(SYS_mknod, "plain", S_IFREG | 0644, 0)));
  say("mknod S_IFDIR: %s", result(syscall(SYS_mknod, "dir", S_IFDIR | 0755, 0)));
  say("mknod bad type: %s", result(syscall(SYS_mknod, "bad", 0110000 | 0644, 0)));
  say("mknod in a missing directory: %s", result(syscall(SYS_mknod, "nodir/f", S_IFIFO | 0644, 0)));

  struct timeval tv[2] = {{1000, 500000}, {2000, 0}};
  say("utimes: %s", result(syscall(SYS_utimes, "v", tv)));
  check(stat("v", &s) == 0, "stat v");
  say("atime %lld.%09ld mtime %lld.%09ld", (long long)s.st_atim.tv_sec, s.st_atim.tv_nsec, (long long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
  {
    const char *res = result(syscall(SYS_utimes, "v", NULL));
    say("utimes NULL: %s, mtime now later: %s", res, stat("v", &s) == 0 && s.st_mtim.tv_sec > 2000 ? "yes" : "no");
  }
  struct timeval bad[2] = {{0, 1000000}, {0, 0}};
  say("utimes usec 1000000: %s", result(syscall(SYS_utimes, "v", bad)));
  struct timeval neg[2] = {{0, -1}, {0, 0}};
  say("utimes usec -1: %s", result(syscall(SYS_utimes, "v", neg)));
  say("utimes missing: %s", result(syscall(SYS_utimes, "missing", tv)));
}

static void at_family(void) {
  check(mkdir("top", 0755) == 0, "mkdir top");
  int dfd = open("top", O_RDONLY | O_DIRECTORY);
  check(dfd >= 0, "open top");
  say("mkdirat: %s", result(syscall(SYS_mkdirat, dfd, "d", 0750)));
  say("mkdirat mode %o", mode_of("top/d"));
  say("mkdirat again: %s", result(syscall(SYS_mkdirat, dfd, "d", 0750)));
  say("mkdirat bad dirfd: %s", result(syscall(SYS_mkdirat, 99, "d2", 0755)));
  int ffd = (int)sys_open("v", O_RDONLY, 0);
  say("mkdirat relative to a file: %s", result(syscall(SYS_mkdirat, ffd, "d2", 0755)));
  say("mkdirat AT_FDCWD: %s", result(syscall(SYS_mkdirat, AT_FDCWD, "top/e", 0755)));

  int wfd = open("top/f", O_WRONLY | O_CREAT, 0644);
  check(wfd >= 0 && write(wfd, "data", 4) == 4, "write top/f");
  close(wfd);
  say("symlinkat: %s", result(syscall(SYS_symlinkat, "f", dfd, "sl")));
  say("symlinkat existing: %s", result(syscall(SYS_symlinkat, "f", dfd, "sl")));
  say("symlinkat empty target: %s", result(syscall(SYS_symlinkat, "", dfd, "sl2")));
  char buf[16] = {0};
  long n = syscall(SYS_readlinkat, dfd, "sl", buf, sizeof(buf));
  say("readlinkat: %ld '%.*s'", n, (int)(n > 0 ? n : 0), buf);
  memset(buf, 0, sizeof(buf));
  check(syscall(SYS_symlinkat, "longer-target", dfd, "sl3") == 0, "symlinkat sl3");
  n = syscall(SYS_readlinkat, dfd, "sl3", buf, 3);
  say("readlinkat into 3 bytes: %ld '%s'", n, buf);
  say("readlinkat of a file: %s", result(syscall(SYS_readlinkat, dfd, "f", buf, sizeof(buf))));
  say("readlinkat with size 0: %s", result(syscall(SYS_readlinkat, dfd, "sl", buf, 0)));
  say("readlinkat missing: %s", result(syscall(SYS_readlinkat, dfd, "none", buf, sizeof(buf))));

  say("linkat: %s", result(syscall(SYS_linkat, dfd, "f", dfd, "g", 0)));
  struct stat s;
  check(fstatat(dfd, "f", &s, 0) == 0, "stat f");
  say("f links: %lu", (unsigned long)s.st_nlink);
  say("linkat existing: %s", result(syscall(SYS_linkat, dfd, "f", dfd, "g", 0)));
  say("linkat bad flags: %s", result(syscall(SYS_linkat, dfd, "f", dfd, "h", 0x1)));
  say("linkat of a directory: %s", result(syscall(SYS_linkat, dfd, "d", dfd, "dl", 0)));
  say("linkat symlink itself: %s", result(syscall(SYS_linkat, dfd, "sl", dfd, "sl-hard", 0)));
  check(fstatat(dfd, "sl-hard", &s, AT_SYMLINK_NOFOLLOW) == 0, "lstat sl-hard");
  say("sl-hard is %s", type_of(s.st_mode));
  say("linkat AT_SYMLINK_FOLLOW: %s", result(syscall(SYS_linkat, dfd, "sl", dfd, "followed", AT_SYMLINK_FOLLOW)));
  check(fstatat(dfd, "followed", &s, AT_SYMLINK_NOFOLLOW) == 0, "lstat followed");
  say("followed is %s, links %lu", type_of(s.st_mode), (unsigned long)s.st_nlink);
  say("linkat missing: %s", result(syscall(SYS_linkat, dfd, "none", dfd, "x", 0)));

  say("renameat: %s", result(syscall(SYS_renameat, dfd, "g", AT_FDCWD, "moved")));
  say("renameat source gone: %s", result(syscall(SYS_renameat, dfd, "g", dfd, "x")));
  say("renameat file over a directory: %s", result(syscall(SYS_renameat, AT_FDCWD, "moved", dfd, "d")));
  say("renameat directory into itself: %s", result(syscall(SYS_renameat, dfd, "d", dfd, "d/sub")));
  say("renameat bad dirfd: %s", result(syscall(SYS_renameat, 99, "moved", dfd, "x")));

  say("fchownat -1 -1: %s", result(syscall(SYS_fchownat, dfd, "f", -1, -1, 0)));
  say("fchownat NOFOLLOW on a symlink: %s", result(syscall(SYS_fchownat, dfd, "sl", 7, 8, AT_SYMLINK_NOFOLLOW)));
  struct stat t;
  check(fstatat(dfd, "sl", &s, AT_SYMLINK_NOFOLLOW) == 0 && fstatat(dfd, "f", &t, 0) == 0, "stat sl f");
  say("sl owner %u:%u, f owner %u:%u", s.st_uid, s.st_gid, t.st_uid, t.st_gid);
  say("fchownat following: %s", result(syscall(SYS_fchownat, dfd, "sl", 9, -1, 0)));
  check(fstatat(dfd, "f", &t, 0) == 0, "stat f");
  say("f owner %u:%u", t.st_uid, t.st_gid);
  int fd = openat(dfd, "f", O_RDONLY);
  say("fchownat AT_EMPTY_PATH: %s", result(syscall(SYS_fchownat, fd, "", 0, 0, AT_EMPTY_PATH)));
  check(fstatat(dfd, "f", &t, 0) == 0, "stat f");
  say("f owner %u:%u", t.st_uid, t.st_gid);
  say("fchownat empty path without the flag: %s", result(syscall(SYS_fchownat, fd, "", 0, 0, 0)));
  say("fchownat bad flags: %s", result(syscall(SYS_fchownat, dfd, "f", 0, 0, 0x2)));
  close(fd);

  {

    const char *res = result(syscall(SYS_fchmodat, dfd, "f", 0600));

    say("fchmodat: %s, mode %o", res, mode_of("top/f"));

  }
  {
    const char *res = result(syscall(SYS_fchmodat, dfd, "sl", 0640));
    say("fchmodat through a symlink: %s, target mode %o", res, mode_of("top/f"));
  }
  say("fchmodat missing: %s", result(syscall(SYS_fchmodat, dfd, "none", 0600)));
  {
    const char *res = result(syscall(SYS_fchmodat2, dfd, "f", 0604, 0));
    say("fchmodat2 flags 0: %s, mode %o", res, mode_of("top/f"));
  }
  say("fchmodat2 NOFOLLOW on a symlink: %s", result(syscall(SYS_fchmodat2, dfd, "sl", 0600, AT_SYMLINK_NOFOLLOW)));
  {
    const char *res = result(syscall(SYS_fchmodat2, dfd, "f", 0644, AT_SYMLINK_NOFOLLOW));
    say("fchmodat2 NOFOLLOW on a file: %s, mode %o", res, mode_of("top/f"));
  }
  fd = openat(dfd, "f", O_RDONLY);
  {
    const char *res = result(syscall(SYS_fchmodat2, fd, "", 0600, AT_EMPTY_PATH));
    say("fchmodat2 AT_EMPTY_PATH: %s, mode %o", res, mode_of("top/f"));
  }
  close(fd);
  say("fchmodat2 bad flags: %s", result(syscall(SYS_fchmodat2, dfd, "f", 0600, 0x2)));

  say("faccessat R_OK|W_OK: %s", result(syscall(SYS_faccessat, dfd, "f", R_OK | W_OK)));
  say("faccessat X_OK on mode 600 as root: %s", result(syscall(SYS_faccessat, dfd, "f", X_OK)));
  say("faccessat X_OK on a directory: %s", result(syscall(SYS_faccessat, dfd, "d", X_OK)));
  say("faccessat bad mode: %s", result(syscall(SYS_faccessat, dfd, "f", 8)));
  say("faccessat missing: %s", result(syscall(SYS_faccessat, dfd, "none", F_OK)));
  say("faccessat dangling symlink: %s", result(syscall(SYS_faccessat, dfd, "sl3", F_OK)));

  say("unlinkat file: %s", result(syscall(SYS_unlinkat, dfd, "followed", 0)));
  say("unlinkat directory without AT_REMOVEDIR: %s", result(syscall(SYS_unlinkat, dfd, "d", 0)));
  say("unlinkat file with AT_REMOVEDIR: %s", result(syscall(SYS_unlinkat, dfd, "f", AT_REMOVEDIR)));
  say("unlinkat bad flags: %s", result(syscall(SYS_unlinkat, dfd, "f", 0x1)));
  check(mkdirat(dfd, "d/inner", 0755) == 0, "mkdir d/inner");
  say("unlinkat non-empty directory: %s", result(syscall(SYS_unlinkat, dfd, "d", AT_REMOVEDIR)));
  say("unlinkat d/inner: %s", result(syscall(SYS_unlinkat, dfd, "d/inner", AT_REMOVEDIR)));
  say("unlinkat d: %s", result(syscall(SYS_unlinkat, dfd, "d", AT_REMOVEDIR)));
  say("unlinkat missing: %s", result(syscall(SYS_unlinkat, dfd, "none", 0)));
  say("unlinkat bad dirfd: %s", result(syscall(SYS_unlinkat, 99, "f", 0)));
  close(ffd);
  close(dfd);
}

static void fchdir_chroot(void) {
  int dfd = open("top", O_RDONLY | O_DIRECTORY);
  check(dfd >= 0, "open top");
  say("fchdir: %s", result(syscall(SYS_fchdir, dfd)));
  struct stat s;
  say("after fchdir, f is visible: %s", raw_lstat("f", &s) == 0 ? "yes" : "no");
  say("fchdir back with ..: %s", result(chdir("..")));
  int ffd = open("v", O_RDONLY);
  say("fchdir to a file: %s", result(syscall(SYS_fchdir, ffd)));
  say("fchdir bad fd: %s", result(syscall(SYS_fchdir, 99)));
  close(ffd);
  close(dfd);

  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    say("chroot top: %s", result(syscall(SYS_chroot, "top")));
    say("chroot, cwd unchanged: v still visible: %s", raw_lstat("v", &s) == 0 ? "yes" : "no");
    check(chdir("/") == 0, "chdir /");
    say("in the new root, /f exists: %s, /v exists: %s", raw_lstat("/f", &s) == 0 ? "yes" : "no", raw_lstat("/v", &s) == 0 ? "yes" : "no");
    say("/.. is /: %s", raw_lstat("/../f", &s) == 0 ? "yes" : "no");
    _exit(0);
  }
  int st;
  check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "chroot child");
  say("chroot missing: %s", result(syscall(SYS_chroot, "missing")));
  say("chroot to a file: %s", result(syscall(SYS_chroot, "v")));
}

static void cleanup(void) {
  const char *files[] = {"top/f", "top/sl", "top/sl3", "top/sl-hard", "moved", "a", "b", "v", "l", "fifo", "plain", "secret", NULL};
  for (int i = 0; files[i]; i++) unlink(files[i]);
  rmdir("top/e");
  rmdir("top");
}

/* entry_cmp orders directory entry names for printing. */
static int entry_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* old_getdents lists a directory with getdents(2), the call before getdents64 (struct
 * linux_dirent: the name at 18, the type in the record's last byte), and checks that it
 * names what getdents64 names. LeakSanitizer's thread lister and static programs use it. */
static void old_getdents(void) {
  check(mkdir("gd", 0755) == 0 && mkdir("gd/c", 0755) == 0 && symlink("a", "gd/d") == 0, "make gd");
  close(open("gd/a", O_WRONLY | O_CREAT, 0644));
  close(open("gd/bb", O_WRONLY | O_CREAT, 0644));
  int fd = open("gd", O_RDONLY | O_DIRECTORY);
  check(fd >= 0, "open gd");
  static char buf[4096], buf64[4096];
  char *names[16], *names64[16];
  int n = 0, n64 = 0, aligned = 1;
  long got = syscall(SYS_getdents, fd, buf, sizeof buf);
  check(got > 0, "getdents gd");
  for (long off = 0; off < got && n < 16;) {
    unsigned short reclen = *(unsigned short *)(buf + off + 16);
    if (reclen % 8 != 0 || *(unsigned long *)(buf + off + 8) == 0) aligned = 0;
    char *name = buf + off + 18;
    unsigned char type = (unsigned char)buf[off + reclen - 1];
    if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
      static char text[16][64];
      snprintf(text[n], sizeof text[n], "%s:%s", name, type == DT_DIR ? "dir" : type == DT_LNK ? "lnk" : type == DT_REG ? "reg" : "?");
      names[n] = text[n];
      n++;
    }
    off += reclen;
  }
  say("getdents at the end: %s", result(syscall(SYS_getdents, fd, buf, sizeof buf)));
  check(lseek(fd, 0, SEEK_SET) == 0, "rewind gd");
  say("getdents into 10 bytes: %s", result(syscall(SYS_getdents, fd, buf, 10)));
  long got64 = syscall(SYS_getdents64, fd, buf64, sizeof buf64);
  check(got64 > 0, "getdents64 gd");
  for (long off = 0; off < got64 && n64 < 16;) {
    unsigned short reclen = *(unsigned short *)(buf64 + off + 16);
    char *name = buf64 + off + 19;
    if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) names64[n64++] = name;
    off += reclen;
  }
  close(fd);
  qsort(names, n, sizeof *names, entry_cmp);
  qsort(names64, n64, sizeof *names64, entry_cmp);
  char line[512] = "";
  for (int i = 0; i < n; i++) snprintf(line + strlen(line), sizeof line - strlen(line), " %s", names[i]);
  say("getdents:%s (records 8-aligned with offsets: %s)", line, aligned ? "yes" : "no");
  int same = n == n64;
  for (int i = 0; same && i < n; i++) same = strncmp(names[i], names64[i], strlen(names64[i])) == 0 && names[i][strlen(names64[i])] == ':';
  say("getdents names what getdents64 names: %s", same ? "yes" : "no");
  int ffd = open("gd/a", O_RDONLY);
  check(ffd >= 0, "open gd/a");
  say("getdents of a file: %s", result(syscall(SYS_getdents, ffd, buf, sizeof buf)));
  close(ffd);
  unlink("gd/a");
  unlink("gd/bb");
  unlink("gd/d");
  rmdir("gd/c");
  check(rmdir("gd") == 0, "rmdir gd");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    say("usage: files-legacy DIR");
    return 2;
  }
  umask(022);
  check(chdir(argv[1]) == 0, "chdir");
  check(mkdir("legacy-work", 0755) == 0, "mkdir legacy-work");
  check(chdir("legacy-work") == 0, "chdir legacy-work");
  open_creat();
  vectored();
  old_getdents();
  legacy_paths();
  int sfd = open("secret", O_WRONLY | O_CREAT, 0600);
  check(sfd >= 0, "create secret");
  close(sfd);
  at_family();
  check(mkdir("pub", 0755) == 0 && chmod("pub", 01777) == 0, "mkdir pub");
  as_nobody(nobody_checks);
  unlink("pub/null2");
  check(rmdir("pub") == 0, "rmdir pub");
  fchdir_chroot();
  cleanup();
  check(chdir("..") == 0, "chdir ..");
  say("rmdir legacy-work: %s", result(rmdir("legacy-work")));
  say("done");
  return 0;
}
