/*
 * sigwait: taking signals synchronously with rt_sigtimedwait (sigwaitinfo, sigtimedwait)
 * and signalfd.
 *
 * rt_sigtimedwait: a zero timeout polls (EAGAIN), a timeout expires (EAGAIN), a pending
 * signal is taken at once with its siginfo (SI_USER with the sender's pid, SI_TKILL,
 * SI_QUEUE with its value, SIGCHLD's CLD_EXITED and status even though SIGCHLD's default
 * action ignores it), thread-directed signals before process-directed ones and the lowest
 * number first, a child's kill wakes a waiter (with and without a timeout), and another
 * signal with a handler interrupts the wait (EINTR).
 * signalfd: EAGAIN when non-blocking and empty, poll and epoll readiness, a read taking
 * the signal as struct signalfd_siginfo (pid, code, sigqueue's value), changing the mask of
 * an existing signalfd, a blocking read woken by a child, and the error cases.
 */
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>

static volatile sig_atomic_t handled;
static void on_usr2(int sig) { (void)sig; handled++; }

static const char *code_name(int code) {
  switch (code) {
    case SI_USER: return "SI_USER";
    case SI_TKILL: return "SI_TKILL";
    case SI_QUEUE: return "SI_QUEUE";
    case CLD_EXITED: return "CLD_EXITED";
    default: return "other";
  }
}

/* later_kill forks a child that sends sig to the parent after a short sleep, and returns its pid. */
static pid_t later_kill(int sig) {
  pid_t parent = getpid();
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    struct timespec d = {0, 50 * 1000 * 1000};
    nanosleep(&d, NULL);
    kill(parent, sig);
    _exit(0);
  }
  return c;
}

static void reap(pid_t c) {
  int st;
  check(waitpid(c, &st, 0) == c, "waitpid");
}

static sigset_t set_of(int a, int b) {
  sigset_t s;
  sigemptyset(&s);
  if (a) sigaddset(&s, a);
  if (b) sigaddset(&s, b);
  return s;
}

