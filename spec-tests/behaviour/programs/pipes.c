/*
 * pipes: pipes between processes.
 *
 * A child upper-cases what the parent sends over one pipe and answers over another;
 * a three-stage pipeline wired with dup2 (producer | doubler | consumer); EOF once every
 * write end is closed; EPIPE (SIGPIPE ignored) and death by SIGPIPE (default action);
 * a 1 MiB transfer that must block and resume; pipe2(O_CLOEXEC|O_NONBLOCK) flags.
 */
#include "common.h"
#include <ctype.h>
#include <fcntl.h>

static void write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    check(w > 0, "write");
    p += w;
    len -= (size_t)w;
  }
}

/* read_line reads up to '\n' (not stored) one byte at a time; returns -1 at EOF. */
static int read_line(int fd, char *buf, size_t cap) {
  size_t n = 0;
  for (;;) {
    char c;
    ssize_t r = read(fd, &c, 1);
    if (r < 0 && errno == EINTR) continue;
    check(r >= 0, "read");
    if (r == 0) return n ? (int)n : -1;
    if (c == '\n') break;
    if (n + 1 < cap) buf[n++] = c;
  }
  buf[n] = 0;
  return (int)n;
}

static void echo_upper(void) {
  int to_child[2], to_parent[2];
  check(pipe(to_child) == 0 && pipe(to_parent) == 0, "pipe");
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    close(to_child[1]);
    close(to_parent[0]);
    char line[256];
    while (read_line(to_child[0], line, sizeof(line)) >= 0) {
      for (char *c = line; *c; c++) *c = (char)toupper((unsigned char)*c);
      strcat(line, "\n");
      write_all(to_parent[1], line, strlen(line));
    }
    _exit(0);
  }
  close(to_child[0]);
  close(to_parent[1]);
  const char *words[] = {"hello", "pipe world", "third line"};
  for (int i = 0; i < 3; i++) {
    char out[64], in[256];
    snprintf(out, sizeof(out), "%s\n", words[i]);
    write_all(to_child[1], out, strlen(out));
    check(read_line(to_parent[0], in, sizeof(in)) >= 0, "read_line");
    say("sent '%s', got '%s'", words[i], in);
  }
  close(to_child[1]);
  char in[16];
  say("after closing the write end, child's pipe gives: %s", read_line(to_parent[0], in, sizeof(in)) < 0 ? "EOF" : "data");
  close(to_parent[0]);
  int st;
  char buf[32];
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("echo child: %s", describe_status(st, buf, sizeof(buf)));
}

/* stage runs fn with stdin/stdout replaced by in/out in a child. */
static pid_t stage(int in, int out, void (*fn)(void), int close_a, int close_b) {
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    if (in != 0) { check(dup2(in, 0) == 0, "dup2"); close(in); }
    if (out != 1) { check(dup2(out, 1) == 1, "dup2"); close(out); }
    if (close_a >= 0) close(close_a);
    if (close_b >= 0) close(close_b);
    fn();
    _exit(0);
  }
  return p;
}

static void producer(void) {
  for (int i = 1; i <= 5; i++) {
    char l[16];
    snprintf(l, sizeof(l), "%d\n", i);
    write_all(1, l, strlen(l));
  }
}

static void doubler(void) {
  char l[64];
  while (read_line(0, l, sizeof(l)) >= 0) {
    char o[64];
    snprintf(o, sizeof(o), "%d\n", atoi(l) * 2);
    write_all(1, o, strlen(o));
  }
}

static void pipeline(void) {
  int a[2], b[2];
  check(pipe(a) == 0 && pipe(b) == 0, "pipe");
  pid_t p1 = stage(0, a[1], producer, a[0], -1);
  close(a[1]);
  pid_t p2 = stage(a[0], b[1], doubler, b[0], -1);
  close(a[0]);
  close(b[1]);
  char l[64];
  int sum = 0, n = 0;
  while (read_line(b[0], l, sizeof(l)) >= 0) {
    sum += atoi(l);
    n++;
  }
  close(b[0]);
  int st1, st2;
  check(waitpid(p1, &st1, 0) == p1 && waitpid(p2, &st2, 0) == p2, "waitpid");
  say("pipeline: %d lines, sum %d, statuses %d %d", n, sum, WEXITSTATUS(st1), WEXITSTATUS(st2));
}

static void broken_pipe(void) {
  int fds[2];
  check(pipe(fds) == 0, "pipe");
  close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  long r = write(fds[1], "x", 1);
  say("write to a pipe without readers (SIGPIPE ignored): %ld %s", r, errname(errno));
  signal(SIGPIPE, SIG_DFL);
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    write(fds[1], "x", 1);
    _exit(0);
  }
  close(fds[1]);
  int st;
  char buf[32];
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("writer without readers (SIGPIPE default): %s", describe_status(st, buf, sizeof(buf)));
}

static void big_transfer(void) {
  enum { TOTAL = 1 << 20 };
  int fds[2];
  check(pipe(fds) == 0, "pipe");
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    close(fds[0]);
    static unsigned char chunk[10000];
    size_t sent = 0;
    while (sent < TOTAL) {
      size_t n = TOTAL - sent < sizeof(chunk) ? TOTAL - sent : sizeof(chunk);
      for (size_t i = 0; i < n; i++) chunk[i] = (unsigned char)((sent + i) * 7);
      write_all(fds[1], chunk, n);
      sent += n;
    }
    _exit(0);
  }
  close(fds[1]);
  static unsigned char buf[3000];
  size_t got = 0, bad = 0;
  for (;;) {
    ssize_t r = read(fds[0], buf, sizeof(buf));
    if (r < 0 && errno == EINTR) continue;
    check(r >= 0, "read");
    if (r == 0) break;
    for (ssize_t i = 0; i < r; i++)
      if (buf[i] != (unsigned char)((got + (size_t)i) * 7)) bad++;
    got += (size_t)r;
  }
  close(fds[0]);
  int st;
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("1 MiB through a pipe: %zu bytes, %zu corrupt, writer exit %d", got, bad, WEXITSTATUS(st));
}

static void pipe2_flags(void) {
  int fds[2];
  check(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2");
  int fd_flags = fcntl(fds[0], F_GETFD);
  int fl_flags = fcntl(fds[0], F_GETFL);
  say("pipe2: cloexec %s, nonblock %s, access %s", (fd_flags & FD_CLOEXEC) ? "yes" : "no",
      (fl_flags & O_NONBLOCK) ? "yes" : "no", (fl_flags & O_ACCMODE) == O_RDONLY ? "read-only" : "other");
  char c;
  long r = read(fds[0], &c, 1);
  say("empty nonblocking read: %ld %s", r, errname(errno));
  close(fds[0]);
  close(fds[1]);
}

int main(void) {
  echo_upper();
  pipeline();
  broken_pipe();
  big_transfer();
  pipe2_flags();
  say("done");
  return 0;
}
