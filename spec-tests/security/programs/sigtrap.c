/*
 * sigtrap: an init that reports the signals it receives, for spec-tests/security/signals.
 *
 *   sigtrap trap     catch every catchable signal, print "got N" for each; SIGTERM
 *                    also ends the program with status 3
 *   sigtrap plain    catch nothing: print "ready" and wait (SIGTERM's default applies)
 *
 * It prints "ready" once its handlers are in place, then waits in pause(2).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void put(const char *s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(1, s, n);
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

static void on_signal(int sig) {
  /* "got N\n" formatted by hand: printf is not async-signal-safe. */
  char line[16] = "got ";
  int i = 4;
  if (sig >= 10) line[i++] = (char)('0' + sig / 10);
  line[i++] = (char)('0' + sig % 10);
  line[i++] = '\n';
  line[i] = 0;
  put(line);
  if (sig == SIGTERM) _exit(3);
}

int main(int argc, char **argv) {
  int trap = argc > 1 && strcmp(argv[1], "trap") == 0;
  if (trap) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int s = 1; s <= 64; s++) {
      if (s == SIGKILL || s == SIGSTOP || s == SIGCHLD) continue;
      sigaction(s, &sa, NULL); /* 32 and 33 belong to glibc: refused, fine */
    }
  }
  put("ready\n");
  for (;;) pause();
}
