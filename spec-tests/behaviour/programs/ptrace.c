/*
 * ptrace: a tracer and its tracees, the requests LeakSanitizer's stop-the-world makes
 * (ptrace(2)).
 *
 * A parent attaches its child (SIGSTOP, reported to waitpid as a stop), reads its
 * registers (GETREGS, GETREGSET with the iovec length set, PEEKUSER, GETFPREGS), its
 * memory (PEEKDATA, /proc/<pid>/mem) and changes it (POKEDATA, pwrite there), reads the stop's siginfo, and continues it
 * with a signal its handler takes. A tracee's own signal stops it and is reported; the
 * tracer's CONT with 0 suppresses it and DETACH with the signal delivers it. A seized
 * tracee stops on PTRACE_INTERRUPT with PTRACE_EVENT_STOP and dies of PTRACE_KILL. A
 * single step stops a spinning tracee with SIGTRAP after one instruction, the trap flag
 * never shown to the tracer. A
 * sibling that is not the tracee's parent attaches, waits with __WALL and detaches. The
 * refusals: tracing one's own process, a task already traced, another user's process
 * (EPERM; its /proc/<pid>/mem: EACCES); a request for a task not traced or not stopped (ESRCH); registers a tracee
 * must not get (a kernel code segment or fs_base: EIO; the I/O privilege level in
 * eflags: left out).
 */
#include "common.h"
#include <stddef.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

static volatile long value = 0x1234;
static volatile sig_atomic_t usr_handled;

static void on_usr(int sig) {
  (void)sig;
  usr_handled++;
}

static void handle(int sig) {
  struct sigaction sa = {.sa_handler = on_usr};
  sigemptyset(&sa.sa_mask);
  check(sigaction(sig, &sa, NULL) == 0, "sigaction");
}

static const char *err(long r) {
  return r == 0 ? "0" : errno == EPERM ? "EPERM" : errno == ESRCH ? "ESRCH" : errno == EIO ? "EIO" : errno == EFAULT ? "EFAULT" : errno == EINVAL ? "EINVAL" : "other";
}

static void stop_status(const char *what, pid_t c) {
  int st;
  pid_t w = waitpid(c, &st, __WALL);
  if (w != c) say("%s: waitpid failed", what);
  else if (WIFSTOPPED(st)) say("%s: stopped by %d, event %d", what, WSTOPSIG(st), st >> 16);
  else if (WIFEXITED(st)) say("%s: exited %d", what, WEXITSTATUS(st));
  else if (WIFSIGNALED(st)) say("%s: killed by %d", what, WTERMSIG(st));
}

/* state_of returns the State line's value in /proc/<c>/status (t (tracing stop), ...). */
static const char *state_of(pid_t c) {
  static char state[64];
  char path[64], buf[4096];
  snprintf(path, sizeof(path), "/proc/%d/status", c);
  FILE *f = fopen(path, "r");
  if (!f) return "?";
  strcpy(state, "?");
  while (fgets(buf, sizeof(buf), f))
    if (sscanf(buf, "State: %63[^\n]", state) == 1) break;
  fclose(f);
  return state;
}

static long tracer_pid_of(pid_t c) {
  char path[64], buf[4096];
  snprintf(path, sizeof(path), "/proc/%d/status", c);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  long tp = -1;
  while (fgets(buf, sizeof(buf), f))
    if (sscanf(buf, "TracerPid: %ld", &tp) == 1) break;
  fclose(f);
  return tp;
}

/* pauser forks a child that waits for SIGUSR1 and exits with value's low byte. */
static pid_t pauser(void) {
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    handle(SIGUSR1);
    while (!usr_handled) pause();
    _exit((int)(value & 0xff));
  }
  usleep(100 * 1000);
  return c;
}

