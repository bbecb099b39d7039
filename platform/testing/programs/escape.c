/*
 * escape: try to reach the host. Each result lands in `results` (read by the test
 * through the memory file); a TEST_SYS_REPORT syscall tells the handler where it is.
 */
#include "sys.h"

volatile long results[4] = {-1, -1, -1, -1};

long cmain(long arg) {
  (void)arg;
  sys1(TEST_SYS_REPORT, results);
  results[0] = sys0(SYS_getpid);
  /* fd 3 is the memory file in every stub: a write reaching the host would change it. */
  results[1] = sys4(SYS_pwrite64, 3, "PWNED", 5, 0);
  results[2] = sys3(SYS_write, 1, "escaped\n", 8);
  results[3] = 42;
  return 0;
}
