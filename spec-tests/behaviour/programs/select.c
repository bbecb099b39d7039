/*
 * select: select(2) and pselect6(2) write the time left back to their timeout, as Linux
 * does: zero after a timeout, the rest after a descriptor became ready or a handler
 * interrupted the wait (EINTR); a timeout in read-only memory is left alone by the kernel
 * and the call still succeeds. Times are printed as ranges, never as exact values.
 */
#include "common.h"
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

static void on_alarm(int sig) { (void)sig; }

static double tv_seconds(const struct timeval *tv) { return (double)tv->tv_sec + (double)tv->tv_usec / 1e6; }

int main(void) {
  int p[2];
  check(pipe(p) == 0, "pipe");
  fd_set r;

  /* Nothing to read: the whole timeout passes and it reads zero afterwards. */
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  struct timeval tv = {0, 200000};
  int n = select(p[0] + 1, &r, NULL, NULL, &tv);
  say("timed out: %d, timeout now %ld.%06ld", n, (long)tv.tv_sec, (long)tv.tv_usec);

  /* A writer after about 100 ms: ready, with most of the 5 s left. */
  pid_t c = fork();
  if (c == 0) {
    usleep(100000);
    check(write(p[1], "x", 1) == 1, "write");
    _exit(0);
  }
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  tv.tv_sec = 5;
  tv.tv_usec = 0;
  n = select(p[0] + 1, &r, NULL, NULL, &tv);
  double left = tv_seconds(&tv);
  say("ready: %d, time left between 3 and 5 s: %s", n, left > 3 && left < 5 ? "yes" : "no");
  waitpid(c, NULL, 0);
  char ch;
  check(read(p[0], &ch, 1) == 1, "read");

  /* A handler interrupts the wait: EINTR, and the time left is written too. */
  struct sigaction sa = {0};
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 0}, {0, 100000}};
  setitimer(ITIMER_REAL, &it, NULL);
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  tv.tv_sec = 5;
  tv.tv_usec = 0;
  n = (int)syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv); /* select itself: glibc's calls pselect6 */
  int e = errno;
  left = tv_seconds(&tv);
  say("interrupted: %d %s, time left between 3 and 5 s: %s", n, n < 0 ? errname(e) : "0", left > 3 && left < 5 ? "yes" : "no");

  /* pselect6 itself (glibc's pselect hides it) writes a timespec back. */
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  struct timespec ts = {0, 150000000};
  long rn = syscall(SYS_pselect6, p[0] + 1, &r, NULL, NULL, &ts, NULL);
  say("pselect6 timed out: %ld, timeout now %ld.%09ld", rn, (long)ts.tv_sec, (long)ts.tv_nsec);

  /* A timeout the program cannot write: read, waited for, left as it was (select itself:
   * glibc's wrapper would store it from user space and fault). */
  struct timeval *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(ro != MAP_FAILED, "mmap");
  ro->tv_sec = 0;
  ro->tv_usec = 100000;
  check(mprotect(ro, 4096, PROT_READ) == 0, "mprotect");
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  n = (int)syscall(SYS_select, p[0] + 1, &r, NULL, NULL, ro);
  say("read-only timeout: %d, still %ld.%06ld", n, (long)ro->tv_sec, (long)ro->tv_usec);
  say("done");
  return 0;
}
