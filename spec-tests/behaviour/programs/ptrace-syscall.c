/*
 * ptrace-syscall: what strace -f needs (ptrace(2): PTRACE_SYSCALL, PTRACE_O_TRACESYSGOOD,
 * PTRACE_O_TRACEFORK, PTRACE_O_TRACEEXEC, PTRACE_GETEVENTMSG, PTRACE_GET_SYSCALL_INFO).
 *
 * A tracer follows its child from syscall to syscall: each stop is SIGTRAP|0x80, the
 * entry stop's info names the syscall and its arguments, the exit stop's its result. At
 * getpid's entry the tracer sets orig_rax to -1 and rax to 4242: the syscall is skipped
 * and the child sees 4242. The child's fork stops it with PTRACE_EVENT_FORK, the event
 * message is the new pid, and the grandchild starts traced, stopped by SIGSTOP. An exec
 * stops with PTRACE_EVENT_EXEC (message: the pid) under PTRACE_O_TRACEEXEC, and with a
 * plain SIGTRAP without it; an exit with PTRACE_EVENT_EXIT under PTRACE_O_TRACEEXIT
 * (message: the wait status).
 */
#include "common.h"
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>

static void child_syscalls(void) {
  if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) _exit(90);
  raise(SIGSTOP);
  long pp = syscall(SYS_getppid);
  long p = syscall(SYS_getpid);
  pid_t g = fork();
  if (g == 0) _exit(5);
  int st;
  if (waitpid(g, &st, 0) != g || !WIFEXITED(st) || WEXITSTATUS(st) != 5) _exit(91);
  _exit(pp == getppid() && p == 4242 ? 3 : 4);
}

static const char *name(long nr) {
  switch (nr) {
    case SYS_getppid: return "getppid";
    case SYS_getpid: return "getpid";
    case SYS_clone: return "clone";
    case SYS_wait4: return "wait4";
    case SYS_exit_group: return "exit_group";
    default: return NULL;
  }
}

static void follow_syscalls(void) {
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) child_syscalls();
  int st;
  check(waitpid(c, &st, 0) == c && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "first stop");
  say("setoptions: %ld", ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_EXITKILL));
  long current = -1;
  int sig = 0;
  for (int stops = 0; stops < 200; stops++) {
    check(ptrace(PTRACE_SYSCALL, c, 0, sig) == 0, "PTRACE_SYSCALL");
    sig = 0;
    check(waitpid(c, &st, __WALL) == c, "waitpid");
    if (WIFEXITED(st)) {
      say("child exited %d", WEXITSTATUS(st));
      return;
    }
    if (!WIFSTOPPED(st)) {
      say("child ended otherwise: 0x%x", st);
      return;
    }
    if (st >> 16 == PTRACE_EVENT_FORK) {
      unsigned long msg = 0;
      ptrace(PTRACE_GETEVENTMSG, c, 0, &msg);
      pid_t g = (pid_t)msg;
      say("fork event, message is a child of the tracee: %s", getppid() != g && g > 0 ? "yes" : "no");
      check(waitpid(g, &st, __WALL) == g, "waitpid grandchild");
      say("grandchild: stopped %d by %d", WIFSTOPPED(st), WSTOPSIG(st));
      ptrace(PTRACE_CONT, g, 0, 0);
      check(waitpid(g, &st, __WALL) == g, "waitpid grandchild exit");
      say("grandchild: exited %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
      continue;
    }
    if (WSTOPSIG(st) != (SIGTRAP | 0x80)) {
      sig = WSTOPSIG(st); // a signal for the child: pass it on
      continue;
    }
    struct __ptrace_syscall_info info;
    long size = ptrace(PTRACE_GET_SYSCALL_INFO, c, sizeof(info), &info);
    if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
      current = (long)info.entry.nr;
      const char *n = name(current);
      if (!n) continue;
      say("entry %s (info %ld bytes, arch 0x%x)", n, size, info.arch);
      if (current == SYS_getpid) {
        struct user_regs_struct r;
        ptrace(PTRACE_GETREGS, c, 0, &r);
        say("at entry rax is -ENOSYS: %s", (long)r.rax == -ENOSYS ? "yes" : "no");
        r.orig_rax = (unsigned long long)-1;
        r.rax = 4242;
        say("skip getpid: %ld", ptrace(PTRACE_SETREGS, c, 0, &r));
      }
    } else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
      const char *n = name(current);
      if (!n) continue;
      if (current == SYS_getpid) say("exit %s: %lld, error %d (info %ld bytes)", n, (long long)info.exit.rval, info.exit.is_error, size);
      else say("exit %s: error %d (info %ld bytes)", n, info.exit.is_error, size);
    } else {
      say("syscall stop without syscall info: op %d", info.op);
    }
  }
  say("too many stops");
  kill(c, SIGKILL);
}

/* traced_child forks a child that asks to be traced, stops, and then execs itself as
 * `ptrace-syscall exit7` (exec) or exits 9; the tracer sets `options` at the first stop,
 * continues it and waits for the next stop: *msg is its GETEVENTMSG, the pid returned. */
static pid_t traced_child(int exec, int options, int *st, unsigned long *msg) {
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0) _exit(90);
    raise(SIGSTOP);
    if (!exec) _exit(9);
    char *argv[] = {"ptrace-syscall", "exit7", NULL};
    execv("/proc/self/exe", argv);
    _exit(92);
  }
  check(waitpid(c, st, 0) == c && WIFSTOPPED(*st), "first stop");
  ptrace(PTRACE_SETOPTIONS, c, 0, options);
  ptrace(PTRACE_CONT, c, 0, 0);
  check(waitpid(c, st, 0) == c, "waitpid");
  *msg = 0;
  ptrace(PTRACE_GETEVENTMSG, c, 0, msg);
  return c;
}

static void exec_stop(int options) {
  int st;
  unsigned long msg;
  pid_t c = traced_child(1, options, &st, &msg);
  say("exec with options 0x%x: stopped %d by %d, event %d, message the pid %s", options, WIFSTOPPED(st), WSTOPSIG(st), st >> 16,
      options ? ((pid_t)msg == c ? "yes" : "no") : "-");
  ptrace(PTRACE_CONT, c, 0, 0);
  check(waitpid(c, &st, 0) == c, "waitpid exit");
  say("after exec: exited %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* exit_event: under PTRACE_O_TRACEEXIT the tracee stops before it exits, the status as the message. */
static void exit_event(void) {
  int st;
  unsigned long msg;
  pid_t c = traced_child(0, PTRACE_O_TRACEEXIT, &st, &msg);
  say("exit event: stopped %d by %d, event %d, message 0x%lx", WIFSTOPPED(st), WSTOPSIG(st), st >> 16, msg);
  ptrace(PTRACE_CONT, c, 0, 0);
  check(waitpid(c, &st, 0) == c, "waitpid exit");
  say("after the exit event: exited %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "exit7") == 0) _exit(7);
  follow_syscalls();
  exec_stop(PTRACE_O_TRACEEXEC);
  exec_stop(0);
  exit_event();
  say("done");
  return 0;
}
