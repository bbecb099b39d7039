/* bench-loop: `arg` getppid calls (100000 when started natively with arg 0), then exit. */
#include "sys.h"

long cmain(long arg) {
  long n = arg ? arg : 100000;
  for (long i = 0; i < n; i++) sys0(SYS_getppid);
  return 0;
}
