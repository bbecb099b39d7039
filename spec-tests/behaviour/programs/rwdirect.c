/*
 * rwdirect: read(2), write(2) and their vectored forms on a regular file in DIR, where
 * the kernel moves the data straight between the file and the caller's memory:
 *   rwdirect DIR
 * - a 40 MiB file written in blocks of 3 MiB + 517 bytes and read back in blocks of
 *   1 MiB + 7 (and with pread at odd offsets), every byte checked;
 * - writev and readv of 1024 iovecs of different lengths (some empty);
 * - a read into a buffer whose last page is unmapped: the bytes before it, then EFAULT
 *   with the file offset unchanged; a write from it likewise; readv with an unmapped
 *   iovec in the middle;
 * - after fork, a read into private pages both processes share (in the child, then in
 *   the parent): the other process keeps its bytes;
 * - writev with O_APPEND, and a file read into and written from its own MAP_SHARED
 *   mapping (the mapping and read() agree).
 * Prints deterministic lines only.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

#define MIB (1L << 20)
#define PG 4096L

/* pattern is the byte the big file holds at `pos`. */
static unsigned char pattern(long pos) {
  return (unsigned char)(pos * 31 + (pos >> 13) + 7);
}

/* bigFile writes and reads back a 40 MiB file in odd block sizes. */
static void bigFile(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/rwdirect-big", dir);
  long total = 40 * MIB + 12345, wblock = 3 * MIB + 517, rblock = MIB + 7;
  unsigned char *buf = malloc(wblock + 64);
  check(buf, "malloc");
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0, "open big");
  long done = 0, writes = 0;
  while (done < total) {
    long n = total - done < wblock ? total - done : wblock;
    unsigned char *p = buf + 3; /* not page-aligned */
    for (long i = 0; i < n; i++) p[i] = pattern(done + i);
    ssize_t w = write(fd, p, (size_t)n);
    check(w == n, "big write");
    done += w;
    writes++;
  }
  say("big write: %ld bytes in %ld writes", done, writes);
  check(lseek(fd, 0, SEEK_SET) == 0, "lseek");
  long bad = 0, reads = 0;
  done = 0;
  for (;;) {
    ssize_t r = read(fd, buf + 5, (size_t)rblock);
    check(r >= 0, "big read");
    if (r == 0) break;
    for (long i = 0; i < r; i++) bad += buf[5 + i] != pattern(done + i);
    done += r;
    reads++;
  }
  say("big read: %ld bytes in %ld reads, %ld bytes differ", done, reads, bad);
  /* pread at odd offsets across the file, each 2 MiB + 1. */
  bad = 0;
  long preads = 0;
  for (long at = 12345; at < total; at += 7 * MIB + 3) {
    long want = 2 * MIB + 1;
    ssize_t r = pread(fd, buf + 1, (size_t)want, at);
    long expect = total - at < want ? total - at : want;
    check(r == expect, "big pread");
    for (long i = 0; i < r; i++) bad += buf[1 + i] != pattern(at + i);
    preads++;
  }
  say("big pread: %ld reads, %ld bytes differ", preads, bad);
  close(fd);
  unlink(path);
  free(buf);
}