static void attach_and_inspect(void) {
  say("attach to self: %s", err(ptrace(PTRACE_ATTACH, getpid(), 0, 0)));
  pid_t c = pauser();
  say("cont before attach: %s", err(ptrace(PTRACE_CONT, c, 0, 0)));
  say("attach: %s", err(ptrace(PTRACE_ATTACH, c, 0, 0)));
  stop_status("after attach", c);
  say("attach again: %s", err(ptrace(PTRACE_ATTACH, c, 0, 0)));
  say("TracerPid is the tracer: %s", tracer_pid_of(c) == getpid() ? "yes" : "no");
  say("State: %s", state_of(c));

  struct user_regs_struct regs;
  say("getregs: %s", err(ptrace(PTRACE_GETREGS, c, 0, &regs)));
  say("cs 0x%llx ss 0x%llx, rip nonzero %s", regs.cs, regs.ss, regs.rip ? "yes" : "no");
  // glibc's PEEK* wrappers return the word: errno tells a failure.
  errno = 0;
  long word = ptrace(PTRACE_PEEKUSER, c, offsetof(struct user, regs.rip), 0);
  say("peekuser rip: %s, same %s", err(errno ? -1 : 0), (unsigned long long)word == regs.rip ? "yes" : "no");
  errno = 0;
  ptrace(PTRACE_PEEKUSER, c, 3, 0);
  say("peekuser unaligned: %s", err(errno ? -1 : 0));
  struct { struct user_regs_struct r; char spare[64]; } big;
  struct iovec iov = {&big, sizeof(big)};
  const char *e = err(ptrace(PTRACE_GETREGSET, c, NT_PRSTATUS, &iov));
  say("getregset prstatus: %s, length %zu, rsp same %s", e, iov.iov_len, big.r.rsp == regs.rsp ? "yes" : "no");
  struct user_fpregs_struct fp;
  say("getfpregs: %s", err(ptrace(PTRACE_GETFPREGS, c, 0, &fp)));
  iov.iov_len = 16;
  e = err(ptrace(PTRACE_GETREGSET, c, NT_PRFPREG, &iov));
  say("getregset prfpreg short: %s, length %zu", e, iov.iov_len);
  siginfo_t si;
  e = err(ptrace(PTRACE_GETSIGINFO, c, 0, &si));
  say("getsiginfo: %s, signo %d", e, si.si_signo);

  errno = 0;
  word = ptrace(PTRACE_PEEKDATA, c, &value, 0);
  say("peekdata: %s, 0x%lx", err(errno ? -1 : 0), word);
  say("pokedata: %s", err(ptrace(PTRACE_POKEDATA, c, &value, (void *)0x4d2a)));
  errno = 0;
  ptrace(PTRACE_PEEKDATA, c, (void *)8, 0);
  say("peekdata bad address: %s", err(errno ? -1 : 0));
  say("pokedata bad address: %s", err(ptrace(PTRACE_POKEDATA, c, (void *)8, 0)));
  errno = 0;
  word = ptrace(PTRACE_PEEKTEXT, c, &value, 0);
  say("peektext after poke: 0x%lx", word);

  // The same memory through /proc/<pid>/mem, offsets as addresses.
  char mem[64];
  snprintf(mem, sizeof(mem), "/proc/%d/mem", c);
  int fd = open(mem, O_RDWR);
  long got = 0, put = 0x4d2a;
  ssize_t n = pread(fd, &got, 8, (off_t)(unsigned long)&value);
  say("mem: open %s, pread %zd, 0x%lx", fd >= 0 ? "0" : "failed", n, got);
  say("mem: pwrite %zd", pwrite(fd, &put, 8, (off_t)(unsigned long)&value));
  errno = 0;
  ssize_t bad_read = pread(fd, &got, 8, 8);
  say("mem: pread of an unmapped address %zd %s", bad_read, err(bad_read == 0 ? 0 : -1));
  close(fd);

  // Registers a tracee must not get.
  struct user_regs_struct bad = regs;
  bad.cs = 0x10;
  say("setregs kernel cs: %s", err(ptrace(PTRACE_SETREGS, c, 0, &bad)));
  bad = regs;
  bad.fs_base = 0xffff880000000000ULL;
  say("setregs kernel fs_base: %s", err(ptrace(PTRACE_SETREGS, c, 0, &bad)));
  bad = regs;
  bad.eflags |= 0x3000; // IOPL 3
  say("setregs iopl: %s", err(ptrace(PTRACE_SETREGS, c, 0, &bad)));
  memset(&bad, 0, sizeof(bad));
  ptrace(PTRACE_GETREGS, c, 0, &bad);
  say("iopl after: %llu", (bad.eflags >> 12) & 3);
  say("setregs unchanged: %s", err(ptrace(PTRACE_SETREGS, c, 0, &regs)));
  say("cont with SIGUSR1: %s", err(ptrace(PTRACE_CONT, c, 0, SIGUSR1)));
  stop_status("after cont", c);
}

