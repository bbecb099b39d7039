/*
 * vfork: the child of vfork shares its parent's memory and the parent waits for its exec
 * or exit; posix_spawn reports a missing program as ENOENT through that shared memory;
 * clone's exit signal (other than SIGCHLD, or none) and wait's __WALL/__WCLONE. With the
 * argument "signal": a signal for the vfork parent waits for the child's exit. With "pidfd": pidfd_open, pidfd_send_signal, CLONE_PIDFD, poll/epoll and waitid(P_PIDFD)
 * on a pidfd.
 */
#include "common.h"
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/syscall.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

extern char **environ;

static volatile int shared_var;

static void vfork_memory(void) {
  char buf[64];
  int st;
  shared_var = 1;
  pid_t p = vfork();
  check(p >= 0, "vfork");
  if (p == 0) {
    shared_var = 2;
    usleep(100 * 1000); /* the parent must not run meanwhile */
    shared_var = 3;
    _exit(4);
  }
  say("vfork: the parent sees the child's write: %d (3: it waited for the exit)", shared_var);
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("vfork child: %s", describe_status(st, buf, sizeof(buf)));

  /* The parent resumes when the child execs, before the new program ends. */
  int fds[2];
  check(pipe(fds) == 0, "pipe");
  shared_var = 1;
  p = vfork();
  check(p >= 0, "vfork");
  if (p == 0) {
    shared_var = 5;
    char *args[] = {"/prog", "wait-stdin", NULL};
    dup2(fds[0], 0);
    execve("/proc/self/exe", args, environ);
    _exit(98);
  }
  say("vfork then exec: the parent runs while the child waits: %s, saw %d", "yes", shared_var);
  close(fds[0]);
  check(write(fds[1], "x", 1) == 1, "write");
  close(fds[1]);
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("exec'd vfork child: %s", describe_status(st, buf, sizeof(buf)));
}

static volatile sig_atomic_t usr2_count;

static void on_usr2(int sig) {
  (void)sig;
  usr2_count++;
}

/* A signal sent to the parent while its vfork child runs waits for the child's exit. */
static void vfork_signal(void) {
  char buf[64];
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_usr2; /* no SA_RESTART */
  sigaction(SIGUSR2, &sa, NULL);
  usr2_count = 0;
  pid_t p = vfork();
  if (p == 0) {
    kill(getppid(), SIGUSR2);
    usleep(50 * 1000);
    _exit(0);
  }
  int e = errno;
  say("vfork while the parent gets a signal: %s, handler ran %d", p > 0 ? "the pid" : errname(e), (int)usr2_count);
  int st;
  if (p > 0) {
    check(waitpid(p, &st, 0) == p, "waitpid");
    say("  child %s", describe_status(st, buf, sizeof(buf)));
  }
  sa.sa_handler = SIG_DFL;
  sigaction(SIGUSR2, &sa, NULL);
}

static void spawn(void) {
  char buf[64];
  pid_t p = 0;
  char *missing[] = {"/no/such/program", NULL};
  int r = posix_spawn(&p, missing[0], NULL, NULL, missing, environ);
  say("posix_spawn of a missing program: %s", errname(r));
  char *missing_p[] = {"no-such-program-in-path", NULL};
  r = posix_spawnp(&p, missing_p[0], NULL, NULL, missing_p, environ);
  say("posix_spawnp of a missing program: %s", errname(r));
  char *self[] = {"/prog", "exit7", NULL};
  r = posix_spawn(&p, "/proc/self/exe", NULL, NULL, self, environ);
  say("posix_spawn of itself: %s", errname(r));
  if (r == 0) {
    int st;
    check(waitpid(p, &st, 0) == p, "waitpid");
    say("spawned child: %s", describe_status(st, buf, sizeof(buf)));
  }
}

static volatile sig_atomic_t usr1_count, chld_count;

static void count_signal(int sig) {
  if (sig == SIGUSR1) usr1_count++;
  if (sig == SIGCHLD) chld_count++;
}

