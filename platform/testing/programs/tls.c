/* tls: report the words at %fs:0 and %gs:0 across syscalls (the bases are the task's own,
 * set by the test in its registers: a backend must keep them per task). */
#include "sys.h"

long cmain(long arg) {
  (void)arg;
  for (int i = 0; i < 3; i++) {
    sys0(TEST_SYS_ADD);
    long fs, gs;
    __asm__ volatile("movq %%fs:0, %0" : "=r"(fs));
    __asm__ volatile("movq %%gs:0, %0" : "=r"(gs));
    sys1(TEST_SYS_REPORT, fs);
    sys1(TEST_SYS_REPORT, gs);
  }
  return 0;
}
