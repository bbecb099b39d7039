/*
 * cpuclock: CPU-time clocks and resource usage measured from the time each thread really
 * ran. A busy thread computes until its own CLOCK_THREAD_CPUTIME_ID has grown by 100 ms
 * while an idle thread waits on a pipe; then the clocks of both, the process clock, the
 * clockids of pthread_getcpuclockid/clock_getcpuclockid, getrusage and times are read, and
 * a child's times are checked before and after it is reaped. Only facts that hold on any
 * load are printed (a thread's CPU time never exceeds the wall time it ran, a waiting
 * thread uses almost none).
 */
#include "common.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>

#define MS 1000000LL

static long long ns_of(clockid_t c) {
  struct timespec ts;
  if (clock_gettime(c, &ts) != 0) fail("clock_gettime");
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long tv_ns(struct timeval tv) { return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL; }

/* work computes for a while without a syscall (about a millisecond). */
static volatile unsigned long sink;
static void work(void) {
  unsigned long x = sink;
  for (int i = 0; i < 500000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
  sink = x;
}

/* spin computes until clock c has grown by `ns`; returns the wall time it took (ns). */
static long long spin(clockid_t c, long long ns) {
  long long w0 = ns_of(CLOCK_MONOTONIC), c0 = ns_of(c);
  while (ns_of(c) - c0 < ns) {
    work();
    if (ns_of(CLOCK_MONOTONIC) - w0 > 60000 * MS) {
      say("FAIL spin: the clock did not grow by %lld ms in a minute", ns / MS);
      exit(1);
    }
  }
  return ns_of(CLOCK_MONOTONIC) - w0;
}

static volatile sig_atomic_t fired;
static volatile long long fired_at;
static void on_usr1(int s) {
  (void)s;
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  fired_at = ts.tv_sec * 1000000000LL + ts.tv_nsec;
  fired = 1;
}

/* cpu_timer arms a POSIX timer for 50 ms of the process's CPU time and computes until it fires. */
static void cpu_timer(void) {
  signal(SIGUSR1, on_usr1);
  struct sigevent sev = {0};
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR1;
  timer_t id;
  check(timer_create(CLOCK_PROCESS_CPUTIME_ID, &sev, &id) == 0, "timer_create cpu");
  struct itimerspec its = {{0, 0}, {0, 50 * MS}}, cur;
  long long armed = ns_of(CLOCK_PROCESS_CPUTIME_ID);
  check(timer_settime(id, 0, &its, NULL) == 0, "timer_settime cpu");
  check(timer_gettime(id, &cur) == 0, "timer_gettime cpu");
  say("CPU-time timer: time left in (0, 50 ms]: %s", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 50 * MS ? "yes" : "no");
  long long w0 = ns_of(CLOCK_MONOTONIC);
  while (!fired && ns_of(CLOCK_MONOTONIC) - w0 < 60000 * MS) work();
  say("CPU-time timer fired: %s, not before 50 ms of CPU: %s", fired ? "yes" : "no", fired_at - armed >= 50 * MS ? "yes" : "no");
  check(timer_gettime(id, &cur) == 0, "timer_gettime cpu after");
  say("CPU-time timer after firing: %ld %ld", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
  timer_delete(id);
  int r = timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &id);
  say("timer_create(THREAD_CPUTIME): %d", r);
  if (r == 0) timer_delete(id);
}

static int gate[2], seen_gate[2];
static long long busy_cpu, busy_wall, idle_cpu, idle_own, idle_rusage;

static void *busy(void *arg) {
  (void)arg;
  long long c0 = ns_of(CLOCK_THREAD_CPUTIME_ID);
  busy_wall = spin(CLOCK_THREAD_CPUTIME_ID, 100 * MS);
  busy_cpu = ns_of(CLOCK_THREAD_CPUTIME_ID) - c0;
  /* Stay alive until the main thread has read this thread's clock (a gone thread's is EINVAL). */
  char b;
  if (read(seen_gate[0], &b, 1) != 1) fail("read seen gate");
  return NULL;
}

static void *idle(void *arg) {
  (void)arg;
  char b;
  long long c0 = ns_of(CLOCK_THREAD_CPUTIME_ID);
  if (read(gate[0], &b, 1) != 1) fail("read gate");
  idle_cpu = ns_of(CLOCK_THREAD_CPUTIME_ID) - c0;
  clockid_t mine;
  if (pthread_getcpuclockid(pthread_self(), &mine) != 0) fail("pthread_getcpuclockid self");
  idle_own = ns_of(mine);
  struct rusage ru;
  check(getrusage(RUSAGE_THREAD, &ru) == 0, "getrusage thread");
  idle_rusage = tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
  return NULL;
}

/* proc_stat reads this process's times and nice value from /proc/self/stat (fields 14
 * to 19: utime, stime, cutime, cstime in ticks, priority, nice) after the spinning above. */
static void proc_stat(void) {
  check(setpriority(PRIO_PROCESS, 0, 3) == 0, "setpriority");
  char buf[1024];
  FILE *f = fopen("/proc/self/stat", "r");
  check(f != NULL, "open /proc/self/stat");
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *p = strrchr(buf, ')');
  check(p != NULL, "parse /proc/self/stat");
  long long v[20] = {0};
  char state = 0;
  /* After ") ": field 3 (state) then fields 4.. */
  int got = sscanf(p + 2, "%c %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld", &state,
                   &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11], &v[12], &v[13], &v[14], &v[15], &v[16], &v[17], &v[18], &v[19]);
  check(got == 17, "parse /proc/self/stat fields");
  say("/proc/self/stat: utime+stime >= 9 ticks: %s", v[14] + v[15] >= 9 ? "yes" : "no");
  say("/proc/self/stat: cutime+cstime >= 9 ticks after reaping: %s", v[16] + v[17] >= 9 ? "yes" : "no");
  say("/proc/self/stat: priority %lld nice %lld after setpriority(3)", v[18], v[19]);
}

int main(void) {
  struct timespec res;
  check(clock_getres(CLOCK_THREAD_CPUTIME_ID, &res) == 0, "clock_getres thread");
  say("clock_getres(THREAD_CPUTIME): %ld s %ld ns", (long)res.tv_sec, res.tv_nsec);
  check(clock_getres(CLOCK_PROCESS_CPUTIME_ID, &res) == 0, "clock_getres process");
  say("clock_getres(PROCESS_CPUTIME): %ld s %ld ns", (long)res.tv_sec, res.tv_nsec);

  if (pipe(gate) != 0 || pipe(seen_gate) != 0) fail("pipe");
  pthread_t tb, ti;
  if (pthread_create(&ti, NULL, idle, NULL) != 0) fail("pthread_create idle");
  if (pthread_create(&tb, NULL, busy, NULL) != 0) fail("pthread_create busy");
  /* Read from this thread while it runs; it waits for seen_gate before it exits (an exited
   * thread's clock is EINVAL, and on a loaded machine it could finish its 100 ms first). */
  clockid_t busy_clock;
  if (pthread_getcpuclockid(tb, &busy_clock) != 0) fail("pthread_getcpuclockid");
  long long seen = 0;
  while (seen < 50 * MS) {
    seen = ns_of(busy_clock);
    usleep(10000);
  }
  say("busy thread's clock read from another thread reaches 50 ms: yes");
  if (write(seen_gate[1], "x", 1) != 1) fail("write seen gate");
  if (pthread_join(tb, NULL) != 0) fail("join busy");
  if (write(gate[1], "x", 1) != 1) fail("write gate");
  if (pthread_join(ti, NULL) != 0) fail("join idle");
  say("busy thread: its clock grew by >= 100 ms: %s", busy_cpu >= 100 * MS ? "yes" : "no");
  say("busy thread: cpu <= wall time it spun (+ a tick): %s", busy_cpu <= busy_wall + 20 * MS ? "yes" : "no");
  say("idle thread: cpu < 20 ms while the other spun: %s", idle_cpu < 20 * MS ? "yes" : "no");
  say("idle thread: its pthread_getcpuclockid clock < 20 ms: %s", idle_own < 20 * MS ? "yes" : "no");
  say("idle thread: its getrusage(THREAD) < 20 ms: %s", idle_rusage < 20 * MS ? "yes" : "no");

  long long proc = ns_of(CLOCK_PROCESS_CPUTIME_ID);
  say("process clock >= busy thread's: %s", proc >= busy_cpu ? "yes" : "no");
  clockid_t pc;
  check(clock_getcpuclockid(getpid(), &pc) == 0, "clock_getcpuclockid self");
  say("clock_getcpuclockid(getpid()) >= busy thread's: %s", ns_of(pc) >= busy_cpu ? "yes" : "no");
  struct timespec ts;
  int r;

  struct rusage ru;
  check(getrusage(RUSAGE_SELF, &ru) == 0, "getrusage self");
  say("getrusage(SELF) user+sys >= 90 ms: %s", tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime) >= 90 * MS ? "yes" : "no");
  struct tms tm;
  check(times(&tm) != (clock_t)-1, "times");
  say("times: utime+stime >= 9 ticks: %s", tm.tms_utime + tm.tms_stime >= 9 ? "yes" : "no");
  say("times: children before any: %ld", (long)(tm.tms_cutime + tm.tms_cstime));
  /* Max RSS: touching 32 MiB shows in ru_maxrss (KiB). */
  volatile char *mem = malloc(32 << 20);
  if (!mem) fail("malloc");
  for (long i = 0; i < (32L << 20); i += 4096) mem[i] = 1;
  check(getrusage(RUSAGE_SELF, &ru) == 0, "getrusage maxrss");
  say("getrusage(SELF) maxrss >= 32 MiB after touching 32 MiB: %s", ru.ru_maxrss >= 32 * 1024 ? "yes" : "no");
  free((void *)mem);
  r = getrusage(7, &ru);
  say("getrusage(7): %d %s", r, r ? errname(errno) : "0");

  /* A child spins 100 ms of its process CPU time; its parent sees it only once reaped. */
  int go[2];
  if (pipe(go) != 0) fail("pipe go");
  pid_t child = fork();
  if (child < 0) fail("fork");
  if (child == 0) {
    char b;
    if (read(go[0], &b, 1) != 1) _exit(2);
    volatile char *m = malloc(48 << 20);
    for (long i = 0; m && i < (48L << 20); i += 4096) m[i] = 2;
    spin(CLOCK_PROCESS_CPUTIME_ID, 100 * MS);
    _exit(0);
  }
  clockid_t cc;
  check(clock_getcpuclockid(child, &cc) == 0, "clock_getcpuclockid child");
  say("child's process clock readable: %s", clock_gettime(cc, &ts) == 0 ? "yes" : "no");
  /* A thread clock of another process's thread: Linux refuses it. */
  clockid_t other = (clockid_t)((~(unsigned)child) << 3) | 4 | 2;
  r = clock_gettime(other, &ts);
  say("thread clock of another process: %d %s", r, r ? errname(errno) : "0");
  if (write(go[1], "x", 1) != 1) fail("write go");
  siginfo_t si;
  check(waitid(P_PID, child, &si, WEXITED | WNOWAIT) == 0, "waitid WNOWAIT");
  check(getrusage(RUSAGE_CHILDREN, &ru) == 0, "getrusage children");
  say("children's usage before reaping: %lld", (tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime)) / MS);
  int st;
  struct rusage cru;
  check(wait4(child, &st, 0, &cru) == child, "wait4");
  say("child exit: %d", WEXITSTATUS(st));
  say("wait4 rusage of the child >= 90 ms: %s", tv_ns(cru.ru_utime) + tv_ns(cru.ru_stime) >= 90 * MS ? "yes" : "no");
  say("wait4 rusage maxrss of the child >= 48 MiB: %s", cru.ru_maxrss >= 48 * 1024 ? "yes" : "no");
  check(getrusage(RUSAGE_CHILDREN, &ru) == 0, "getrusage children");
  say("getrusage(CHILDREN) after reaping >= 90 ms: %s", tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime) >= 90 * MS ? "yes" : "no");
  say("getrusage(CHILDREN) maxrss >= 48 MiB: %s", ru.ru_maxrss >= 48 * 1024 ? "yes" : "no");
  check(times(&tm) != (clock_t)-1, "times");
  say("times: children after reaping >= 9 ticks: %s", tm.tms_cutime + tm.tms_cstime >= 9 ? "yes" : "no");
  r = clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &(struct timespec){0, 1000}, NULL);
  say("clock_nanosleep(THREAD_CPUTIME): %s", errname(r));
  proc_stat();
  cpu_timer();
  say("done");
  return 0;
}
