/*
 * bench-net: TCP figures for `make bench-net` (spec-tests/bench/bench-net.ts).
 *
 *   bench-net server PORT              accepts forever; a connection's first byte says
 *                                      what it is: 'S' a stream (read to the end, answer
 *                                      the byte count), 'P' a 1-byte ping-pong (echo),
 *                                      'G' HTTP/1.1 keep-alive GETs, each answered with
 *                                      the same static 1 KiB page.
 *   bench-net client IP PORT SECS N C  a stream of 64 KiB writes for SECS seconds, then N
 *                                      1-byte round trips, then SECS seconds of GETs on C
 *                                      keep-alive connections (one request in flight on
 *                                      each); prints "stream MB/s", "rtt-p50 us",
 *                                      "rtt-p99 us", "http req/s".
 *
 * A blocking call that answers EAGAIN (runsc --network=host (2022) does) is retried after
 * poll(), so every runtime runs the same loops.
 */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* await waits until fd is ready for events (after an EAGAIN). */
static void await(int fd, short events) {
  struct pollfd p = {.fd = fd, .events = events};
  poll(&p, 1, -1);
}

/* rd is read(2) retried on EINTR and, after poll(), on EAGAIN. */
static ssize_t rd(int fd, void *p, size_t n) {
  for (;;) {
    ssize_t r = read(fd, p, n);
    if (r >= 0) return r;
    if (errno == EAGAIN) await(fd, POLLIN);
    else if (errno != EINTR) return r;
  }
}

static void full_write(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) { await(fd, POLLOUT); continue; }
    check(w > 0, "write");
    c += w;
    n -= (size_t)w;
  }
}

#define PAGE_BYTES 1024
#define REQUEST "GET /index.html HTTP/1.1\r\nHost: bench\r\n\r\n"

/* response returns the static page's whole HTTP response and its length. */
static const char *response(size_t *len) {
  static char r[256 + PAGE_BYTES];
  static size_t n;
  if (n == 0) {
    n = (size_t)snprintf(r, 256, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n", PAGE_BYTES);
    memset(r + n, 'h', PAGE_BYTES);
    n += PAGE_BYTES;
  }
  *len = n;
  return r;
}

/* serve_http answers every request (a header block ending in an empty line) on c with the
 * static page until the peer closes; the first byte ('G') was already read. */
static void serve_http(int c) {
  static char buf[4096];
  size_t have = 1, len;
  const char *resp = response(&len);
  buf[0] = 'G';
  for (;;) {
    char *end = memmem(buf, have, "\r\n\r\n", 4);
    if (end) {
      full_write(c, resp, len);
      size_t used = (size_t)(end + 4 - buf);
      memmove(buf, buf + used, have - used);
      have -= used;
      continue;
    }
    if (have == sizeof(buf)) _exit(1);
    ssize_t n = rd(c, buf + have, sizeof(buf) - have);
    if (n <= 0) _exit(0);
    have += (size_t)n;
  }
}

static void serve(int c) {
  char kind;
  if (rd(c, &kind, 1) != 1) _exit(0);
  int one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  static char buf[1 << 16];
  if (kind == 'G') serve_http(c);
  if (kind == 'S') {
    uint64_t total = 0;
    for (;;) {
      ssize_t n = rd(c, buf, sizeof(buf));
      if (n <= 0) break;
      total += (uint64_t)n;
    }
    full_write(c, &total, sizeof(total));
  } else {
    for (;;) {
      ssize_t n = rd(c, buf, 1);
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

/* http_load keeps one GET in flight on each of conns keep-alive connections for secs
 * seconds and prints the completed requests per second; each response must be the
 * server's whole static page. */
static void http_load(const struct sockaddr_in *a, double secs, int conns) {
  check(conns > 0 && conns <= 64, "connections");
  struct pollfd p[64];
  size_t got[64], len;
  const char *resp = response(&len);
  static char buf[4096];
  for (int i = 0; i < conns; i++) {
    p[i].fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(p[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    check(connect(p[i].fd, (const struct sockaddr *)a, sizeof(*a)) == 0, "connect");
    p[i].events = POLLIN;
    got[i] = 0;
  }
  uint64_t done = 0;
  double t0 = now(), t1 = t0;
  for (int i = 0; i < conns; i++) full_write(p[i].fd, REQUEST, strlen(REQUEST));
  while (t1 - t0 < secs) {
    int r = poll(p, (nfds_t)conns, 1000);
    check(r >= 0 || errno == EINTR, "poll");
    for (int i = 0; i < conns && r > 0; i++) {
      if (!p[i].revents) continue;
      ssize_t n = read(p[i].fd, buf, sizeof(buf));
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      check(n > 0, "http response");
      check(got[i] + (size_t)n <= len && memcmp(buf, resp + got[i], (size_t)n) == 0, "http response");
      got[i] += (size_t)n;
      if (got[i] == len) {
        got[i] = 0;
        done++;
        full_write(p[i].fd, REQUEST, strlen(REQUEST));
      }
    }
    t1 = now();
  }
  for (int i = 0; i < conns; i++) close(p[i].fd);
  say("http %.1f req/s", (double)done / (t1 - t0));
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
  check(argc == 7 && strcmp(argv[1], "client") == 0, "usage");
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
  check(rd(c, &got, sizeof(got)) == (ssize_t)sizeof(got) && got == sent, "stream count");
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
    check(rd(c, buf, 1) == 1, "pong");
    rtt[i] = (now() - s) * 1e6;
  }
  qsort(rtt, (size_t)n, sizeof(double), cmp);
  say("rtt-p50 %.1f us", rtt[n / 2]);
  say("rtt-p99 %.1f us", rtt[n * 99 / 100]);
  close(c);
  http_load(&a, secs, atoi(argv[6]));
  return 0;
}
