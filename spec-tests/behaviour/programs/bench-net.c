/*
 * bench-net: TCP figures for `make bench-net` (spec-tests/bench/bench-net.ts).
 *
 *   bench-net server PORT              accepts forever; a connection's first byte says
 *                                      what it is: 'S' a stream (read to the end, answer
 *                                      the byte count), 'P' a 1-byte ping-pong (echo).
 *   bench-net client IP PORT SECS N    a stream of 64 KiB writes for SECS seconds, then N
 *                                      1-byte round trips; prints
 *                                      "stream MB/s", "rtt-p50 us", "rtt-p99 us".
 */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void full_write(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    check(w > 0, "write");
    c += w;
    n -= (size_t)w;
  }
}

static void serve(int c) {
  char kind;
  if (read(c, &kind, 1) != 1) _exit(0);
  int one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  static char buf[1 << 16];
  if (kind == 'S') {
    uint64_t total = 0;
    for (;;) {
      ssize_t n = read(c, buf, sizeof(buf));
      if (n <= 0) break;
      total += (uint64_t)n;
    }
    full_write(c, &total, sizeof(total));
  } else {
    for (;;) {
      ssize_t n = read(c, buf, 1);
      if (n <= 0) break;
      full_write(c, buf, 1);
    }
  }
  _exit(0);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  signal(SIGCHLD, SIG_IGN);
  if (argc == 3 && strcmp(argv[1], "server") == 0) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    check(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0, "bind");
    check(listen(l, 64) == 0, "listen");
    say("listening");
    for (;;) {
      int c = accept(l, NULL, NULL);
      if (c < 0) continue;
      if (fork() == 0) serve(c);
      close(c);
    }
  }
  check(argc == 6 && strcmp(argv[1], "client") == 0, "usage");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3]))};
  check(inet_pton(AF_INET, argv[2], &a.sin_addr) == 1, "address");
  double secs = atof(argv[4]);
  int n = atoi(argv[5]);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  check(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0, "connect");
  full_write(c, "S", 1);
  static char buf[1 << 16];
  memset(buf, 'x', sizeof(buf));
  double t0 = now(), t1;
  uint64_t sent = 0;
  while ((t1 = now()) - t0 < secs) {
    full_write(c, buf, sizeof(buf));
    sent += sizeof(buf);
  }
  shutdown(c, SHUT_WR);
  uint64_t got = 0;
  check(read(c, &got, sizeof(got)) == (ssize_t)sizeof(got) && got == sent, "stream count");
  say("stream %.1f MB/s", (double)sent / (t1 - t0) / 1e6);
  close(c);
  c = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  check(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0, "connect");
  full_write(c, "P", 1);
  double *rtt = calloc((size_t)n, sizeof(double));
  for (int i = 0; i < n; i++) {
    double s = now();
    full_write(c, "p", 1);
    check(read(c, buf, 1) == 1, "pong");
    rtt[i] = (now() - s) * 1e6;
  }
  qsort(rtt, (size_t)n, sizeof(double), cmp);
  say("rtt-p50 %.1f us", rtt[n / 2]);
  say("rtt-p99 %.1f us", rtt[n * 99 / 100]);
  return 0;
}
