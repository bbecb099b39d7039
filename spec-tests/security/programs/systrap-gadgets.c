/*
 * systrap-gadgets: jump to each syscall instruction of the systrap stub (fixed addresses
 * above the application's range: native/systrap/layout.h) with each syscall number its
 * filters know of, and a few they do not, with hostile registers; each attempt in a child
 * process of its own. Natively, and under any platform that maps nothing there, each
 * jump faults (SIGSEGV). Under systrap no attempt may do anything but end its own
 * process: a line per attempt prints the signal that ended the child, then whether the
 * parent's syscalls still answer.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define STUB 0x7fffff000000UL
static const uint64_t sites[] = {STUB + 0x200, STUB + 0xa05, STUB + 0xa40, STUB + 0xa80, STUB + 0xac0, STUB + 0xb00};
static const long nrs[] = {9, 10, 11, 56, 60, 131, 317, 202, 15, 24, 1, 59, 62, 231, 17, 157};
/* The title page (native/stub/layout.h): pread64 and prctl(PR_SET_MM) aim at it. */
#define TITLE (STUB + 0x80000)
static volatile uint32_t word = 1;

static void __attribute__((noreturn)) jump(uint64_t site, long nr) {
  /* Arguments that would matter if a call ran on the host: mmap(0x10000, 4096, RW,
   * MAP_SHARED|MAP_FIXED, 3 (the memory file), 0); futex on a word equal to its value
   * (a wait that never ends); kill(-1, SIGKILL); a clone of everything; the title calls
   * exactly as the stub's filters allow them: pread64(3, title, 4096, 0) and
   * prctl(PR_SET_MM, PR_SET_MM_MAP, title, 104, 0). */
  register long r10 __asm__("r10") = nr == 157 ? 104 : nr == 17 ? 0 : 0x11;
  register long r8 __asm__("r8") = nr == 157 ? 0 : 3;
  register long r9 __asm__("r9") = 0;
  long rdi = nr == 202 ? (long)&word : nr == 62 ? -1 : nr == 17 ? 3 : nr == 157 ? 35 : 0x10000;
  long rsi = nr == 202 ? 0 : nr == 62 ? 9 : nr == 17 ? (long)TITLE : nr == 157 ? 14 : 4096;
  __asm__ volatile(
      "mov $0x4141414141414141, %%rbx\n\t"
      "mov %%rbx, %%rbp\n\t"
      "mov %%rbx, %%r12\n\t"
      "mov %%rbx, %%r13\n\t"
      "mov %%rbx, %%r14\n\t"
      "mov %%rbx, %%r15\n\t"
      "xor %%esp, %%esp\n\t"
      "jmp *%%rcx\n\t"
      :
      : "a"(nr), "D"(rdi), "S"(rsi), "d"(nr == 202 ? 1 : nr == 17 ? 4096 : nr == 157 ? (long)TITLE : 3), "r"(r10), "r"(r8), "r"(r9), "c"(site)
      : "memory");
  __builtin_unreachable();
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (size_t s = 0; s < sizeof sites / sizeof sites[0]; s++) {
    for (size_t n = 0; n < sizeof nrs / sizeof nrs[0]; n++) {
      pid_t child = fork();
      if (child == 0) jump(sites[s], nrs[n]);
      int status;
      waitpid(child, &status, 0);
      printf("site %#lx nr %ld: %s %d\n", (unsigned long)sites[s], nrs[n], WIFSIGNALED(status) ? "signal" : "exit",
             WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    }
  }
  printf("parent's syscalls answer: %s\n", getppid() >= 0 && getpid() > 0 ? "yes" : "no");
  return 0;
}
