/*
 * segv: a program that faults.
 *
 * First a child writes through a null pointer and the parent reports how it died
 * (signal SEGV), then the program itself writes through a null pointer with the default
 * SIGSEGV action, so whoever runs it sees it die of SIGSEGV (exit status 139 from a shell
 * or a runtime). The line before the fault must reach the output.
 */
#include "common.h"

/* fault writes through a null pointer the compiler cannot prove null. */
static void fault(void) {
  volatile int *volatile p = NULL;
  *p = 1;
}

int main(void) {
  char buf[32];
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    fault();
    _exit(0);
  }
  int st;
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("faulting child: %s", describe_status(st, buf, sizeof(buf)));
  say("now faulting myself");
  fault();
  say("FAIL still alive after the fault");
  return 1;
}
