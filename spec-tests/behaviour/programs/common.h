/*
 * common.h: helpers shared by the behaviour-test programs.
 *
 * Every program prints deterministic lines only (no pids, addresses or times), written
 * with one write(2) per line so that output never sits in a stdio buffer across fork().
 * A check that fails prints "FAIL ..." and exits 1, so a broken kernel shows in both the
 * output and the exit status.
 */
#ifndef BEHAVIOUR_COMMON_H
#define BEHAVIOUR_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* say prints one formatted line (a newline is added) with a single write(2). */
static inline void say(const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if (n > (int)sizeof(buf) - 2) n = (int)sizeof(buf) - 2;
  buf[n++] = '\n';
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(1, p, (size_t)n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(3);
    p += w;
    n -= (int)w;
  }
}

/* fail prints "FAIL <what>: <errno name>" and exits with status 1. */
#define fail(what) \
  do { \
    say("FAIL %s (line %d): %s", (what), __LINE__, strerrorname_np(errno) ? strerrorname_np(errno) : "?"); \
    exit(1); \
  } while (0)

/* check fails the program when cond is false. */
#define check(cond, what) \
  do { \
    if (!(cond)) fail(what); \
  } while (0)

/* errname names an errno value ("ENOENT"), or "0" for success. */
static inline const char *errname(int e) {
  if (e == 0) return "0";
  const char *n = strerrorname_np(e);
  return n ? n : "E?";
}

/* result formats a syscall result: "ok" or the errno name of a -1 return. */
static inline const char *result(long r) { return r == -1 ? errname(errno) : "ok"; }

/* write_once writes text to an existing file with one write(2) (as /proc's map files want
 * it) and says what it got: "ok" or the errno name of the open or the write. */
static inline const char *write_once(const char *path, const char *text) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return errname(errno);
  ssize_t n = write(fd, text, strlen(text));
  int e = errno;
  close(fd);
  return n < 0 ? errname(e) : "ok";
}

/* describe_status renders a wait status as "exit N" or "signal NAME". */
static inline const char *describe_status(int st, char *buf, size_t len) {
  if (WIFEXITED(st))
    snprintf(buf, len, "exit %d", WEXITSTATUS(st));
  else if (WIFSIGNALED(st))
    snprintf(buf, len, "signal %s", sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
  else
    snprintf(buf, len, "other 0x%x", st);
  return buf;
}

/* proc_text reads a small file (a /proc file) whole into a static buffer, or says why it could not. */
static inline char *proc_text(const char *path) {
  static char buf[16384];
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    snprintf(buf, sizeof buf, "open failed: %s", strerror(errno));
    return buf;
  }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n < 0 ? 0 : n] = 0;
  return buf;
}

#endif
