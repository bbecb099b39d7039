/* write: write(1) a buffer that the handler must read out of application memory. */
#include "sys.h"

static const char message[] = "hello from application memory\n";

long cmain(long arg) {
  (void)arg;
  long n = sys3(SYS_write, 1, message, sizeof message - 1);
  return n == (long)(sizeof message - 1) ? 0 : 1;
}
