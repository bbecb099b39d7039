/* syscall-loop: `arg` times, ask the handler for a+b and check the answer comes back in rax. */
#include "sys.h"

long cmain(long arg) {
  long bad = 0;
  for (long i = 0; i < arg; i++) {
    long r = sys2(TEST_SYS_ADD, i, 3 * i + 7);
    if (r != 4 * i + 7) bad++;
  }
  return bad; /* exit status: number of wrong results */
}