int main(void) {
  sigset_t all = set_of(SIGUSR1, SIGUSR2);
  sigaddset(&all, SIGRTMIN);
  sigaddset(&all, SIGCHLD);
  check(sigprocmask(SIG_BLOCK, &all, NULL) == 0, "sigprocmask");
  pid_t me = getpid();
  siginfo_t si;
  struct timespec zero = {0, 0}, short_wait = {0, 30 * 1000 * 1000}, long_wait = {10, 0};

  sigset_t usr1 = set_of(SIGUSR1, 0), usr12 = set_of(SIGUSR1, SIGUSR2);
  int r = sigtimedwait(&usr1, &si, &zero);
  say("nothing pending, zero timeout: %d %s", r, errname(r < 0 ? errno : 0));
  r = sigtimedwait(&usr1, &si, &short_wait);
  say("nothing pending, 30 ms timeout: %d %s", r, errname(r < 0 ? errno : 0));

  check(kill(me, SIGUSR1) == 0, "kill");
  memset(&si, 0, sizeof(si));
  r = sigwaitinfo(&usr1, &si);
  say("kill: %s, si_signo %d, %s, pid matches %s", sigabbrev_np(r), si.si_signo, code_name(si.si_code),
      si.si_pid == me ? "yes" : "no");
  check(raise(SIGUSR1) == 0, "raise");
  r = sigtimedwait(&usr1, &si, &zero);
  say("raise: %s, %s", sigabbrev_np(r), code_name(si.si_code));
  union sigval v = {.sival_int = 4242};
  check(sigqueue(me, SIGRTMIN, v) == 0, "sigqueue");
  sigset_t rt = set_of(SIGRTMIN, 0);
  r = sigwaitinfo(&rt, &si);
  say("sigqueue: SIGRTMIN %s, %s, value %d", r == SIGRTMIN ? "yes" : "no", code_name(si.si_code), si.si_value.sival_int);

  /* Order: thread-directed first, then the lowest number. */
  check(kill(me, SIGUSR1) == 0, "kill");
  check(raise(SIGUSR2) == 0, "raise");
  int a = sigwaitinfo(&usr12, &si), b = sigwaitinfo(&usr12, &si);
  say("process USR1 + thread USR2: %s then %s", sigabbrev_np(a), sigabbrev_np(b));
  check(kill(me, SIGUSR2) == 0, "kill");
  check(kill(me, SIGUSR1) == 0, "kill");
  a = sigwaitinfo(&usr12, &si);
  b = sigwaitinfo(&usr12, &si);
  say("process USR2 then USR1: %s then %s", sigabbrev_np(a), sigabbrev_np(b));

  /* A child's kill wakes the waiter, with and without a timeout. */
  pid_t c = later_kill(SIGUSR1);
  r = sigtimedwait(&usr1, &si, &long_wait);
  say("woken by a child (timeout): %s, %s, pid is the child's %s", sigabbrev_np(r), code_name(si.si_code),
      si.si_pid == c ? "yes" : "no");
  reap(c);
  c = later_kill(SIGUSR1);
  r = sigwaitinfo(&usr1, &si);
  say("woken by a child (no timeout): %s", sigabbrev_np(r));
  reap(c);

  /* SIGCHLD (ignored by default) stays pending while blocked and is taken with its status. */
  sigset_t chld = set_of(SIGCHLD, 0);
  while (sigtimedwait(&chld, NULL, &zero) > 0) {
  }
  c = fork();
  check(c >= 0, "fork");
  if (c == 0) _exit(7);
  r = sigwaitinfo(&chld, &si);
  say("SIGCHLD: %s, %s, status %d, pid is the child's %s", sigabbrev_np(r), code_name(si.si_code), si.si_status,
      si.si_pid == c ? "yes" : "no");
  reap(c);

  /* Another signal with a handler interrupts the wait. */
  struct sigaction sa = {.sa_handler = on_usr2, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  check(sigaction(SIGUSR2, &sa, NULL) == 0, "sigaction");
  sigset_t only2 = set_of(SIGUSR2, 0);
  check(sigprocmask(SIG_UNBLOCK, &only2, NULL) == 0, "unblock");
  c = later_kill(SIGUSR2);
  r = sigtimedwait(&usr1, &si, &long_wait);
  say("other signal with a handler: %d %s, handler ran %d", r, errname(r < 0 ? errno : 0), (int)handled);
  reap(c);
  check(sigprocmask(SIG_BLOCK, &only2, NULL) == 0, "block");
  signal(SIGUSR2, SIG_DFL);
  say("bad sigsetsize: %s", result(syscall(SYS_rt_sigtimedwait, &usr1, NULL, &zero, 4)));

  /* signalfd */
  int sfd = signalfd(-1, &usr1, SFD_NONBLOCK | SFD_CLOEXEC);
  check(sfd >= 0, "signalfd");
  struct signalfd_siginfo ssi;
  ssize_t n = read(sfd, &ssi, sizeof(ssi));
  say("signalfd empty: %zd %s, cloexec %s", n, errname(n < 0 ? errno : 0), fcntl(sfd, F_GETFD) & FD_CLOEXEC ? "yes" : "no");
  struct pollfd pfd = {.fd = sfd, .events = POLLIN};
  say("poll empty: %d", poll(&pfd, 1, 0));
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 5};
  check(epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) == 0, "epoll_ctl");
  struct epoll_event out;
  say("epoll empty: %d", epoll_wait(ep, &out, 1, 0));
  check(kill(me, SIGUSR1) == 0, "kill");
  r = poll(&pfd, 1, 0);
  say("poll pending: %d, POLLIN %s", r, pfd.revents & POLLIN ? "yes" : "no");
  r = epoll_wait(ep, &out, 1, 0);
  say("epoll pending: %d, data %d", r, r == 1 ? (int)out.data.u64 : -1);
  memset(&ssi, 0, sizeof(ssi));
  n = read(sfd, &ssi, sizeof(ssi));
  say("read: %zd bytes, %s, %s, pid matches %s", n, sigabbrev_np((int)ssi.ssi_signo), code_name(ssi.ssi_code),
      ssi.ssi_pid == (uint32_t)me ? "yes" : "no");
  n = read(sfd, &ssi, sizeof(ssi));
  say("read again: %zd %s; poll %d", n, errname(n < 0 ? errno : 0), poll(&pfd, 1, 0));

  /* A new mask for the same signalfd; sigqueue's value. */
  sigset_t rt2 = set_of(SIGRTMIN, SIGUSR2);
  r = signalfd(sfd, &rt2, 0);
  say("new mask: same fd %s", r == sfd ? "yes" : "no");
  v.sival_int = 99;
  check(sigqueue(me, SIGRTMIN, v) == 0, "sigqueue");
  check(kill(me, SIGUSR2) == 0, "kill");
  struct signalfd_siginfo two[2];
  n = read(sfd, two, sizeof(two));
  say("two at once: %zd bytes, %s then %s, value %d", n, sigabbrev_np((int)two[0].ssi_signo),
      two[1].ssi_signo == (uint32_t)SIGRTMIN ? "SIGRTMIN" : "other", two[1].ssi_int);

  /* A blocking signalfd read and a blocking epoll_wait woken by a child. */
  int bfd = signalfd(-1, &usr1, 0);
  check(bfd >= 0, "signalfd blocking");
  c = later_kill(SIGUSR1);
  n = read(bfd, &ssi, sizeof(ssi));
  say("blocking read woken by a child: %zd bytes, %s, pid is the child's %s", n, sigabbrev_np((int)ssi.ssi_signo),
      ssi.ssi_pid == (uint32_t)c ? "yes" : "no");
  reap(c);
  int ep2 = epoll_create1(0);
  check(epoll_ctl(ep2, EPOLL_CTL_ADD, bfd, &ev) == 0, "epoll_ctl");
  c = later_kill(SIGUSR1);
  r = epoll_wait(ep2, &out, 1, 10000);
  say("epoll_wait woken by a child: %d", r);
  reap(c);
  n = read(sfd, &ssi, sizeof(ssi));
  say("USR1 through the signalfd with the new mask: %zd %s", n, errname(n < 0 ? errno : 0));
  check(read(bfd, &ssi, sizeof(ssi)) == sizeof(ssi), "read after epoll");

  int p[2];
  check(pipe(p) == 0, "pipe");
  say("errors: not a signalfd %s, bad flags %s, bad size %s", result(signalfd(p[0], &usr1, 0)),
      result(signalfd(-1, &usr1, 1)), result(syscall(SYS_signalfd4, -1, &usr1, 4, 0)));
  say("done");
  return 0;
}
