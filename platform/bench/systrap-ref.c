/*
 * systrap-ref: the C reference of the systrap round trip in `make bench-platform`. A
 * child process traps getppid with a seccomp filter returning SECCOMP_RET_TRAP; its SIGSYS
 * handler, on an alternate stack in a page shared with the parent, copies the general
 * registers of its signal frame into the shared page, publishes them and spins until the
 * parent has answered (rax set), copies them back and returns (rt_sigreturn). The parent
 * spins on the shared word, sets rax and publishes the answer. Both sides spin; nothing is
 * pinned (they run on two CPUs). Output: one line "ops=N total_ms=T per_op_us=U".
 *
 * Arguments: `futex` (both sides sleep on a futex instead of spinning), `yield` (both
 * spin with sched_yield between looks instead of pause), `same-cpu` (both
 * pinned to the CPU the parent starts on), `stamps` (clock_gettime stamps at each step
 * of the round trip, summed over all of them: a second line "stamps: ..." gives the mean
 * time in each, see struct stamps).
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

/* Sums (ns) over all round trips of the time between consecutive stamps. */
struct stamps {
  long long trap;        /* child: before `syscall` -> handler entered (seccomp, SIGSYS delivery) */
  long long to_parent;   /* child publishes EVENT -> parent sees it (wake-up of the parent) */
  long long answer;      /* parent sees EVENT -> parent publishes REPLY (its work: nothing) */
  long long wake_call;   /* parent's publish (the FUTEX_WAKE call itself) */
  long long to_child;    /* parent publishes REPLY -> child sees it (wake-up of the child) */
  long long back;        /* child sees REPLY -> after `syscall` returned (copy, sigreturn) */
  long long t_before, t_handler, t_event, t_seen, t_reply, t_woken; /* the current round */
};

struct shared {
  volatile unsigned state;
  unsigned pad;
  long long gregs[NGREG];
  struct stamps st;
};

static struct shared *sh;
static int use_futex, use_stamps, use_yield;

/* await_state waits until the shared word is `want` (or, for the parent, DONE). */
static unsigned await_state(unsigned want, int parent) {
  for (unsigned n = 1;; n++) {
    unsigned s = __atomic_load_n(&sh->state, __ATOMIC_ACQUIRE);
    if (s == want || (parent && s == DONE)) return s;
    if (use_futex) {
      syscall(SYS_futex, &sh->state, FUTEX_WAIT, s, NULL, NULL, 0);
    } else if (use_yield) {
      sched_yield();
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

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
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
  if (use_stamps) sh->st.t_handler = now_ns();
  memcpy(sh->gregs, uc->uc_mcontext.gregs, sizeof sh->gregs);
  if (use_stamps) sh->st.t_event = now_ns();
  publish(EVENT);
  await_state(REPLY, 0);
  if (use_stamps) sh->st.t_woken = now_ns();
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
    if (use_stamps) sh->st.t_before = now_ns();
    if (raw_getppid() != 1) _exit(2);
    if (use_stamps) {
      struct stamps *t = &sh->st;
      long long after = now_ns();
      t->trap += t->t_handler - t->t_before;
      t->to_parent += t->t_seen - t->t_event;
      t->answer += t->t_reply - t->t_seen;
      t->to_child += t->t_woken - t->t_reply;
      t->back += after - t->t_woken;
    }
  }
  publish(DONE);
  _exit(0);
}

int main(int argc, char **argv) {
  int same_cpu = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "futex") == 0) use_futex = 1;
    else if (strcmp(argv[i], "stamps") == 0) use_stamps = 1;
    else if (strcmp(argv[i], "yield") == 0) use_yield = 1;
    else if (strcmp(argv[i], "same-cpu") == 0) same_cpu = 1;
    else {
      fprintf(stderr, "systrap-ref: unknown argument %s (futex, stamps, same-cpu)\n", argv[i]);
      return 1;
    }
  }
  if (same_cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(sched_getcpu(), &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0) {
      perror("systrap-ref: sched_setaffinity");
      return 1;
    }
  }
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
    if (use_stamps) sh->st.t_seen = now_ns();
    sh->gregs[REG_RAX] = 1; /* getppid() */
    ops++;
    if (use_stamps) sh->st.t_reply = now_ns();
    publish(REPLY);
    if (use_stamps) sh->st.wake_call += now_ns() - sh->st.t_reply;
  }
  double total = now_ms() - start;
  int status;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || ops != OPS) {
    fprintf(stderr, "systrap-ref: child failed (status 0x%x, %ld ops)\n", status, ops);
    return 1;
  }
  printf("ops=%ld total_ms=%.1f per_op_us=%.2f\n", ops, total, total * 1e3 / ops);
  if (use_stamps) {
    struct stamps *t = &sh->st;
    double n = ops * 1e3;
    printf("stamps (us per round trip): trap %.2f, to-parent %.2f, answer %.2f, to-child %.2f (of which the wake call %.2f), back %.2f\n",
           t->trap / n, t->to_parent / n, t->answer / n, t->to_child / n, t->wake_call / n, t->back / n);
  }
  return 0;
}
