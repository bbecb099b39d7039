/*
 * timers: interval timers (ITIMER_REAL with an interval, ITIMER_VIRTUAL and ITIMER_PROF
 * firing while the process computes), timerfd (intervals, expiration counts, absolute
 * times, non-blocking reads, poll readiness, settime/gettime) and POSIX timers
 * (SIGEV_SIGNAL with si_code/si_value/si_timerid, SIGEV_THREAD_ID, SIGEV_NONE, overruns
 * while the signal is blocked, timer_gettime after expiry and disarm, timer_delete).
 * Counts that depend on timing are printed only as bounds that hold on any load.
 */
#include "common.h"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>

#define MS 1000000LL

static volatile sig_atomic_t alrm, vtalrm, prof;
static volatile int rt_code, rt_value, rt_overrun, rt_timerid, rt_signo, rt_count, rt_tid;
/* rt_timer is the timer whose overrun the handler reads (first signal only). */
static timer_t rt_timer;
static volatile int rt_first_overrun = -1, rt_first_getoverrun = -1;

static void on_alrm(int s) { (void)s; alrm++; }
static void on_vtalrm(int s) { (void)s; vtalrm++; }
static void on_prof(int s) { (void)s; prof++; }
static void on_rt(int s, siginfo_t *si, void *uc) {
  (void)uc;
  rt_signo = s;
  rt_code = si->si_code;
  rt_value = si->si_value.sival_int;
  rt_overrun = si->si_overrun;
  rt_timerid = si->si_timerid;
  rt_tid = (int)syscall(SYS_gettid);
  if (rt_first_overrun < 0) {
    rt_first_overrun = si->si_overrun;
    rt_first_getoverrun = timer_getoverrun(rt_timer);
  }
  rt_count++;
}

static long long mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static volatile unsigned long sink;
/* spin_until computes until *flag reaches n (or a minute passes). */
static int spin_until(volatile sig_atomic_t *flag, int n) {
  long long end = mono() + 60000 * MS;
  while (*flag < n && mono() < end) {
    unsigned long x = sink;
    for (int i = 0; i < 200000; i++) x = x * 6364136223846793005UL + 1;
    sink = x;
  }
  return *flag;
}

static void on(int sig, void (*h)(int)) {
  struct sigaction sa = {0};
  sa.sa_handler = h;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) != 0) fail("sigaction");
}

