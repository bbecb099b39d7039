/*
 * legacy-calls: the older or less used entry points glibc no longer makes on x86-64,
 * made raw: select, getrlimit/setrlimit (glibc calls prlimit64), signalfd (signalfd4),
 * eventfd (eventfd2), rt_tgsigqueueinfo, epoll_pwait2. Each is checked for its result and
 * its errors; the output is compared natively and under runc, runsc and tvisor.
 */
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>

static const char *err(long r) {
  if (r >= 0) return "ok";
  switch (errno) {
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EAGAIN: return "EAGAIN";
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    default: return strerror(errno);
  }
}

static void check_select(void) {
  int p[2];
  if (pipe(p) != 0) _exit(2);
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  struct timeval tv = {0, 0};
  long n = syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv);
  say("select on an empty pipe: %ld, readable %s", n, FD_ISSET(p[0], &r) ? "yes" : "no");
  if (write(p[1], "x", 1) != 1) _exit(2);
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  tv.tv_sec = 5;
  n = syscall(SYS_select, p[0] + 1, &r, NULL, NULL, &tv);
  say("select after a write: %ld, readable %s", n, FD_ISSET(p[0], &r) ? "yes" : "no");
  fd_set w;
  FD_ZERO(&w);
  FD_SET(p[1], &w);
  n = syscall(SYS_select, p[1] + 1, NULL, &w, NULL, NULL);
  say("select for writing: %ld, writable %s", n, FD_ISSET(p[1], &w) ? "yes" : "no");
  say("select with nfds -1: %s", err(syscall(SYS_select, -1, NULL, NULL, NULL, &tv)));
  close(p[1]);
  FD_ZERO(&r);
  FD_SET(p[1], &r);
  say("select on a closed fd: %s", err(syscall(SYS_select, p[1] + 1, &r, NULL, NULL, &tv)));
  close(p[0]);
}

static void check_rlimit(void) {
  struct rlimit rl;
  long r = syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl);
  say("getrlimit NOFILE: %s", err(r));
  struct rlimit lower = {64, rl.rlim_max};
  say("setrlimit NOFILE 64: %s", err(syscall(SYS_setrlimit, RLIMIT_NOFILE, &lower)));
  struct rlimit now;
  syscall(SYS_getrlimit, RLIMIT_NOFILE, &now);
  say("getrlimit NOFILE after: soft %lu, hard unchanged %s", (unsigned long)now.rlim_cur, now.rlim_max == rl.rlim_max ? "yes" : "no");
  struct rlimit bad = {rl.rlim_max, 1};
  say("setrlimit soft above hard: %s", err(syscall(SYS_setrlimit, RLIMIT_NOFILE, &bad)));
  say("getrlimit resource 99: %s", err(syscall(SYS_getrlimit, 99, &rl)));
  say("getrlimit bad pointer: %s", err(syscall(SYS_getrlimit, RLIMIT_NOFILE, (void *)8)));
  syscall(SYS_setrlimit, RLIMIT_NOFILE, &rl);
}

