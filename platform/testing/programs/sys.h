/*
 * sys.h: the whole "libc" of the platform test programs. They are freestanding (no auxv,
 * no TLS): _start passes the initial %rdi, which the test handler sets, to cmain().
 */
#ifndef TVISOR_TEST_SYS_H
#define TVISOR_TEST_SYS_H

typedef unsigned long u64;

static inline long sys6(long nr, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#define sys0(n) sys6((n), 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

#define SYS_write 1
#define SYS_pwrite64 18
#define SYS_getpid 39
#define SYS_exit 60
#define SYS_getppid 110
#define SYS_exit_group 231
/* TEST_SYS_* are numbers Linux does not use: only a test handler answers them. */
#define TEST_SYS_ADD 1000
#define TEST_SYS_REPORT 1001

static inline __attribute__((noreturn)) void exit_group(long code) {
  for (;;) sys1(SYS_exit_group, code);
}

long cmain(long arg);

__asm__(".globl _start\n_start:\n\tcall cmain\n\tmov %rax, %rdi\n\tmov $231, %eax\n\tsyscall\n\tud2\n");

#endif
