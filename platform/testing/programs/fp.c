/* fp: keep a value in %xmm0 across syscalls; report what it reads back each time. */
#include "sys.h"

long cmain(long arg) {
  __asm__ volatile("movq %0, %%xmm0" : : "r"(arg) : "xmm0");
  for (int i = 0; i < 3; i++) {
    sys0(TEST_SYS_ADD);
    long v;
    __asm__ volatile("movq %%xmm0, %0" : "=r"(v));
    sys1(TEST_SYS_REPORT, v);
  }
  return 0;
}
