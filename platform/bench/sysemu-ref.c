/*
 * sysemu-ref: the C reference of `make bench-platform`. It runs the same freestanding
 * program (bench-loop, 100000 getppid calls when started natively) under a minimal
 * PTRACE_SYSEMU tracer: per syscall GETREGS, set rax, SETREGS, SYSEMU, waitpid. Tracer
 * and tracee are pinned to the tracer's current CPU (the same-CPU round trip).
 * Output: one line "ops=N total_ms=T per_op_us=U".
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: sysemu-ref PROGRAM\n");
    return 2;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(sched_getcpu(), &set);
  if (sched_setaffinity(0, sizeof set, &set) < 0) perror("sched_setaffinity");
  pid_t pid = fork();
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    execl(argv[1], argv[1], (char *)NULL);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0);
  if (!WIFSTOPPED(status)) {
    fprintf(stderr, "sysemu-ref: %s did not start\n", argv[1]);
    return 1;
  }
  ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
  long ops = 0;
  double start = now_ms();
  ptrace(PTRACE_SYSEMU, pid, NULL, NULL);
  for (;;) {
    if (waitpid(pid, &status, 0) < 0 || !WIFSTOPPED(status)) break;
    struct user_regs_struct regs;
    ptrace(PTRACE_GETREGS, pid, NULL, &regs);
    if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
      if (regs.orig_rax == 231 || regs.orig_rax == 60) break;
      ops++;
      regs.rax = 1; /* getppid() */
      ptrace(PTRACE_SETREGS, pid, NULL, &regs);
    }
    ptrace(PTRACE_SYSEMU, pid, NULL, NULL);
  }
  double total = now_ms() - start;
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  printf("ops=%ld total_ms=%.1f per_op_us=%.2f\n", ops, total, total * 1e3 / ops);
  return 0;
}
