/* faults: raise the fault selected by `arg`; reaching the end is a test failure. */
#include "sys.h"

static const char ro[4096] __attribute__((aligned(4096))) = {1};

long cmain(long arg) {
  volatile long zero = 0;
  switch (arg) {
    case 1: return *(volatile long *)0xdead000;       /* SIGSEGV, unmapped */
    case 2: __asm__ volatile("int3"); break;          /* SIGTRAP */
    case 3: __asm__ volatile("ud2"); break;           /* SIGILL */
    case 4: return 100 / zero;                        /* SIGFPE */
    case 5: *(volatile char *)ro = 2; break;          /* SIGSEGV, read-only */
    case 6: ((void (*)(void))0xbad000)(); break;      /* SIGSEGV, execute unmapped */
    case 7: for (;;) __asm__ volatile("");            /* spin until interrupted */
  }
  return 99;
}
