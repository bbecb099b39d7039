/*
 * systrap-ref: the C reference of the systrap round trip in `make bench-platform`. A
 * child process traps getppid with a seccomp filter returning SECCOMP_RET_TRAP; its SIGSYS
 * handler, on an alternate stack in a page shared with the parent, copies the general
 * registers of its signal frame into the shared page, publishes them and spins until the
 * parent has answered (rax set), copies them back and returns (rt_sigreturn). The parent
 * spins on the shared word, sets rax and publishes the answer. Both sides spin; nothing is
 * pinned (they run on two CPUs). Output: one line "ops=N total_ms=T per_op_us=U".
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define OPS 100000
#define SHARED_SIZE (64 * 1024)
#define ALT_STACK_OFF 4096
#define SPIN_YIELD 2000

enum { IDLE = 0, EVENT = 1, REPLY = 2, DONE = 3 };

struct shared {
  volatile unsigned state;
  unsigned pad;
  long long gregs[NGREG];
};

static struct shared *sh;
static int use_futex;

/* await_state waits until the shared word is `want` (or, for the parent, DONE). */
static unsigned await_state(unsigned want, int parent) {
  for (unsigned n = 1;; n++) {
    unsigned s = __atomic_load_n(&sh->state, __ATOMIC_ACQUIRE);
    if (s == want || (parent && s == DONE)) return s;
    if (use_futex) {
      syscall(SYS_futex, &sh->state, FUTEX_WAIT, s, NULL, NULL, 0);
    } else {
      __builtin_ia32_pause();
      if (n % SPIN_YIELD == 0) sched_yield();
    }
  }
}

/* publish sets the shared word and, in futex mode, wakes the other side. */
static void publish(unsigned state) {
  __atomic_store_n(&sh->state, state, __ATOMIC_RELEASE);
  if (use_futex) syscall(SYS_futex, &sh->state, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void on_sigsys(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  (void)si;
  ucontext_t *uc = ctx;
  memcpy(sh->gregs, uc->uc_mcontext.gregs, sizeof sh->gregs);
  publish(EVENT);
  await_state(REPLY, 0);
  memcpy(uc->uc_mcontext.gregs, sh->gregs, sizeof sh->gregs);
  __atomic_store_n(&sh->state, IDLE, __ATOMIC_RELAXED);
}

static long raw_getppid(void) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(SYS_getppid) : "rcx", "r11", "memory");
  return ret;
}

static void child(void) {
  stack_t ss = {.ss_sp = (char *)sh + ALT_STACK_OFF, .ss_size = SHARED_SIZE - ALT_STACK_OFF};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigfillset(&sa.sa_mask);
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
  if (sigaltstack(&ss, NULL) < 0 || sigaction(SIGSYS, &sa, NULL) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
    perror("systrap-ref: child set-up");
    _exit(1);
  }
  for (long i = 0; i < OPS; i++) {
    if (raw_getppid() != 1) _exit(2);
  }
  publish(DONE);
  _exit(0);
}

int main(int argc, char **argv) {
  use_futex = argc > 1 && strcmp(argv[1], "futex") == 0;
  sh = mmap(NULL, SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) {
    perror("systrap-ref: mmap");
    return 1;
  }
  double start = now_ms();
  pid_t pid = fork();
  if (pid < 0) {
    perror("systrap-ref: fork");
    return 1;
  }
  if (pid == 0) child();
  long ops = 0;
  for (;;) {
    if (await_state(EVENT, 1) == DONE) break;
    sh->gregs[REG_RAX] = 1; /* getppid() */
    ops++;
    publish(REPLY);
  }
  double total = now_ms() - start;
  int status;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || ops != OPS) {
    fprintf(stderr, "systrap-ref: child failed (status 0x%x, %ld ops)\n", status, ops);
    return 1;
  }
  printf("ops=%ld total_ms=%.1f per_op_us=%.2f\n", ops, total, total * 1e3 / ops);
  return 0;
}