/* raw_clone forks with clone(2) and the given exit signal; the child exits with code. */
static pid_t raw_clone(int exit_signal, int code) {
  long p = syscall(SYS_clone, (long)exit_signal, 0L, 0L, 0L, 0L);
  if (p == 0) syscall(SYS_exit_group, code);
  return (pid_t)p;
}

/* The signals a parent gets when its children exit are counted by handlers (SA_RESTART). */
static void exit_signals(void) {
  char buf[64];
  int st;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = count_signal;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGCHLD, &sa, NULL);

  pid_t p = raw_clone(SIGUSR1, 5);
  check(p > 0, "clone");
  /* The child exits; wait for it without reaping (__WALL), then look at the signals. */
  siginfo_t si;
  check(waitid(P_PID, p, &si, WEXITED | WNOWAIT | __WALL) == 0, "waitid");
  say("clone with exit signal SIGUSR1: SIGUSR1 received %d, SIGCHLD received %d", (int)usr1_count, (int)chld_count);
  pid_t r = waitpid(p, &st, 0);
  say("  waitpid without __WALL: %s", r == -1 ? errname(errno) : "found");
  r = waitpid(p, &st, __WCLONE);
  say("  waitpid with __WCLONE: %s, %s", r == p ? "found" : errname(errno), describe_status(st, buf, sizeof(buf)));

  usr1_count = chld_count = 0;
  p = raw_clone(0, 6);
  check(p > 0, "clone");
  check(waitid(P_PID, p, &si, WEXITED | WNOWAIT | __WALL) == 0, "waitid");
  say("clone with exit signal 0: SIGUSR1 received %d, SIGCHLD received %d", (int)usr1_count, (int)chld_count);
  r = waitpid(p, &st, __WALL);
  say("  waitpid with __WALL: %s, %s", r == p ? "found" : errname(errno), describe_status(st, buf, sizeof(buf)));

  usr1_count = chld_count = 0;
  p = fork();
  check(p >= 0, "fork");
  if (p == 0) _exit(7);
  check(waitid(P_PID, p, &si, WEXITED | WNOWAIT) == 0, "waitid");
  r = waitpid(p, &st, __WCLONE);
  say("fork child, waitpid with __WCLONE: %s", r == -1 ? errname(errno) : "found");
  r = waitpid(p, &st, __WALL);
  say("  with __WALL: %s, %s; SIGCHLD received %d", r == p ? "found" : errname(errno), describe_status(st, buf, sizeof(buf)), (int)chld_count);
  sa.sa_handler = SIG_DFL;
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGCHLD, &sa, NULL);
}

static int pidfd_open(pid_t pid, unsigned flags) { return (int)syscall(SYS_pidfd_open, pid, flags); }
static int pidfd_send_signal(int fd, int sig, siginfo_t *info, unsigned flags) { return (int)syscall(SYS_pidfd_send_signal, fd, sig, info, flags); }

