/*
 * eintr: which blocked system calls a signal handler interrupts and which it restarts
 * (signal(7), "Interruption of system calls and library functions by signal handlers").
 *
 * With an SA_RESTART handler, poll, ppoll, select, pselect6, epoll_wait, epoll_pwait and
 * nanosleep still fail with EINTR (they are never restarted), while read on a pipe and
 * wait4 are restarted and complete. Without SA_RESTART, read and wait4 fail with EINTR.
 * ppoll and pselect run the handler under their temporary mask and put the caller's mask
 * back afterwards. The signal comes from a child, some time after the call began.
 */
#include "common.h"
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

static volatile sig_atomic_t handled, usr2_blocked_in_handler;

static void on_usr1(int sig) {
  (void)sig;
  handled++;
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  usr2_blocked_in_handler = sigismember(&cur, SIGUSR2);
}

static void handle(int flags) {
  struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = flags};
  sigemptyset(&sa.sa_mask);
  check(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
}

static void pause_ms(int ms) {
  struct timespec d = {ms / 1000, (long)(ms % 1000) * 1000 * 1000};
  while (nanosleep(&d, &d) != 0 && errno == EINTR) {
  }
}

/*
 * helper forks a child that sends SIGUSR1 to the parent after `kill_ms`, waits `after_ms`
 * more, writes one byte to write_fd when it is >= 0, and exits.
 */
static pid_t helper(int kill_ms, int write_fd, int after_ms) {
  pid_t parent = getpid();
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    pause_ms(kill_ms);
    kill(parent, SIGUSR1);
    pause_ms(after_ms);
    if (write_fd >= 0 && write(write_fd, "x", 1) != 1) _exit(1);
    _exit(0);
  }
  return c;
}

static void reap(pid_t c) {
  int st;
  while (waitpid(c, &st, 0) < 0 && errno == EINTR) {
  }
}

static void report(const char *what, long r) {
  say("%s: %ld %s, handler ran %d", what, r, errname(r < 0 ? errno : 0), (int)handled);
  handled = 0;
}

#define DELAY 300

/*
 * stop_and_continue: in a child W (not init, which a stop signal from inside would not
 * stop), a child of W stops W and continues it while W waits: epoll_wait fails with EINTR
 * without any handler (signal(7)); ppoll is restarted, with its temporary mask put back,
 * so that a SIGUSR1 blocked outside it interrupts it afterwards.
 */
static void stop_and_continue(int rfd) {
  pid_t w = fork();
  check(w >= 0, "fork W");
  if (w == 0) {
    handle(SA_RESTART);
    sigset_t usr1, none;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&none);
    check(sigprocmask(SIG_BLOCK, &usr1, NULL) == 0, "block");
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN}, out;
    check(epoll_ctl(ep, EPOLL_CTL_ADD, rfd, &ev) == 0, "epoll_ctl");
    pid_t self = getpid();
    pid_t k = fork();
    check(k >= 0, "fork");
    if (k == 0) {
      pause_ms(DELAY);
      kill(self, SIGSTOP);
      pause_ms(DELAY);
      kill(self, SIGCONT);
      _exit(0);
    }
    report("epoll_wait, stopped and continued", epoll_wait(ep, &out, 1, 10000));
    reap(k);
    k = fork();
    check(k >= 0, "fork");
    if (k == 0) {
      pause_ms(DELAY);
      kill(self, SIGSTOP);
      pause_ms(DELAY);
      kill(self, SIGCONT);
      pause_ms(DELAY);
      kill(self, SIGUSR1);
      _exit(0);
    }
    struct pollfd pfd = {.fd = rfd, .events = POLLIN};
    struct timespec ten = {10, 0};
    report("ppoll, stopped, continued, then USR1", ppoll(&pfd, 1, &ten, &none));
    reap(k);
    _exit(0);
  }
  int st;
  while (waitpid(w, &st, 0) < 0 && errno == EINTR) {
  }
  check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "W");
}

int main(void) {
  int p[2];
  check(pipe(p) == 0, "pipe");
  handle(SA_RESTART);
  say("with SA_RESTART:");

  pid_t c = helper(DELAY, -1, 0);
  struct pollfd pfd = {.fd = p[0], .events = POLLIN};
  report("poll", poll(&pfd, 1, 10000));
  reap(c);

  c = helper(DELAY, -1, 0);
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(p[0], &rd);
  struct timeval tv = {10, 0};
  report("select", select(p[0] + 1, &rd, NULL, NULL, &tv));
  reap(c);

  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN}, out;
  check(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "epoll_ctl");
  c = helper(DELAY, -1, 0);
  report("epoll_wait", epoll_wait(ep, &out, 1, 10000));
  reap(c);

  struct timespec ten = {10, 0};
  c = helper(DELAY, -1, 0);
  report("nanosleep", nanosleep(&ten, NULL));
  reap(c);

  /* The calls with a temporary mask: SIGUSR1 and SIGUSR2 blocked outside, neither inside. */
  sigset_t both, none, cur;
  sigemptyset(&both);
  sigaddset(&both, SIGUSR1);
  sigaddset(&both, SIGUSR2);
  sigemptyset(&none);
  check(sigprocmask(SIG_BLOCK, &both, NULL) == 0, "block");

  c = helper(DELAY, -1, 0);
  report("ppoll", ppoll(&pfd, 1, &ten, &none));
  sigprocmask(SIG_BLOCK, NULL, &cur);
  say("ppoll: USR2 blocked in the handler %s, USR1 and USR2 blocked after %s", usr2_blocked_in_handler ? "yes" : "no",
      sigismember(&cur, SIGUSR1) && sigismember(&cur, SIGUSR2) ? "yes" : "no");
  reap(c);

  c = helper(DELAY, -1, 0);
  FD_ZERO(&rd);
  FD_SET(p[0], &rd);
  report("pselect", pselect(p[0] + 1, &rd, NULL, NULL, &ten, &none));
  reap(c);

  c = helper(DELAY, -1, 0);
  report("epoll_pwait", epoll_pwait(ep, &out, 1, 10000, &none));
  sigprocmask(SIG_BLOCK, NULL, &cur);
  say("epoll_pwait: USR1 blocked after %s", sigismember(&cur, SIGUSR1) ? "yes" : "no");
  reap(c);

  /* A signal already pending and blocked is taken as soon as ppoll unblocks it. */
  check(kill(getpid(), SIGUSR1) == 0, "kill");
  report("ppoll with USR1 already pending", ppoll(&pfd, 1, &ten, &none));
  check(sigprocmask(SIG_UNBLOCK, &both, NULL) == 0, "unblock");

  /* Restarted with SA_RESTART. */
  char b;
  c = helper(DELAY, p[1], DELAY);
  report("read on a pipe", read(p[0], &b, 1));
  reap(c);
  c = helper(DELAY, -1, 0);
  pid_t w = waitpid(c, NULL, 0);
  say("wait4: the child's pid %s, handler ran %d", w == c ? "yes" : "no", (int)handled);
  handled = 0;

  /* Without SA_RESTART they fail with EINTR. */
  handle(0);
  say("without SA_RESTART:");
  c = helper(DELAY, p[1], DELAY);
  report("read on a pipe", read(p[0], &b, 1));
  reap(c);
  check(read(p[0], &b, 1) == 1, "drain");
  c = helper(DELAY, -1, DELAY);
  report("wait4", waitpid(c, NULL, 0));
  reap(c);
  stop_and_continue(p[0]);
  say("done");
  return 0;
}
