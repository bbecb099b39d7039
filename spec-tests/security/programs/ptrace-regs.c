/*
 * ptrace-regs: a tracer hands its stopped tracee registers the tracee could not give
 * itself (a 32-bit or kernel code segment, a non-canonical or stub-page rip, the trap and
 * I/O-privilege flags, fs_base/gs_base in the kernel half or on the platform's stub
 * pages), then continues it. Each case prints what SETREGS answered and how the tracee
 * ended; the tracer's own syscalls must still answer afterwards, and a new process run.
 *
 * Output: "case <name>: setregs <0|EIO>, <signal N|exit N>" per case, then
 * "parent's syscalls answer: yes" and "a new process runs: yes", then whether a write to
 * the vDSO through /proc/self/mem was "written" or "refused" and whether a new process
 * reads the clock after it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/ptrace.h>
#include <time.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *s) {
  if (write(1, s, strlen(s)) < 0) _exit(3);
}

/* The systrap platform's stub pages (platform/systrap/layout.ts); natively unmapped. */
#define STUB 0x7fffff000000ULL

enum field { CS, RIP, EFLAGS, FS_BASE, GS_BASE, SS };

struct hostile {
  const char *name;
  enum field field;
  unsigned long long value;
  int or_in; /* eflags: set these bits */
};

static const struct hostile CASES[] = {
    {"kernel cs", CS, 0x10, 0},
    {"32-bit cs", CS, 0x23, 0},
    {"kernel ss", SS, 0x18, 0},
    {"non-canonical rip", RIP, 0x800000000000ULL, 0},
    {"kernel rip", RIP, 0xffffffff81000000ULL, 0},
    {"rip on the stub", RIP, STUB + 0x200, 0},
    {"trap flag", EFLAGS, 0x100, 1},
    {"iopl 3 and nt", EFLAGS, 0x7000, 1},
    {"kernel fs_base", FS_BASE, 0xffff880000000000ULL, 0},
    {"fs_base on the stub", FS_BASE, STUB, 0},
    {"gs_base on the stub", GS_BASE, STUB, 0},
};

static void run_case(const struct hostile *h) {
  pid_t c = fork();
  if (c < 0) _exit(2);
  if (c == 0) {
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) _exit(90);
    raise(SIGSTOP);
    /* Reads fs and gs (the TLS base) and makes syscalls, so the bases are used. */
    for (int i = 0; i < 100; i++) {
      errno = 0;
      (void)getppid();
    }
    _exit(0);
  }
  int st;
  if (waitpid(c, &st, 0) != c || !WIFSTOPPED(st)) _exit(4);
  struct user_regs_struct r;
  if (ptrace(PTRACE_GETREGS, c, 0, &r) != 0) _exit(5);
  switch (h->field) {
    case CS: r.cs = h->value; break;
    case SS: r.ss = h->value; break;
    case RIP: r.rip = h->value; break;
    case EFLAGS: r.eflags |= h->value; break;
    case FS_BASE: r.fs_base = h->value; break;
    case GS_BASE: r.gs_base = h->value; break;
  }
  long set = ptrace(PTRACE_SETREGS, c, 0, &r);
  const char *answer = set == 0 ? "0" : errno == EIO ? "EIO" : "other";
  ptrace(PTRACE_CONT, c, 0, 0);
  char out[200];
  for (int stops = 0;; stops++) {
    if (waitpid(c, &st, 0) != c) _exit(6);
    if (WIFSTOPPED(st)) {
      /* A signal it got: deliver it (its default action ends it), or kill it after 5. */
      if (stops >= 5) ptrace(PTRACE_KILL, c, 0, 0);
      else ptrace(PTRACE_CONT, c, 0, WSTOPSIG(st));
      continue;
    }
    if (WIFSIGNALED(st)) snprintf(out, sizeof(out), "case %s: setregs %s, signal %d\n", h->name, answer, WTERMSIG(st));
    else snprintf(out, sizeof(out), "case %s: setregs %s, exit %d\n", h->name, answer, WEXITSTATUS(st));
    say(out);
    return;
  }
}

/*
 * vdso_write tries to change the vDSO's code through /proc/self/mem (Linux writes a
 * private copy; the sentry's vDSO is one object shared by every process, so it must
 * refuse), then runs a fresh process whose clock_gettime goes through the vDSO.
 */
static void vdso_write(const char *self) {
  unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
  int fd = open("/proc/self/mem", O_RDWR);
  unsigned char trap[16];
  memset(trap, 0xcc, sizeof(trap));
  ssize_t w = fd < 0 ? -1 : pwrite(fd, trap, sizeof(trap), (off_t)(vdso + 0x600));
  say(w == (ssize_t)sizeof(trap) ? "vdso write: written\n" : "vdso write: refused\n");
  if (fd >= 0) close(fd);
  pid_t c = fork();
  if (c == 0) {
    execl(self, self, "clock", (char *)NULL);
    _exit(99);
  }
  int st;
  say(c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "a new process reads the clock: yes\n" : "a new process reads the clock: no\n");
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "clock") == 0) {
    struct timespec ts;
    return clock_gettime(CLOCK_MONOTONIC, &ts) == 0 && ts.tv_sec + ts.tv_nsec > 0 ? 0 : 1;
  }
  for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) run_case(&CASES[i]);
  pid_t me = getpid();
  say(getpid() == me && getppid() >= 0 ? "parent's syscalls answer: yes\n" : "parent's syscalls answer: no\n");
  pid_t c = fork();
  if (c == 0) _exit(42);
  int st;
  say(c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 42 ? "a new process runs: yes\n" : "a new process runs: no\n");
  vdso_write(argv[0]);
  return 0;
}