static void pidfds(void) {
  char buf[64];
  int fds[2];
  check(pipe(fds) == 0, "pipe");
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    close(fds[1]);
    char c;
    (void)!read(fds[0], &c, 1); /* until the parent ends it */
    _exit(0);
  }
  close(fds[0]);
  int pfd = pidfd_open(p, 0);
  check(pfd >= 0, "pidfd_open");
  say("pidfd_open: close-on-exec %s", fcntl(pfd, F_GETFD) & FD_CLOEXEC ? "yes" : "no");
  struct pollfd pf = {pfd, POLLIN, 0};
  say("poll before exit: %d", poll(&pf, 1, 0));
  int nb = pidfd_open(p, PIDFD_NONBLOCK);
  siginfo_t si;
  memset(&si, 0, sizeof(si));
  int r = waitid(P_PIDFD, nb, &si, WEXITED);
  say("waitid on a non-blocking pidfd of a running child: %s", result(r));
  say("pidfd_send_signal SIGTERM: %s", result(pidfd_send_signal(pfd, SIGTERM, NULL, 0)));
  int n = poll(&pf, 1, 10000);
  say("poll after the signal: %d, POLLIN %s", n, pf.revents & POLLIN ? "yes" : "no");
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN}, out;
  check(epoll_ctl(ep, EPOLL_CTL_ADD, pfd, &ev) == 0, "epoll_ctl");
  say("epoll_wait: %d", epoll_wait(ep, &out, 1, 1000));
  memset(&si, 0, sizeof(si));
  r = waitid(P_PIDFD, pfd, &si, WEXITED);
  say("waitid(P_PIDFD): %s, pid matches %s, code %s, status %s", result(r), si.si_pid == p ? "yes" : "no",
      si.si_code == CLD_KILLED ? "CLD_KILLED" : "other", sigabbrev_np(si.si_status) ? sigabbrev_np(si.si_status) : "?");
  say("pidfd_send_signal after reaping: %s", result(pidfd_send_signal(pfd, SIGTERM, NULL, 0)));
  close(fds[1]);
  close(ep);
  close(nb);
  close(pfd);

  say("pidfd_open bad flags: %s", result(pidfd_open(getpid(), 1)));
  say("pidfd_open pid 0: %s", result(pidfd_open(0, 0)));
  say("pidfd_open no such pid: %s", result(pidfd_open(4000000, 0)));
  int self = pidfd_open(getpid(), 0);
  say("pidfd_send_signal on a pipe: %s", result(pidfd_send_signal(fds[0] = dup(1), 0, NULL, 0)));
  close(fds[0]);
  say("pidfd_send_signal signal 0 to itself: %s", result(pidfd_send_signal(self, 0, NULL, 0)));
  char b;
  say("read on a pidfd: %s", result(read(self, &b, 1)));
  close(self);

  /* CLONE_PIDFD through clone3. */
  int cfd = -1;
  struct clone_args ca;
  memset(&ca, 0, sizeof(ca));
  ca.flags = CLONE_PIDFD;
  ca.pidfd = (uint64_t)(uintptr_t)&cfd;
  ca.exit_signal = SIGCHLD;
  long c = syscall(SYS_clone3, &ca, sizeof(ca));
  if (c == 0) syscall(SYS_exit_group, 3);
  check(c > 0, "clone3");
  say("clone3 CLONE_PIDFD: got a pidfd %s", cfd >= 0 ? "yes" : "no");
  pf.fd = cfd;
  pf.revents = 0;
  n = poll(&pf, 1, 10000);
  memset(&si, 0, sizeof(si));
  r = waitid(P_PIDFD, cfd, &si, WEXITED);
  say("  poll %d, waitid %s, code %s, status %d", n, result(r), si.si_code == CLD_EXITED ? "CLD_EXITED" : "other", si.si_status);
  close(cfd);
  /* CLONE_PIDFD with the legacy clone: the fd goes where parent_tid points. */
  cfd = -1;
  c = syscall(SYS_clone, (long)(CLONE_PIDFD | SIGCHLD), 0L, &cfd, 0L, 0L);
  if (c == 0) syscall(SYS_exit_group, 4);
  check(c > 0, "clone");
  int st;
  check(waitpid((pid_t)c, &st, 0) == c, "waitpid");
  say("clone CLONE_PIDFD: got a pidfd %s, child %s", cfd >= 0 ? "yes" : "no", describe_status(st, buf, sizeof(buf)));
  say("clone CLONE_PIDFD|CLONE_PARENT_SETTID: %s", result(syscall(SYS_clone, (long)(CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD), 0L, &cfd, 0L, 0L)));
  memset(&ca, 0, sizeof(ca));
  ca.exit_signal = 65;
  say("clone3 exit signal 65: %s", result(syscall(SYS_clone3, &ca, sizeof(ca))));
  say("clone3 size 63: %s", result(syscall(SYS_clone3, &ca, 63)));
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "exit7") == 0) return 7;
  if (argc > 1 && strcmp(argv[1], "wait-stdin") == 0) {
    char c;
    return read(0, &c, 1) == 1 ? 0 : 1;
  }
  if (argc > 1 && strcmp(argv[1], "signal") == 0) {
    vfork_signal();
    say("done");
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "pidfd") == 0) {
    pidfds();
    say("done");
    return 0;
  }
  vfork_memory();
  spawn();
  exit_signals();
  say("done");
  return 0;
}
