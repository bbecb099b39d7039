/*
 * enosys: unimplemented and invalid system calls.
 *
 * syscall(2) with numbers no kernel implements (1000, 4096, a huge one, and the x32 bit
 * set on an invalid number) must fail with ENOSYS, and the program must go on normally
 * afterwards (a write and a getpid still work).
 */
#include "common.h"
#include <sys/syscall.h>

int main(void) {
  long numbers[] = {1000, 4096, 0x7fffffff, 0x40000000 | 1000};
  for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
    errno = 0;
    long r = syscall(numbers[i], 1, 2, 3, 4, 5, 6);
    say("syscall(%ld): %ld %s (%s)", numbers[i], r, errname(errno), strerror(errno));
  }
  say("getpid still works: %s", syscall(SYS_getpid) > 0 ? "yes" : "no");
  say("done");
  return 0;
}