/* manyIovecs writes with 1024 iovecs and reads back with 1024 others. */
static void manyIovecs(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/rwdirect-iov", dir);
  enum { N = 1024 };
  static struct iovec iov[N];
  unsigned char *src = malloc(4 * MIB), *dst = malloc(4 * MIB);
  check(src && dst, "malloc");
  long total = 0;
  for (int i = 0; i < N; i++) {
    long len = (i % 9 == 4) ? 0 : (long)(i * 37 % 3001 + 1);
    iov[i].iov_base = src + total;
    iov[i].iov_len = (size_t)len;
    for (long k = 0; k < len; k++) src[total + k] = pattern(total + k);
    total += len;
  }
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0, "open iov");
  ssize_t w = writev(fd, iov, N);
  say("writev of %d iovecs: %zd of %ld bytes", N, w, total);
  /* Read back with other lengths, into a buffer in pieces in reverse order. */
  long got = 0;
  for (int i = 0; i < N; i++) {
    long len = (long)(i * 53 % 2011 + 1);
    iov[i].iov_len = (size_t)len;
    got += len;
  }
  long at = got;
  for (int i = 0; i < N; i++) {
    at -= (long)iov[i].iov_len;
    iov[i].iov_base = dst + at;
  }
  memset(dst, 0, 4 * MIB);
  ssize_t r = preadv(fd, iov, N, 0);
  long expect = got < total ? got : total;
  long bad = 0, pos = 0;
  for (int i = 0; i < N && pos < r; i++) {
    unsigned char *b = iov[i].iov_base;
    for (size_t k = 0; k < iov[i].iov_len && pos < r; k++, pos++) bad += b[k] != pattern(pos);
  }
  say("preadv of %d iovecs: %s, %ld bytes differ", N, r == expect ? "all the file's bytes" : "short", bad);
  close(fd);
  unlink(path);
  free(src);
  free(dst);
}

/* faults reads and writes with buffers that end in, or hold, an unmapped page. */
static void faults(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/rwdirect-fault", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0, "open fault");
  static unsigned char data[4 * PG];
  memset(data, 'f', sizeof data);
  check(write(fd, data, sizeof data) == (ssize_t)sizeof data, "write fault file");
  unsigned char *p = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(p != MAP_FAILED, "mmap");
  check(munmap(p + 2 * PG, PG) == 0, "munmap");
  check(lseek(fd, 0, SEEK_SET) == 0, "lseek");
  ssize_t r = read(fd, p, 3 * PG);
  say("read of 3 pages into 2 mapped + 1 unmapped: %zd, offset %ld", r, (long)lseek(fd, 0, SEEK_CUR));
  errno = 0;
  r = read(fd, p + 2 * PG, PG);
  say("read into the unmapped page: %zd %s, offset %ld", r, errname(errno), (long)lseek(fd, 0, SEEK_CUR));
  errno = 0;
  r = pread(fd, p + 2 * PG, PG, 4 * PG);
  say("pread at the end of the file into the unmapped page: %zd %s", r, errname(errno));
  errno = 0;
  r = pread(fd, p + PG + 100, 2 * PG, 0);
  say("pread straddling into it: %zd %s", r, errname(errno));
  int count = 0;
  for (long i = 0; i < 2 * PG; i++) count += p[i] == 'f';
  say("bytes read into the mapped pages: %d", count);
  memset(p, 'w', 2 * PG);
  check(ftruncate(fd, 0) == 0, "ftruncate");
  errno = 0;
  r = pwrite(fd, p + PG, 2 * PG, 0);
  say("pwrite of 1 mapped + 1 unmapped page: %zd %s", r, errname(errno));
  check(lseek(fd, 0, SEEK_SET) == 0, "lseek");
  errno = 0;
  r = write(fd, p + 2 * PG, PG);
  say("write from the unmapped page: %zd %s", r, errname(errno));
  struct iovec iov[3] = {{p, 100}, {p + 2 * PG, 10}, {p + 200, 10}};
  check(lseek(fd, 0, SEEK_SET) == 0, "lseek");
  errno = 0;
  r = readv(fd, iov, 3);
  say("readv with the unmapped page as iovec 2: %zd %s", r, errname(errno));
  errno = 0;
  r = writev(fd, iov, 3);
  say("writev likewise: %zd %s", r, errname(errno));
  struct stat st;
  check(fstat(fd, &st) == 0, "fstat");
  say("file size after the writes: %ld", (long)st.st_size);
  close(fd);
  unlink(path);
  munmap(p, 2 * PG);
}