static void signal_stops(void) {
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    handle(SIGUSR2);
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) _exit(90);
    raise(SIGUSR2);
    if (usr_handled != 0) _exit(91); // suppressed by the tracer
    raise(SIGUSR2);
    _exit(usr_handled == 1 ? 7 : 92); // delivered at detach
  }
  stop_status("own signal", c);
  siginfo_t si;
  ptrace(PTRACE_GETSIGINFO, c, 0, &si);
  say("siginfo: signo %d, code tkill %s", si.si_signo, si.si_code == SI_TKILL ? "yes" : "no");
  say("cont with 0: %s", err(ptrace(PTRACE_CONT, c, 0, 0)));
  stop_status("own signal again", c);
  say("detach with SIGUSR2: %s", err(ptrace(PTRACE_DETACH, c, 0, SIGUSR2)));
  say("cont after detach: %s", err(ptrace(PTRACE_CONT, c, 0, 0)));
  stop_status("detached", c);
}

static void seize_interrupt_kill(void) {
  pid_t c = pauser();
  say("seize: %s", err(ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_EXITKILL)));
  struct user_regs_struct regs;
  say("getregs while running: %s", err(ptrace(PTRACE_GETREGS, c, 0, &regs)));
  say("interrupt: %s", err(ptrace(PTRACE_INTERRUPT, c, 0, 0)));
  stop_status("interrupted", c);
  say("getregs: %s", err(ptrace(PTRACE_GETREGS, c, 0, &regs)));
  say("kill: %s", err(ptrace(PTRACE_KILL, c, 0, 0)));
  stop_status("killed", c);
}

static volatile unsigned long spins;

/* single_step steps a spinning child three instructions: each stops it with SIGTRAP. */
static void single_step(void) {
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    for (;;) spins++;
  }
  say("attach spinner: %s", err(ptrace(PTRACE_ATTACH, c, 0, 0)));
  stop_status("spinner", c);
  struct user_regs_struct before, after;
  ptrace(PTRACE_GETREGS, c, 0, &before);
  int moved = 0, tf = 0, traps = 0;
  for (int i = 0; i < 3; i++) {
    if (ptrace(PTRACE_SINGLESTEP, c, 0, 0) != 0) break;
    int st;
    if (waitpid(c, &st, __WALL) != c || !WIFSTOPPED(st)) break;
    if (WSTOPSIG(st) == SIGTRAP) traps++;
    siginfo_t si;
    ptrace(PTRACE_GETSIGINFO, c, 0, &si);
    ptrace(PTRACE_GETREGS, c, 0, &after);
    if (after.rip != before.rip) moved++;
    if (after.eflags & 0x100) tf++;
    before = after;
  }
  say("singlestep: %d SIGTRAP stops, rip moved %d times, trap flag seen %d times", traps, moved, tf);
  say("kill spinner: %s", err(ptrace(PTRACE_KILL, c, 0, 0)));
  stop_status("spinner", c);
}

static void not_the_parent(void) {
  pid_t target = pauser();
  pid_t tracer = fork();
  check(tracer >= 0, "fork");
  if (tracer == 0) {
    if (ptrace(PTRACE_ATTACH, target, 0, 0) != 0) _exit(80);
    int st;
    if (waitpid(target, &st, __WALL) != target || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP) _exit(81);
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, target, 0, &regs) != 0) _exit(82);
    if (ptrace(PTRACE_DETACH, target, 0, 0) != 0) _exit(83);
    _exit(0);
  }
  stop_status("sibling tracer", tracer);
  kill(target, SIGUSR1);
  stop_status("its tracee", target);
}

static void other_user(void) {
  pid_t parent = getpid();
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(70);
    if (ptrace(PTRACE_ATTACH, parent, 0, 0) != -1 || errno != EPERM) _exit(71);
    char mem[64];
    snprintf(mem, sizeof(mem), "/proc/%d/mem", parent);
    _exit(open(mem, O_RDONLY) == -1 && errno == EACCES ? 0 : 72);
  }
  stop_status("other user attaches", c);
}

int main(void) {
  attach_and_inspect();
  signal_stops();
  seize_interrupt_kill();
  single_step();
  not_the_parent();
  other_user();
  say("done");
  return 0;
}