static void check_signalfd(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  /* The kernel's sigset_t is 8 bytes; signalfd (282) has no flags argument. */
  int fd = (int)syscall(SYS_signalfd, -1, &set, 8);
  say("signalfd: %s", err(fd));
  say("signalfd with a bad size: %s", err(syscall(SYS_signalfd, -1, &set, 4)));
  int fl = fcntl(fd, F_GETFL);
  say("signalfd is non-blocking: %s", (fl & O_NONBLOCK) ? "yes" : "no");
  kill(getpid(), SIGUSR1);
  struct signalfd_siginfo si;
  ssize_t n = read(fd, &si, sizeof si);
  say("signalfd read: %zd bytes, signo %u, code SI_USER %s", n, si.ssi_signo, si.ssi_code == SI_USER ? "yes" : "no");
  close(fd);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void check_eventfd(void) {
  int fd = (int)syscall(SYS_eventfd, 3);
  say("eventfd: %s", err(fd));
  uint64_t v = 0;
  ssize_t n = read(fd, &v, 8);
  say("eventfd read: %zd bytes, value %lu", n, (unsigned long)v);
  int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
  say("eventfd flags: non-blocking %s, close-on-exec %s", (fl & O_NONBLOCK) ? "yes" : "no", (fdfl & FD_CLOEXEC) ? "yes" : "no");
  v = 5;
  if (write(fd, &v, 8) != 8) _exit(2);
  n = read(fd, &v, 8);
  say("eventfd after a write of 5: %lu", (unsigned long)v);
  v = UINT64_MAX;
  say("eventfd write of UINT64_MAX: %s", err(write(fd, &v, 8)));
  close(fd);
}

static volatile sig_atomic_t got_value = -1, got_code = 0;
static void on_usr2(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  got_value = si->si_value.sival_int;
  got_code = si->si_code;
}

static void check_tgsigqueueinfo(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_usr2;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR2, &sa, NULL);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = SIGUSR2;
  si.si_code = SI_QUEUE;
  si.si_pid = getpid();
  si.si_uid = getuid();
  si.si_value.sival_int = 42;
  long r = syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR2, &si);
  say("rt_tgsigqueueinfo to itself: %s, value %d, code SI_QUEUE %s", err(r), (int)got_value, got_code == SI_QUEUE ? "yes" : "no");
  si.si_code = SI_KERNEL;
  say("rt_tgsigqueueinfo with si_code SI_KERNEL: %s", err(syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR2, &si)));
  si.si_code = SI_QUEUE;
  say("rt_tgsigqueueinfo to a thread that does not exist: %s", err(syscall(SYS_rt_tgsigqueueinfo, getpid(), 999999, SIGUSR2, &si)));
  pid_t parent = getpid(), parentTid = (pid_t)syscall(SYS_gettid);
  pid_t child = fork();
  if (child == 0) {
    /* Another process may not claim a kernel-made si_code (EPERM), but may send SI_QUEUE. */
    siginfo_t ci = si;
    ci.si_code = SI_KERNEL;
    long a = syscall(SYS_rt_tgsigqueueinfo, parent, parentTid, SIGUSR2, &ci);
    say("rt_tgsigqueueinfo SI_KERNEL from another process: %s", err(a));
    _exit(0);
  }
  waitpid(child, NULL, 0);
  say("rt_tgsigqueueinfo with signal 0 (a probe): %s", err(syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), 0, &si)));
  say("rt_tgsigqueueinfo with signal 99: %s", err(syscall(SYS_rt_tgsigqueueinfo, getpid(), (pid_t)syscall(SYS_gettid), 99, &si)));
}

static void check_epoll_pwait2(void) {
  int ep = epoll_create1(0), p[2];
  if (ep < 0 || pipe(p) != 0) _exit(2);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
  epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
  struct epoll_event out[2];
  struct timespec zero = {0, 0};
  long n = syscall(SYS_epoll_pwait2, ep, out, 2, &zero, NULL, 8);
  say("epoll_pwait2 with nothing ready: %ld", n);
  if (write(p[1], "x", 1) != 1) _exit(2);
  struct timespec five = {5, 0};
  n = syscall(SYS_epoll_pwait2, ep, out, 2, &five, NULL, 8);
  say("epoll_pwait2 after a write: %ld, data %u", n, n > 0 ? out[0].data.u32 : 0);
  struct timespec bad = {0, 1000000000};
  say("epoll_pwait2 with a bad timeout: %s", err(syscall(SYS_epoll_pwait2, ep, out, 2, &bad, NULL, 8)));
  say("epoll_pwait2 with maxevents 0: %s", err(syscall(SYS_epoll_pwait2, ep, out, 0, &zero, NULL, 8)));
  say("epoll_pwait2 on a pipe: %s", err(syscall(SYS_epoll_pwait2, p[0], out, 2, &zero, NULL, 8)));
  close(p[0]);
  close(p[1]);
  close(ep);
}

int main(void) {
  check_select();
  check_rlimit();
  check_signalfd();
  check_eventfd();
  check_tgsigqueueinfo();
  check_epoll_pwait2();
  say("done");
  return 0;
}
