/*
 * opath: open(2) with O_PATH in the directory given as argv[1] (tmpfs or a bind mount)
 * opens nothing: a symlink with O_NOFOLLOW gives a descriptor of the link itself (tar and
 * glibc's fchmodat(AT_SYMLINK_NOFOLLOW) depend on it), a FIFO with no partner returns at
 * once, O_CREAT is ignored; the descriptor serves fstat, fstatat/readlinkat/fchownat with
 * AT_EMPTY_PATH, fchdir, openat as a dirfd and a reopen through /proc/self/fd, while
 * read, write, lseek, getdents, fsync, ftruncate and fchmod answer EBADF.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *res(long r) {
  static char buf[64];
  if (r >= 0) return "ok";
  switch (errno) {
  case EBADF: return "EBADF";
  case ELOOP: return "ELOOP";
  case ENOENT: return "ENOENT";
  case ENOTDIR: return "ENOTDIR";
  case EISDIR: return "EISDIR";
  default: snprintf(buf, sizeof buf, "errno %d", errno); return buf;
  }
}

static const char *kind(mode_t m) {
  return S_ISLNK(m) ? "symlink" : S_ISFIFO(m) ? "FIFO" : S_ISDIR(m) ? "directory" : S_ISREG(m) ? "regular" : "other";
}

int main(int argc, char **argv) {
  if (argc < 2 || chdir(argv[1]) != 0) { perror("chdir"); return 1; }
  mkdir("opath", 0755);
  if (chdir("opath") != 0) { perror("chdir opath"); return 1; }
  int f = open("file", O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (f < 0 || write(f, "content\n", 8) != 8) { perror("file"); return 1; }
  close(f);
  if (symlink("file", "link") != 0 || symlink("nowhere", "dangling") != 0 || mkfifo("fifo", 0644) != 0 || mkdir("dir", 0755) != 0) { perror("setup"); return 1; }

  struct stat st;
  int l = open("link", O_PATH | O_NOFOLLOW);
  printf("O_PATH|O_NOFOLLOW of a symlink: %s\n", res(l));
  if (l >= 0) {
    const char *how = res(fstat(l, &st));
    printf("  fstat: %s %s\n", how, kind(st.st_mode));
    printf("  F_GETFL: %#o\n", fcntl(l, F_GETFL));
    char target[64] = {0};
    ssize_t n = readlinkat(l, "", target, sizeof target - 1);
    printf("  readlinkat(fd, \"\"): %s %s\n", res(n), target);
    memset(&st, 0, sizeof st);
    how = res(fstatat(l, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
    printf("  fstatat AT_EMPTY_PATH: %s %s\n", how, kind(st.st_mode));
    printf("  fchownat AT_EMPTY_PATH: %s\n", res(fchownat(l, "", getuid(), getgid(), AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)));
    char buf[8];
    printf("  read: %s\n", res(read(l, buf, sizeof buf)));
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", l);
    n = readlink(proc, target, sizeof target - 1);
    printf("  /proc/self/fd link ends with: %s\n", n > 0 && (target[n] = 0, strstr(target, "/opath/link") != NULL) ? "/opath/link" : target);
    close(l);
  }
  printf("O_PATH|O_NOFOLLOW of a dangling symlink: %s\n", res(l = open("dangling", O_PATH | O_NOFOLLOW)));
  if (l >= 0) close(l);
  printf("O_PATH of a dangling symlink (followed): %s\n", res(open("dangling", O_PATH)));
  printf("O_RDONLY|O_NOFOLLOW of a symlink: %s\n", res(open("link", O_RDONLY | O_NOFOLLOW)));
  printf("O_PATH|O_NOFOLLOW|O_DIRECTORY of a symlink: %s\n", res(open("link", O_PATH | O_NOFOLLOW | O_DIRECTORY)));

  int p = open("fifo", O_PATH);
  printf("O_PATH of a FIFO with no writer: %s\n", res(p));
  if (p >= 0) {
    const char *how = res(fstat(p, &st));
    printf("  fstat: %s %s\n", how, kind(st.st_mode));
    char buf[8];
    printf("  read: %s\n", res(read(p, buf, sizeof buf)));
    close(p);
  }

  int r = open("file", O_PATH);
  printf("O_PATH of a regular file: %s\n", res(r));
  if (r >= 0) {
    char buf[16] = {0};
    printf("  read: %s\n", res(read(r, buf, sizeof buf)));
    printf("  write: %s\n", res(write(r, "x", 1)));
    printf("  pread: %s\n", res(pread(r, buf, sizeof buf, 0)));
    printf("  lseek: %s\n", res(lseek(r, 0, SEEK_SET)));
    printf("  fsync: %s\n", res(fsync(r)));
    printf("  ftruncate: %s\n", res(ftruncate(r, 0)));
    printf("  fchmod: %s\n", res(fchmod(r, 0600)));
    const char *how = res(fstat(r, &st));
    printf("  fstat: %s size %lld\n", how, (long long)st.st_size);
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", r);
    int again = open(proc, O_RDONLY);
    printf("  reopened O_RDONLY through /proc/self/fd: %s\n", res(again));
    if (again >= 0) {
      ssize_t n = read(again, buf, sizeof buf - 1);
      printf("  read: %zd \"%.7s\"\n", n, buf);
      close(again);
    }
    close(r);
  }
  printf("O_PATH|O_CREAT of a missing file: %s\n", res(open("missing", O_PATH | O_CREAT, 0644)));
  printf("  missing exists after: %s\n", res(stat("missing", &st)));
  int tr = open("file", O_PATH | O_TRUNC | O_WRONLY);
  stat("file", &st);
  printf("O_PATH|O_TRUNC|O_WRONLY: %s, size after %lld\n", res(tr), (long long)st.st_size);
  if (tr >= 0) close(tr);

  int d = open("dir", O_PATH | O_DIRECTORY);
  printf("O_PATH of a directory: %s\n", res(d));
  if (d >= 0) {
    char dents[256];
    printf("  getdents64: %s\n", res(syscall(SYS_getdents64, d, dents, sizeof dents)));
    int c = openat(d, "inside", O_CREAT | O_WRONLY, 0644);
    printf("  openat(fd, \"inside\", O_CREAT): %s\n", res(c));
    if (c >= 0) close(c);
    printf("  fchdir: %s\n", res(fchdir(d)));
    printf("  stat inside after fchdir: %s\n", res(stat("inside", &st)));
    close(d);
  }
  printf("done\n");
  return 0;
}
