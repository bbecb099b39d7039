/*
 * sigstat: /proc/self/stat's obsolete signal fields (31-34: signal, blocked, sigignore,
 * sigcatch), which Linux still fills for old readers: the thread's own pending signals,
 * its mask and the ignored and caught dispositions, in decimal, signals 1 to 31 only.
 * SIGUSR1 blocked and raised (pending), signal 31 and a real-time one blocked, SIGPIPE
 * ignored, SIGUSR2 and a real-time one caught: the real-time ones never show.
 */
#define _GNU_SOURCE
#include "common.h"

static void handler(int s) { (void)s; }

int main(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, 31);
  sigaddset(&set, SIGRTMIN + 2);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGUSR2, handler);
  signal(SIGRTMIN + 3, handler);
  raise(SIGUSR1);
  char *s = strrchr(proc_text("/proc/self/stat"), ')');
  if (!s) return 1;
  long long v[53] = {0};
  int field = 3;
  for (char *t = strtok(s + 2, " \n"); t && field <= 52; t = strtok(NULL, " \n"), field++) v[field] = strtoll(t, NULL, 10);
  printf("signal %lld blocked %lld sigignore %lld sigcatch %lld\n", v[31], v[32], v[33], v[34]);
  printf("done\n");
  return 0;
}
