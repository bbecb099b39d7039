/*
 * procio.c: /proc/self/io counts the read and write calls a process makes. Between two
 * snapshots it makes known calls (pipe, /dev/null, /dev/zero, vectored, calls that fail
 * with EAGAIN from the file (a pipe, a timerfd), one refused with EBADF before it, and a
 * child's writes, counted in once the child is reaped) and prints each counter's change. The
 * first snapshot's own read is counted in the second (Linux counts a read after it
 * returns), so its size and one call are taken off. read_bytes and write_bytes are not
 * printed: natively they count block I/O, such as the page faults that bring the
 * program's pages back from disk, which depends on the host's page cache.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/timerfd.h>
#include <sys/uio.h>

struct io {
  long long v[7];
  char names[7][32];
};

/* snap reads /proc/self/io with one read(2) and returns how many bytes it read. */
static long snap(struct io *o) {
  char buf[1024];
  int fd = open("/proc/self/io", O_RDONLY);
  if (fd < 0) {
    say("FAIL open /proc/self/io: %s", errname(errno));
    exit(1);
  }
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) {
    say("FAIL read /proc/self/io");
    exit(1);
  }
  buf[n] = 0;
  char *p = buf;
  for (int i = 0; i < 7; i++) {
    int used = 0;
    if (sscanf(p, "%31[a-z_]: %lld\n%n", o->names[i], &o->v[i], &used) != 2 || used == 0) {
      say("FAIL line %d of /proc/self/io", i + 1);
      exit(1);
    }
    p += used;
  }
  return n;
}

int main(void) {
  static char buf[8192];
  struct io a, b;
  int p[2];
  if (pipe(p) != 0) return 1;
  int null = open("/dev/null", O_WRONLY), zero = open("/dev/zero", O_RDONLY);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  if (null < 0 || zero < 0 || tfd < 0) return 1;

  long first = snap(&a);
  ssize_t r = 0;
  r += write(p[1], buf, 1000) != 1000;
  r += read(p[0], buf, 600) != 600;
  r += read(p[0], buf, 1000) != 400;
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  r += !(read(p[0], buf, 10) == -1 && errno == EAGAIN);
  r += !(read(tfd, buf, 8) == -1 && errno == EAGAIN);
  r += !(read(999, buf, 10) == -1 && errno == EBADF);
  r += write(null, buf, 300) != 300;
  r += pread(zero, buf, 4096, 0) != 4096;
  struct iovec wv[2] = {{buf, 100}, {buf + 100, 200}}, rv[2] = {{buf, 50}, {buf + 50, 70}};
  r += writev(null, wv, 2) != 300;
  r += readv(zero, rv, 2) != 120;
  pid_t c = fork();
  if (c == 0) _exit(write(null, buf, 500) == 500 ? 0 : 1);
  int st = 0;
  r += waitpid(c, &st, 0) != c || st != 0;
  snap(&b);

  if (r != 0) say("FAIL %ld calls did not do what was expected", (long)r);
  say("fields: %s %s %s %s %s %s %s", a.names[0], a.names[1], a.names[2], a.names[3], a.names[4], a.names[5], a.names[6]);
  say("rchar +%lld (pipe 600+400, /dev/zero 4096 and 50+70)", b.v[0] - a.v[0] - first);
  say("wchar +%lld (pipe 1000, /dev/null 300 and 100+200, the child's 500)", b.v[1] - a.v[1]);
  say("syscr +%lld (the EAGAIN reads count, the EBADF one does not)", b.v[2] - a.v[2] - 1);
  say("syscw +%lld", b.v[3] - a.v[3]);
  return r != 0;
}
