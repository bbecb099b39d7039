/*
 * mqueue: POSIX message queues: receive order by priority, attributes, O_NONBLOCK and
 * mq_setattr, a full and an empty queue (EAGAIN, ETIMEDOUT with an absolute timeout),
 * EMSGSIZE, poll readiness, mq_notify with a signal (si_code SI_MESGQ, the value, only
 * once), EBUSY for a second registration, a blocked receiver woken by another process,
 * the descriptor's status line, mq_unlink and the name rules.
 */
#include "common.h"
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <time.h>

static volatile sig_atomic_t got_signo, got_code, got_value;

static void on_usr1(int sig, siginfo_t *si, void *ctx) {
  (void)ctx;
  got_signo = sig;
  got_code = si->si_code;
  got_value = si->si_value.sival_int;
}

static const char *err(int r) { return r == 0 ? "0" : errname(errno); }

int main(void) {
  char name[64];
  snprintf(name, sizeof(name), "/tvisor-mq-%d", getpid());
  struct mq_attr attr = {0, 4, 64, 0, {0}};
  mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
  check(q != (mqd_t)-1, "mq_open");
  struct mq_attr got;
  check(mq_getattr(q, &got) == 0, "mq_getattr");
  say("attributes: flags %ld maxmsg %ld msgsize %ld curmsgs %ld", got.mq_flags, got.mq_maxmsg, got.mq_msgsize, got.mq_curmsgs);
  say("again with O_EXCL: %s", mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr) == (mqd_t)-1 ? errname(errno) : "0");

  struct pollfd p = {q, POLLIN | POLLOUT, 0};
  check(poll(&p, 1, 0) == 1, "poll");
  say("empty queue: POLLIN %s POLLOUT %s", p.revents & POLLIN ? "yes" : "no", p.revents & POLLOUT ? "yes" : "no");

  check(mq_send(q, "low", 3, 1) == 0 && mq_send(q, "high", 4, 9) == 0 && mq_send(q, "low2", 4, 1) == 0 && mq_send(q, "mid", 3, 5) == 0, "send");
  check(poll(&p, 1, 0) == 1, "poll");
  say("full queue: POLLIN %s POLLOUT %s", p.revents & POLLIN ? "yes" : "no", p.revents & POLLOUT ? "yes" : "no");
  char status[128] = {0};
  int sfd = q; /* a queue descriptor is a file: read() gives its status line */
  ssize_t sn = read(sfd, status, sizeof(status) - 1);
  say("status line: %.*s", sn > 0 ? (int)sn - 1 : 0, status);
  struct timespec past;
  clock_gettime(CLOCK_REALTIME, &past);
  past.tv_sec -= 1;
  say("send to a full queue with a past timeout: %s", err(mq_timedsend(q, "x", 1, 0, &past)));
  struct mq_attr nb = {O_NONBLOCK, 0, 0, 0, {0}}, old;
  check(mq_setattr(q, &nb, &old) == 0, "mq_setattr");
  say("send to a full queue with O_NONBLOCK: %s (old flags %ld)", err(mq_send(q, "x", 1, 0)), old.mq_flags);
  char buf[128];
  unsigned prio;
  for (int i = 0; i < 4; i++) {
    ssize_t n = mq_receive(q, buf, sizeof(buf), &prio);
    if (n < 0) fail("mq_receive");
    say("received \"%.*s\" priority %u", (int)n, buf, prio);
  }
  say("receive from an empty queue with O_NONBLOCK: %s", mq_receive(q, buf, sizeof(buf), &prio) < 0 ? errname(errno) : "0");
  nb.mq_flags = 0;
  check(mq_setattr(q, &nb, NULL) == 0, "mq_setattr");
  struct timespec soon;
  clock_gettime(CLOCK_REALTIME, &soon);
  soon.tv_nsec += 50 * 1000 * 1000;
  if (soon.tv_nsec >= 1000000000) { soon.tv_sec++; soon.tv_nsec -= 1000000000; }
  say("timed receive from an empty queue: %s", mq_timedreceive(q, buf, sizeof(buf), &prio, &soon) < 0 ? errname(errno) : "0");
  struct timespec bad = {0, 2000000000};
  say("invalid timeout: %s", mq_timedreceive(q, buf, sizeof(buf), &prio, &bad) < 0 ? errname(errno) : "0");
  say("message longer than msgsize: %s", err(mq_send(q, buf, 65, 0)));
  say("receive buffer shorter than msgsize: %s", mq_receive(q, buf, 63, &prio) < 0 ? errname(errno) : "0");
  say("priority 32768: %s", err(mq_send(q, "x", 1, 32768)));

  /* mq_notify with a signal: once, when a message arrives in the empty queue. */
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  check(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
  struct sigevent sev;
  memset(&sev, 0, sizeof(sev));
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR1;
  sev.sigev_value.sival_int = 42;
  check(mq_notify(q, &sev) == 0, "mq_notify");
  say("second registration: %s", err(mq_notify(q, &sev)));
  memset(status, 0, sizeof(status));
  sn = pread(sfd, status, sizeof(status) - 1, 0);
  say("status with a registration has NOTIFY:0 SIGNO:10: %s", sn > 0 && strstr(status, "NOTIFY:0     SIGNO:10 ") ? "yes" : "no");
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    if (mq_send(q, "ping", 4, 3) != 0) fail("child send");
    _exit(0);
  }
  int st;
  check(waitpid(c, &st, 0) == c, "waitpid");
  for (int i = 0; i < 5000 && !got_signo; i++) usleep(1000);
  say("notified: signal %d, SI_MESGQ %s, value %d", (int)got_signo, got_code == SI_MESGQ ? "yes" : "no", (int)got_value);
  got_signo = 0;
  check(mq_receive(q, buf, sizeof(buf), &prio) == 4, "receive ping");
  check(mq_send(q, "again", 5, 0) == 0, "send again");
  usleep(20000);
  say("a second message, the registration gone: signal %d", (int)got_signo);
  check(mq_receive(q, buf, sizeof(buf), &prio) == 5, "receive again");
  sev.sigev_notify = SIGEV_NONE;
  const char *reg = err(mq_notify(q, &sev));
  say("register with SIGEV_NONE: %s, unregister: %s", reg, err(mq_notify(q, NULL)));

  /* A receiver blocked until another process sends. */
  c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    ssize_t n = mq_receive(q, buf, sizeof(buf), &prio);
    if (n < 0) fail("child receive");
    say("child: received \"%.*s\" priority %u", (int)n, buf, prio);
    _exit(0);
  }
  usleep(20000);
  check(mq_send(q, "wake", 4, 7) == 0, "send wake");
  check(waitpid(c, &st, 0) == c, "waitpid");

  /* Descriptors and names. */
  mqd_t ro = mq_open(name, O_RDONLY);
  check(ro != (mqd_t)-1, "mq_open O_RDONLY");
  say("send on a read-only descriptor: %s", err(mq_send(ro, "x", 1, 0)));
  say("mq_getattr of a plain file descriptor: %s", err(mq_getattr(1, &got)));
  check(mq_close(ro) == 0 && mq_close(q) == 0, "mq_close");
  const char *first = err(mq_unlink(name));
  say("mq_unlink: %s, again: %s", first, err(mq_unlink(name)));
  say("open after unlink: %s", mq_open(name, O_RDWR) == (mqd_t)-1 ? errname(errno) : "0");
  struct mq_attr huge = {0, 100000, 64, 0, {0}};
  say("maxmsg past the limit: %s", mq_open(name, O_CREAT | O_RDWR, 0600, &huge) == (mqd_t)-1 ? errname(errno) : "0");
  say("a name with a second slash: %s", mq_open("/a/b", O_CREAT | O_RDWR, 0600, NULL) == (mqd_t)-1 ? errname(errno) : "0");
  say("done");
  return 0;
}