static void itimers(void) {
  on(SIGALRM, on_alrm);
  on(SIGVTALRM, on_vtalrm);
  on(SIGPROF, on_prof);
  struct itimerval it = {{0, 20000}, {0, 20000}}, cur, old;
  check(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer REAL");
  check(getitimer(ITIMER_REAL, &cur) == 0, "getitimer REAL");
  say("getitimer(REAL) interval: %ld s %ld us", (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec);
  sigset_t none;
  sigemptyset(&none);
  while (alrm < 3) sigsuspend(&none);
  struct itimerval off = {{0, 0}, {0, 0}};
  check(setitimer(ITIMER_REAL, &off, &old) == 0, "setitimer REAL off");
  say("ITIMER_REAL periodic: at least 3 SIGALRM: yes; old interval %ld us", (long)old.it_interval.tv_usec);
  check(getitimer(ITIMER_REAL, &cur) == 0, "getitimer REAL");
  say("getitimer(REAL) after disarm: %ld %ld", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);

  struct itimerval five = {{0, 0}, {5, 0}};
  check(setitimer(ITIMER_REAL, &five, NULL) == 0, "setitimer 5 s");
  check(setitimer(ITIMER_REAL, &off, &old) == 0, "setitimer off");
  say("old value of a 5 s timer: within (4 s, 5 s]: %s",
      old.it_value.tv_sec == 4 || (old.it_value.tv_sec == 5 && old.it_value.tv_usec == 0) ? "yes" : "no");

  struct itimerval v = {{0, 30000}, {0, 30000}};
  check(setitimer(ITIMER_VIRTUAL, &v, NULL) == 0, "setitimer VIRTUAL");
  check(getitimer(ITIMER_VIRTUAL, &cur) == 0, "getitimer VIRTUAL");
  say("getitimer(VIRTUAL) interval: %ld us, armed: %s", (long)cur.it_interval.tv_usec,
      cur.it_value.tv_sec || cur.it_value.tv_usec ? "yes" : "no");
  say("ITIMER_VIRTUAL while busy: SIGVTALRM >= 2: %s", spin_until(&vtalrm, 2) >= 2 ? "yes" : "no");
  check(setitimer(ITIMER_VIRTUAL, &off, NULL) == 0, "setitimer VIRTUAL off");
  check(setitimer(ITIMER_PROF, &v, NULL) == 0, "setitimer PROF");
  say("ITIMER_PROF while busy: SIGPROF >= 2: %s", spin_until(&prof, 2) >= 2 ? "yes" : "no");
  check(setitimer(ITIMER_PROF, &off, NULL) == 0, "setitimer PROF off");
  check(getitimer(ITIMER_PROF, &cur) == 0, "getitimer PROF");
  say("getitimer(PROF) after disarm: %ld %ld", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);
  int r = setitimer(3, &v, NULL);
  say("setitimer(3): %d %s", r, errname(r ? errno : 0));
}

static void timerfds(void) {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  check(fd >= 0, "timerfd_create");
  struct itimerspec its = {{0, 10 * MS}, {0, 10 * MS}}, cur, old;
  check(timerfd_settime(fd, 0, &its, NULL) == 0, "timerfd_settime");
  sleep_ms(55);
  unsigned long long n = 0;
  check(read(fd, &n, 8) == 8, "read timerfd");
  say("timerfd 10 ms interval, read after 55 ms: count >= 5: %s", n >= 5 ? "yes" : "no");
  check(read(fd, &n, 8) == 8, "read timerfd again");
  say("next read blocks until the next expiry: count >= 1: %s", n >= 1 ? "yes" : "no");
  check(timerfd_gettime(fd, &cur) == 0, "timerfd_gettime");
  say("timerfd_gettime interval: %ld ns, armed: %s", cur.it_interval.tv_nsec, cur.it_value.tv_nsec || cur.it_value.tv_sec ? "yes" : "no");
  struct itimerspec zero = {{0, 0}, {0, 0}};
  check(timerfd_settime(fd, 0, &zero, &old) == 0, "timerfd_settime off");
  say("old interval when disarming: %ld ns", old.it_interval.tv_nsec);
  check(timerfd_gettime(fd, &cur) == 0, "timerfd_gettime off");
  say("timerfd_gettime after disarm: %ld %ld", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
  close(fd);

  fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
  check(fd >= 0, "timerfd_create nonblock");
  struct itimerspec hour = {{0, 0}, {3600, 0}};
  check(timerfd_settime(fd, 0, &hour, NULL) == 0, "settime hour");
  int r = (int)read(fd, &n, 8);
  say("non-blocking read before expiry: %d %s", r, errname(r < 0 ? errno : 0));
  struct pollfd p = {fd, POLLIN, 0};
  say("poll before expiry: %d", poll(&p, 1, 0));
  check(timerfd_gettime(fd, &cur) == 0, "gettime hour");
  say("one-shot of an hour: left in (3590 s, 3600 s]: %s, interval %ld", cur.it_value.tv_sec >= 3590 && cur.it_value.tv_sec <= 3600 ? "yes" : "no",
      (long)cur.it_interval.tv_sec);
  r = (int)read(fd, &n, 4);
  say("read of 4 bytes: %d %s", r, errname(r < 0 ? errno : 0));
  r = (int)write(fd, &n, 8);
  say("write: %d %s", r, errname(r < 0 ? errno : 0));
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct itimerspec abs = {{0, 0}, {now.tv_sec, now.tv_nsec}};
  abs.it_value.tv_nsec += 20 * MS;
  if (abs.it_value.tv_nsec >= 1000000000L) {
    abs.it_value.tv_sec++;
    abs.it_value.tv_nsec -= 1000000000L;
  }
  check(timerfd_settime(fd, TFD_TIMER_ABSTIME, &abs, NULL) == 0, "settime abs");
  p.revents = 0;
  r = poll(&p, 1, 10000);
  say("poll on an absolute 20 ms timer: %d revents POLLIN: %s", r, p.revents == POLLIN ? "yes" : "no");
  r = (int)read(fd, &n, 8);
  say("read: %d count %llu", r, n);
  close(fd);

  r = timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0);
  say("timerfd_create(PROCESS_CPUTIME): %d %s", r, errname(r < 0 ? errno : 0));
  r = timerfd_create(CLOCK_MONOTONIC, 0x40);
  say("timerfd_create(bad flags): %d %s", r, errname(r < 0 ? errno : 0));
  struct itimerspec bad = {{0, 0}, {0, 1000000000L}};
  fd = timerfd_create(CLOCK_MONOTONIC, 0);
  r = timerfd_settime(fd, 0, &bad, NULL);
  say("timerfd_settime(nsec 1e9): %d %s", r, errname(r < 0 ? errno : 0));
  close(fd);
}

static void posix_timers(void) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_rt;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGRTMIN, &sa, NULL) != 0 || sigaction(SIGRTMIN + 1, &sa, NULL) != 0) fail("sigaction rt");
  struct sigevent sev = {0};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGRTMIN;
  sev.sigev_value.sival_int = 42;
  timer_t id;
  check(timer_create(CLOCK_MONOTONIC, &sev, &id) == 0, "timer_create");
  struct itimerspec its = {{0, 0}, {0, 10 * MS}}, cur;
  check(timer_settime(id, 0, &its, NULL) == 0, "timer_settime");
  sigset_t none;
  sigemptyset(&none);
  while (rt_count < 1) sigsuspend(&none);
  say("timer signal: signo %s, si_code %s, si_value %d, si_timerid matches: %s, si_overrun %d",
      rt_signo == SIGRTMIN ? "RTMIN" : "?", rt_code == SI_TIMER ? "SI_TIMER" : "?", rt_value,
      rt_timerid == (int)(long)id ? "yes" : "no", rt_overrun);
  check(timer_gettime(id, &cur) == 0, "timer_gettime");
  say("timer_gettime after a one-shot expired: %ld %ld", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);

  /* Overruns: the signal stays blocked while the 5 ms timer expires again and again. */
  sigset_t blk;
  sigemptyset(&blk);
  sigaddset(&blk, SIGRTMIN);
  sigprocmask(SIG_BLOCK, &blk, NULL);
  struct itimerspec per = {{0, 5 * MS}, {0, 5 * MS}};
  rt_timer = id;
  rt_first_overrun = -1;
  check(timer_settime(id, 0, &per, NULL) == 0, "timer_settime periodic");
  sleep_ms(60);
  rt_count = 0;
  sigprocmask(SIG_UNBLOCK, &blk, NULL);
  struct itimerspec zero = {{0, 0}, {0, 0}};
  check(timer_settime(id, 0, &zero, NULL) == 0, "timer_settime off");
  say("blocked 60 ms at 5 ms: delivered: %s, si_overrun >= 5: %s, timer_getoverrun in the handler the same: %s",
      rt_count >= 1 ? "yes" : "no", rt_first_overrun >= 5 ? "yes" : "no", rt_first_getoverrun == rt_first_overrun ? "yes" : "no");
  check(timer_gettime(id, &cur) == 0, "timer_gettime off");
  say("timer_gettime after disarm: value %ld %ld, interval %ld ns", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec, cur.it_interval.tv_nsec);

  check(timer_delete(id) == 0, "timer_delete");
  int r = timer_gettime(id, &cur);
  say("timer_gettime after delete: %d %s", r, errname(r ? errno : 0));

  /* SIGEV_THREAD_ID: the signal goes to the named thread. */
  struct sigevent tev = {0};
  tev.sigev_notify = SIGEV_THREAD_ID;
  tev.sigev_signo = SIGRTMIN + 1;
  tev._sigev_un._tid = (int)syscall(SYS_gettid);
  check(timer_create(CLOCK_REALTIME, &tev, &id) == 0, "timer_create THREAD_ID");
  rt_count = 0;
  struct itimerspec once = {{0, 0}, {0, 5 * MS}};
  check(timer_settime(id, 0, &once, NULL) == 0, "timer_settime THREAD_ID");
  while (rt_count < 1) sigsuspend(&none);
  say("SIGEV_THREAD_ID: signal RTMIN+1 to this thread: %s", rt_signo == SIGRTMIN + 1 && rt_tid == (int)syscall(SYS_gettid) ? "yes" : "no");
  timer_delete(id);
  tev._sigev_un._tid = 999999;
  r = timer_create(CLOCK_REALTIME, &tev, &id);
  say("SIGEV_THREAD_ID of no thread: %d %s", r, errname(r ? errno : 0));

  /* SIGEV_NONE: nothing is sent, the time left still reads back. */
  struct sigevent nev = {0};
  nev.sigev_notify = SIGEV_NONE;
  check(timer_create(CLOCK_BOOTTIME, &nev, &id) == 0, "timer_create NONE");
  struct itimerspec hour = {{1, 0}, {3600, 0}};
  check(timer_settime(id, 0, &hour, NULL) == 0, "timer_settime NONE");
  check(timer_gettime(id, &cur) == 0, "timer_gettime NONE");
  say("SIGEV_NONE: left in (3590 s, 3600 s]: %s, interval %ld s", cur.it_value.tv_sec >= 3590 && cur.it_value.tv_sec <= 3600 ? "yes" : "no",
      (long)cur.it_interval.tv_sec);
  timer_delete(id);

  /* Absolute time on CLOCK_REALTIME. */
  check(timer_create(CLOCK_REALTIME, &sev, &id) == 0, "timer_create abs");
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct itimerspec abs = {{0, 0}, {now.tv_sec + 1, now.tv_nsec}};
  rt_count = 0;
  check(timer_settime(id, TIMER_ABSTIME, &abs, NULL) == 0, "timer_settime abs");
  while (rt_count < 1) sigsuspend(&none);
  struct timespec after;
  clock_gettime(CLOCK_REALTIME, &after);
  say("TIMER_ABSTIME: fired no earlier than asked: %s",
      after.tv_sec > abs.it_value.tv_sec || (after.tv_sec == abs.it_value.tv_sec && after.tv_nsec >= abs.it_value.tv_nsec) ? "yes" : "no");
  timer_delete(id);

  r = timer_create(99, &sev, &id);
  say("timer_create(clock 99): %d %s", r, errname(r ? errno : 0));
  sev.sigev_signo = 65;
  r = timer_create(CLOCK_MONOTONIC, &sev, &id);
  say("timer_create(signal 65): %d %s", r, errname(r ? errno : 0));
}

int main(void) {
  itimers();
  timerfds();
  posix_timers();
  say("done");
  return 0;
}
