/*
 * signals: handlers, masks and delivery.
 *
 * sigaction handlers (plain and SA_SIGINFO) run for raise() and kill(); a blocked signal
 * stays pending and is delivered on unblock, once for a standard signal however often it
 * was sent; sigsuspend() waits for a signal sent by a child; SIGCHLD reaches a handler;
 * SIG_IGN discards; default actions kill a child (TERM) or stop and continue it (STOP,
 * CONT, seen by WUNTRACED/WCONTINUED); a handler's mask and SA_RESETHAND; EINTR without
 * SA_RESTART and a timer that interrupts pause().
 */
#include "common.h"
#include <sys/time.h>

static volatile sig_atomic_t hits[65];
static volatile sig_atomic_t last_code, last_signo, nested_blocked;

static void on_signal(int sig) { hits[sig]++; }

static void on_info(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  hits[sig]++;
  last_signo = si->si_signo;
  last_code = si->si_code;
}

static void on_masked(int sig) {
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  nested_blocked = sigismember(&cur, SIGUSR2) && sigismember(&cur, sig);
  hits[sig]++;
}

/* tick arms a repeating 20 ms SIGALRM timer (so a slow kernel cannot miss it), or disarms it. */
static void tick(int on) {
  struct itimerval it = {{0, on ? 20000 : 0}, {0, on ? 20000 : 0}};
  check(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
}

static void set_handler(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  check(sigaction(sig, &sa, NULL) == 0, "sigaction");
}

static const char *code_name(int code) {
  switch (code) {
  case SI_USER: return "SI_USER";
  case SI_TKILL: return "SI_TKILL";
  case SI_QUEUE: return "SI_QUEUE";
  case SI_KERNEL: return "SI_KERNEL";
  default: return "other";
  }
}

int main(void) {
  char buf[32];
  int st;

  /* raise() and kill(getpid()) run the handler synchronously, before they return. */
  set_handler(SIGUSR1, on_signal, 0);
  raise(SIGUSR1);
  say("raise(USR1): handler ran %d time(s)", (int)hits[SIGUSR1]);
  kill(getpid(), SIGUSR1);
  say("kill(self, USR1): handler ran %d time(s)", (int)hits[SIGUSR1]);

  /* SA_SIGINFO: signo and code. */
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_info;
  sa.sa_flags = SA_SIGINFO;
  check(sigaction(SIGUSR2, &sa, NULL) == 0, "sigaction");
  kill(getpid(), SIGUSR2);
  say("siginfo from kill: signo %s, code %s", sigabbrev_np(last_signo), code_name(last_code));
  raise(SIGUSR2);
  say("siginfo from raise: signo %s, code %s", sigabbrev_np(last_signo), code_name(last_code));
  union sigval v = {.sival_int = 7};
  sigqueue(getpid(), SIGUSR2, v);
  say("siginfo from sigqueue: signo %s, code %s", sigabbrev_np(last_signo), code_name(last_code));

  /* A blocked standard signal is pending once, delivered at unblock. */
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  check(sigprocmask(SIG_BLOCK, &set, &old) == 0, "sigprocmask");
  hits[SIGUSR1] = 0;
  for (int i = 0; i < 3; i++) kill(getpid(), SIGUSR1);
  sigset_t pend;
  sigpending(&pend);
  say("blocked USR1 sent 3 times: pending %s, handler ran %d", sigismember(&pend, SIGUSR1) ? "yes" : "no", (int)hits[SIGUSR1]);
  check(sigprocmask(SIG_SETMASK, &old, NULL) == 0, "sigprocmask");
  say("after unblock: handler ran %d", (int)hits[SIGUSR1]);

  /* Real-time signals queue: each one sent while blocked is delivered. */
  set_handler(SIGRTMIN, on_signal, 0);
  sigemptyset(&set);
  sigaddset(&set, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &set, &old);
  for (int i = 0; i < 3; i++) sigqueue(getpid(), SIGRTMIN, v);
  sigprocmask(SIG_SETMASK, &old, NULL);
  say("blocked SIGRTMIN queued 3 times: handler ran %d", (int)hits[SIGRTMIN]);

  /* sa_mask and the signal itself are blocked while the handler runs. */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_masked;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGUSR2);
  check(sigaction(SIGHUP, &sa, NULL) == 0, "sigaction");
  raise(SIGHUP);
  say("inside handler: USR2 (sa_mask) and HUP (itself) blocked: %s", nested_blocked ? "yes" : "no");

  /* SA_RESETHAND: the second SIGHUP after a one-shot handler would be default; check the disposition. */
  set_handler(SIGHUP, on_signal, SA_RESETHAND);
  raise(SIGHUP);
  struct sigaction cur;
  sigaction(SIGHUP, NULL, &cur);
  say("SA_RESETHAND: disposition after delivery is %s", cur.sa_handler == SIG_DFL ? "SIG_DFL" : "handler");

  /* SIG_IGN discards. */
  signal(SIGUSR1, SIG_IGN);
  hits[SIGUSR1] = 0;
  raise(SIGUSR1);
  say("ignored USR1: handler ran %d", (int)hits[SIGUSR1]);

  /* sigsuspend waits for a signal a child sends; SIGCHLD reaches its handler. */
  set_handler(SIGUSR1, on_signal, 0);
  set_handler(SIGCHLD, on_signal, 0);
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, &old);
  pid_t parent = getpid();
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    kill(parent, SIGUSR1);
    _exit(5);
  }
  sigset_t wait_mask = old;
  while (hits[SIGUSR1] == 0 || hits[SIGCHLD] == 0) sigsuspend(&wait_mask);
  sigprocmask(SIG_SETMASK, &old, NULL);
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("sigsuspend: got USR1 from child and SIGCHLD; child %s", describe_status(st, buf, sizeof(buf)));
  signal(SIGCHLD, SIG_DFL);

  /* Default actions on a child: TERM kills; STOP and CONT are reported. */
  p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    for (;;) pause();
  }
  kill(p, SIGSTOP);
  check(waitpid(p, &st, WUNTRACED) == p, "waitpid");
  say("child after STOP: %s", WIFSTOPPED(st) ? sigabbrev_np(WSTOPSIG(st)) : "not stopped");
  kill(p, SIGCONT);
  check(waitpid(p, &st, WCONTINUED) == p, "waitpid");
  say("child after CONT: %s", WIFCONTINUED(st) ? "continued" : "not continued");
  kill(p, SIGTERM);
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("child after TERM: %s", describe_status(st, buf, sizeof(buf)));

  /* A blocked signal is inherited across fork as the mask, but pending signals are not. */
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, &old);
  raise(SIGUSR1);
  p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    sigset_t m, pe;
    sigprocmask(SIG_BLOCK, NULL, &m);
    sigpending(&pe);
    _exit((sigismember(&m, SIGUSR1) ? 1 : 0) | (sigismember(&pe, SIGUSR1) ? 2 : 0));
  }
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("fork child: mask inherited %s, pending inherited %s", (WEXITSTATUS(st) & 1) ? "yes" : "no", (WEXITSTATUS(st) & 2) ? "yes" : "no");
  hits[SIGUSR1] = 0;
  sigprocmask(SIG_SETMASK, &old, NULL);
  say("parent's own pending USR1 delivered at unblock: %d", (int)hits[SIGUSR1]);

  /* Without SA_RESTART, a handled signal interrupts a blocking read with EINTR. */
  set_handler(SIGALRM, on_signal, 0);
  int fds[2];
  check(pipe(fds) == 0, "pipe");
  tick(1);
  char c;
  long r = read(fds[0], &c, 1);
  int e = errno;
  tick(0);
  say("read interrupted by SIGALRM: %ld %s, handler ran: %s", r, errname(e), hits[SIGALRM] > 0 ? "yes" : "no");

  /* pause() returns -1 EINTR after a handler. */
  tick(1);
  r = pause();
  e = errno;
  tick(0);
  say("pause: %ld %s", r, errname(e));
  say("done");
  return 0;
}