/* afterFork reads into pages a fork left shared, in the child and then in the parent. */
static void afterFork(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/rwdirect-fork", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0, "open fork");
  static unsigned char data[64 * 1024];
  memset(data, 'C', sizeof data);
  check(write(fd, data, sizeof data) == (ssize_t)sizeof data, "write fork file");
  unsigned char *p = mmap(NULL, 256 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(p != MAP_FAILED, "mmap");
  memset(p, 'P', 256 * 1024);
  int go[2];
  check(pipe(go) == 0, "pipe");
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    /* The child reads into the shared pages, then (told by the parent) checks its own. */
    ssize_t r = pread(fd, p + 1000, sizeof data, 0);
    int seen = 0;
    for (long i = 0; i < 256 * 1024; i++) seen += p[i] == 'C';
    char c;
    if (read(go[0], &c, 1) != 1) _exit(2);
    int kept = 0;
    for (long i = 0; i < 256 * 1024; i++) kept += p[i] == (i >= 1000 && i < 1000 + (long)sizeof data ? 'C' : 'P');
    _exit(r == (ssize_t)sizeof data && seen == (int)sizeof data && kept == 256 * 1024 ? 0 : 1);
  }
  /* The parent reads into the same pages while the child still shares its copy. */
  struct iovec iov[2] = {{p + 100000, 30000}, {p + 200000, 30000}};
  ssize_t r = preadv(fd, iov, 2, 0);
  check(write(go[1], "x", 1) == 1, "write pipe");
  int status;
  check(waitpid(pid, &status, 0) == pid, "waitpid");
  say("child read into pages shared since the fork: exit %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  long changed = 0;
  for (long i = 0; i < 256 * 1024; i++) {
    int mine = (i >= 100000 && i < 130000) || (i >= 200000 && i < 230000);
    changed += p[i] != (mine ? 'C' : 'P');
  }
  say("parent's preadv into them: %zd; bytes not as the parent left them: %ld", r, changed);
  close(fd);
  unlink(path);
}

/* appendAndMapped: writev with O_APPEND; read() and write() of a file mapped MAP_SHARED,
 * the buffer being that mapping itself. */
static void appendAndMapped(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/rwdirect-map", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
  check(fd >= 0, "open map");
  static char a[3 * PG], b[PG];
  memset(a, 'a', sizeof a);
  memset(b, 'b', sizeof b);
  struct iovec iov[3] = {{a, 5000}, {b, 100}, {a, 3 * PG - 5000}};
  check(pwrite(fd, a, 10, 0) == 10, "pwrite");
  check(lseek(fd, 0, SEEK_SET) == 0, "lseek");
  ssize_t w = writev(fd, iov, 3);
  say("O_APPEND writev: %zd, offset %ld", w, (long)lseek(fd, 0, SEEK_CUR));
  long size = 10 + w;
  char *m = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  check(m != MAP_FAILED, "mmap shared");
  say("the mapping sees the appended bytes: %s", m[10 + 5000] == 'b' && m[10 + 5100] == 'a' ? "yes" : "no");
  /* The file read into its own mapping (ranges apart), and written from it. */
  m[0] = 'X';
  ssize_t r = pread(fd, m + 2 * PG, 200, 4950);
  say("pread into its own mapping: %zd, the appended 'b' at 60: %s", r, m[2 * PG + 59] == 'a' && m[2 * PG + 60] == 'b' ? "yes" : "no");
  /* pwrite on an O_APPEND file appends, whatever the offset (pwrite(2) BUGS). */
  w = pwrite(fd, m, 100, 0);
  struct stat st;
  check(fstat(fd, &st) == 0, "fstat");
  char tail[100];
  check(pread(fd, tail, sizeof tail, size) == (ssize_t)sizeof tail, "pread tail");
  say("pwrite from its own mapping with O_APPEND: %zd, size %ld, appended the mapping's first bytes: %s", w, (long)st.st_size,
      memcmp(tail, m, 100) == 0 && tail[0] == 'X' ? "yes" : "no");
  say("the first byte is still 'X': %s", m[0] == 'X' ? "yes" : "no");
  munmap(m, 4 * PG);
  close(fd);
  unlink(path);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    say("usage: rwdirect DIR");
    return 2;
  }
  bigFile(argv[1]);
  manyIovecs(argv[1]);
  faults(argv[1]);
  afterFork(argv[1]);
  appendAndMapped(argv[1]);
  say("done");
  return 0;
}
