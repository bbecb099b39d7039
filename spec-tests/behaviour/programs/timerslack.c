/*
 * timerslack.c: a thread's timer slack through prctl(PR_SET/GET_TIMERSLACK) and
 * /proc/self/timerslack_ns: the default (50000 ns), a value set one way and read the
 * other, 0 restoring the default, a forked child inheriting the slack as its own default,
 * and malformed writes refused (EINVAL).
 */
#include "common.h"
#include <fcntl.h>
#include <sys/prctl.h>

/* proc reads /proc/self/timerslack_ns (without its newline). */
static const char *proc(void) {
  static char buf[64];
  int fd = open("/proc/self/timerslack_ns", O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
  if (fd >= 0) close(fd);
  if (n <= 0) return errname(errno);
  buf[n] = 0;
  if (buf[n - 1] == '\n') buf[n - 1] = 0;
  return buf;
}

/* store writes text to /proc/self/timerslack_ns and returns "ok" or the errno's name. */
static const char *store(const char *text) {
  int fd = open("/proc/self/timerslack_ns", O_WRONLY);
  if (fd < 0) return errname(errno);
  ssize_t n = write(fd, text, strlen(text));
  int e = errno;
  close(fd);
  return n < 0 ? errname(e) : "ok";
}

int main(void) {
  long v = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  say("start: prctl %ld, proc %s", v, proc());
  const char *r = result(prctl(PR_SET_TIMERSLACK, 12345, 0, 0, 0));
  say("PR_SET_TIMERSLACK 12345: %s; proc %s", r, proc());
  r = store("777\n");
  say("write 777: %s; prctl %ld", r, (long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
  r = store("-5");
  const char *r2 = store("abc");
  say("write -5: %s; write abc: %s; proc %s", r, r2, proc());
  pid_t c = fork();
  if (c == 0) {
    say("child: inherits %s", proc());
    prctl(PR_SET_TIMERSLACK, 99, 0, 0, 0);
    prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0);
    say("child: PR_SET_TIMERSLACK 0 after 99 restores %ld (the parent's at fork)", (long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
    _exit(0);
  }
  int st;
  waitpid(c, &st, 0);
  r = store("0");
  say("write 0: %s; proc %s", r, proc());
  prctl(PR_SET_TIMERSLACK, 5, 0, 0, 0);
  prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0);
  say("PR_SET_TIMERSLACK 0 after 5: %s", proc());
  return 0;
}
