/*
 * clone3: the flags only clone3 has, as clone(2) and kernel/fork.c define them.
 * CLONE_CLEAR_SIGHAND gives the child default handlers (an ignored signal stays ignored),
 * and is EINVAL with CLONE_SIGHAND. CLONE_INTO_CGROUP needs the struct's cgroup field
 * (a size of at least CLONE_ARGS_SIZE_VER2, else EINVAL), a descriptor number up to
 * INT_MAX (EINVAL), and a descriptor of a cgroup2 directory (EBADF for a closed one or a
 * file of another file system); the cgroup field is ignored without the flag. An unknown
 * flag is EINVAL.
 */
#include "common.h"
#include <fcntl.h>
#include <linux/sched.h>
#include <stdint.h>
#include <sys/syscall.h>

static long c3(uint64_t flags, uint64_t cgroup, size_t size) {
  struct clone_args a;
  memset(&a, 0, sizeof(a));
  a.flags = flags;
  a.exit_signal = SIGCHLD;
  a.cgroup = cgroup;
  long r = syscall(SYS_clone3, &a, size);
  if (r == 0) _exit(0);
  if (r > 0) waitpid(r, NULL, 0);
  return r;
}

static void on_usr1(int sig) { (void)sig; }

static const char *disposition(int sig) {
  struct sigaction sa;
  check(sigaction(sig, NULL, &sa) == 0, "sigaction");
  return sa.sa_handler == SIG_DFL ? "default" : sa.sa_handler == SIG_IGN ? "ignored" : "a handler";
}

int main(void) {
  char buf[64];
  int devnull = open("/dev/null", O_RDONLY);
  int proc = open("/proc", O_RDONLY | O_DIRECTORY);
  check(devnull >= 0 && proc >= 0, "open");
  say("CLONE_INTO_CGROUP, struct of 64 bytes: %s", result(c3(CLONE_INTO_CGROUP, devnull, 64)));
  say("CLONE_INTO_CGROUP, /dev/null: %s", result(c3(CLONE_INTO_CGROUP, devnull, sizeof(struct clone_args))));
  say("CLONE_INTO_CGROUP, /proc: %s", result(c3(CLONE_INTO_CGROUP, proc, sizeof(struct clone_args))));
  say("CLONE_INTO_CGROUP, a closed descriptor: %s", result(c3(CLONE_INTO_CGROUP, 999, sizeof(struct clone_args))));
  say("CLONE_INTO_CGROUP, descriptor 2^31: %s", result(c3(CLONE_INTO_CGROUP, 1ULL << 31, sizeof(struct clone_args))));
  say("cgroup field without the flag: %s", result(c3(0, 999, sizeof(struct clone_args))));
  say("unknown flag 1<<34: %s", result(c3(1ULL << 34, 0, sizeof(struct clone_args))));
  say("CLONE_CLEAR_SIGHAND|CLONE_SIGHAND|CLONE_VM: %s", result(c3(CLONE_CLEAR_SIGHAND | CLONE_SIGHAND | CLONE_VM, 0, sizeof(struct clone_args))));

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_usr1;
  check(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
  signal(SIGUSR2, SIG_IGN);
  struct clone_args a;
  memset(&a, 0, sizeof(a));
  a.flags = CLONE_CLEAR_SIGHAND;
  a.exit_signal = SIGCHLD;
  long c = syscall(SYS_clone3, &a, 64);
  check(c >= 0, "clone3");
  if (c == 0) {
    say("CLONE_CLEAR_SIGHAND child: SIGUSR1 %s, SIGUSR2 %s", disposition(SIGUSR1), disposition(SIGUSR2));
    /* Its SIGUSR1 now ends it, as the default action. */
    raise(SIGUSR1);
    _exit(0);
  }
  int st;
  check(waitpid(c, &st, 0) == c, "waitpid");
  say("CLONE_CLEAR_SIGHAND child: %s; the parent keeps SIGUSR1 %s", describe_status(st, buf, sizeof(buf)), disposition(SIGUSR1));
  say("done");
  return 0;
}
