/*
 * tvisor-waiter: the host process that stands for one container of a pod (a container
 * that runs inside another container's sandbox). `create --pid-file` names it, so that a
 * shim reaps it as it would runc's init: it lives exactly as long as the container's init
 * and exits with its status.
 *
 * It reads fd 3, the read end of a pipe whose write end the sentry holds: the sentry
 * writes init's exit status there as decimal text and a newline when init exits (128+n
 * for a death by signal n). End-of-file without a status means the sandbox is gone (its
 * sentry was killed, which kills every process of the pod): 137, as a SIGKILLed init.
 *
 * Static, no libc. It blocks the terminal signals a shell might send it (the shim's kill
 * goes through `tvisor kill`), then enters seccomp's strict mode: from there on it can only
 * read, write, exit and sigreturn (anything else kills it), so that what the sentry
 * writes into the pipe can do nothing but give it an exit status.
 */

#define SYS_read 0
#define SYS_rt_sigprocmask 14
#define SYS_exit 60
#define SYS_prctl 157
#define PR_SET_SECCOMP 22
#define SECCOMP_MODE_STRICT 1
#define EINTR 4
#define STATUS_FD 3
#define SANDBOX_GONE 137

static long sys3(long n, long a, long b, long c) {
  long r;
  // SAFETY: a raw syscall with three integer or pointer arguments; the kernel checks them
  // and answers -errno, and rcx and r11 are clobbered by the syscall instruction.
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

static long sys4(long n, long a, long b, long c, long d) {
  long r;
  register long r10 __asm__("r10") = d;
  // SAFETY: as sys3, with the fourth argument in r10.
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return r;
}

/* exit, not exit_group: strict mode allows only exit, which ends this single-threaded process. */
__attribute__((noreturn)) static void exit_process(int code) {
  for (;;) sys3(SYS_exit, code, 0, 0);
}

__attribute__((noreturn, used)) void waiter_main(void) {
  // SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU: blocked.
  unsigned long mask = (1UL << 0) | (1UL << 1) | (1UL << 2) | (1UL << 12) | (1UL << 14) | (1UL << 19) | (1UL << 20) | (1UL << 21);
  sys4(SYS_rt_sigprocmask, 0 /* SIG_BLOCK */, (long)&mask, 0, 8);
  // A kernel without seccomp leaves it unconfined: it still only reads and exits.
  sys3(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0);
  char buf[16];
  long have = 0;
  for (;;) {
    long n = sys3(SYS_read, STATUS_FD, (long)(buf + have), (long)(sizeof buf - have));
    if (n == -EINTR) continue;
    if (n <= 0) break;
    have += n;
    if (have == (long)sizeof buf) break;
    int nl = 0;
    for (long i = 0; i < have; i++) nl |= buf[i] == '\n';
    if (nl) break;
  }
  int code = 0, digits = 0;
  for (long i = 0; i < have && buf[i] >= '0' && buf[i] <= '9' && digits < 3; i++, digits++) code = code * 10 + (buf[i] - '0');
  exit_process(digits > 0 && code <= 255 ? code : SANDBOX_GONE);
}

// The entry point: the kernel starts a static program with the stack 16-byte aligned and
// no return address; the call below makes the alignment a C function expects.
__asm__(".globl _start\n_start:\n\txor %ebp, %ebp\n\tand $-16, %rsp\n\tcall waiter_main\n\thlt\n");
