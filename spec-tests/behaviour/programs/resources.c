/*
 * resources: what an application can do to the kernel's resources (issue 17): huge
 * address-space reservations and brk, file-creation and write floods in a tmpfs, a
 * real-time signal flood, timeouts past 2^31 ms, and the legacy vsyscall page.
 *
 * Usage: resources reserve | tmpfs DIR | rtsig | sleep | alarm | vsyscall
 * Each prints deterministic lines (see common.h) and "done".
 */
#include "common.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#define TB (1UL << 40)

static const char *err(void) {
  return strerrorname_np(errno) ? strerrorname_np(errno) : "?";
}

/* try_map maps 64 TB anonymous with prot/flags and reports ok or the errno. */
static void try_map(const char *what, int prot, int flags) {
  void *p = mmap(NULL, 64 * TB, prot, flags | MAP_ANONYMOUS, -1, 0);
  say("64 TB %s: %s", what, p == MAP_FAILED ? err() : "ok");
  if (p != MAP_FAILED && munmap(p, 64 * TB) != 0) fail("munmap 64 TB");
}

static int reserve(void) {
  /* 1000 reservations of 64 TB, each mapped and unmapped: Go, JVMs and sanitizers do this. */
  int ok = 0;
  for (int i = 0; i < 1000; i++) {
    void *p = mmap(NULL, 64 * TB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) break;
    if (munmap(p, 64 * TB) != 0) fail("munmap");
    ok++;
  }
  say("64 TB PROT_NONE reservations mapped and unmapped: %d", ok);
  try_map("PROT_NONE private", PROT_NONE, MAP_PRIVATE);
  try_map("read-write private MAP_NORESERVE", PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE);
  try_map("read-write private", PROT_READ | PROT_WRITE, MAP_PRIVATE);
  try_map("read-write shared", PROT_READ | PROT_WRITE, MAP_SHARED);
  try_map("PROT_NONE shared", PROT_NONE, MAP_SHARED);
  try_map("read-write shared MAP_NORESERVE", PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE);
  void *q = mmap(NULL, 64 * TB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (q == MAP_FAILED) fail("mmap PROT_NONE");
  say("64 TB PROT_NONE private made read-write by mprotect: %s", mprotect(q, 64 * TB, PROT_READ | PROT_WRITE) ? err() : "ok");
  say("its first 1 MiB made read-write: %s", mprotect(q, 1 << 20, PROT_READ | PROT_WRITE) ? err() : "ok");
  if (munmap(q, 64 * TB) != 0) fail("munmap PROT_NONE");

  /* A reservation opened by mprotect, touched at three far-apart places, seen by a child. */
  char *r = mmap(NULL, 64 * TB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (r == MAP_FAILED) fail("mmap reservation");
  if (mprotect(r, 64 * TB, PROT_READ | PROT_WRITE) != 0) fail("mprotect 64 TB");
  r[0] = 'a';
  r[32 * TB] = 'b';
  r[64 * TB - 1] = 'c';
  pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) _exit(r[0] == 'a' && r[32 * TB] == 'b' && r[64 * TB - 1] == 'c' && r[TB] == 0 ? 0 : 1);
  int st;
  if (waitpid(pid, &st, 0) != pid) fail("waitpid");
  say("touched 64 TB reservation: bytes %c%c%c, child after fork sees them: %s", r[0], r[32 * TB], r[64 * TB - 1],
      WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
  char *m = mremap(r + 16 * TB, 16 * TB, 32 * TB, MREMAP_MAYMOVE);
  say("mremap of 16 TB to 32 TB: %s", m == MAP_FAILED ? err() : "ok");
  if (munmap(r, 64 * TB) != 0) fail("munmap reservation");
  if (m != MAP_FAILED && munmap(m, 32 * TB) != 0) fail("munmap moved");

  /* A 64 TB shared mapping written by a child at far-apart places, read by the parent. */
  char *s = mmap(NULL, 64 * TB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (s == MAP_FAILED) fail("mmap shared");
  s[TB] = 'x';
  pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    s[0] = 'p';
    s[TB] = 'q';
    s[64 * TB - 1] = 'r';
    _exit(0);
  }
  if (waitpid(pid, &st, 0) != pid) fail("waitpid");
  say("64 TB shared mapping written by a child: parent reads %c%c%c", s[0], s[TB], s[64 * TB - 1]);
  if (munmap(s, 64 * TB) != 0) fail("munmap shared");

  /* mremap of a shared mapping to a fixed place: it stays shared with a child. */
  char *a = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  char *dst = mmap(NULL, 4 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED || dst == MAP_FAILED) fail("mmap for mremap");
  a[0] = 'a';
  int go[2];
  if (pipe(go) != 0) fail("pipe");
  pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    char c;
    if (read(go[0], &c, 1) != 1) _exit(2);
    _exit(a[0] == 'z' && a[4096] == 'y' ? 0 : 1);
  }
  char *b2 = mremap(a, 2 * 4096, 2 * 4096, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 4096);
  if (b2 != dst + 4096) fail("mremap fixed");
  b2[0] = 'z';
  b2[4096] = 'y';
  if (write(go[1], "g", 1) != 1) fail("write");
  if (waitpid(pid, &st, 0) != pid) fail("waitpid");
  say("shared mapping moved by mremap: the child sees writes at the new place: %s", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");

  /* brk: a huge break is refused (the old one stays), a small one works. */
  char *b = sbrk(0);
  long got = syscall(SYS_brk, b + 32 * TB);
  say("brk up by 32 TB: %s", got == (long)b ? "refused, break unchanged" : "moved");
  if (sbrk(16 * 4096) == (void *)-1) fail("sbrk 16 pages");
  b[16 * 4096 - 1] = 1;
  say("sbrk of 16 pages: usable");
  say("done");
  return 0;
}

/* tmpfs fills DIR with empty files, then one file with bytes, until each fails. */
static int tmpfs(const char *dir) {
  char path[512];
  long files = 0;
  for (;;) {
    snprintf(path, sizeof(path), "%s/f%ld", dir, files);
    int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600);
    if (fd < 0) break;
    close(fd);
    files++;
  }
  say("files created until %s", err());
  say("files created: %ld", files);
  for (long i = 0; i < files; i++) {
    snprintf(path, sizeof(path), "%s/f%ld", dir, i);
    if (unlink(path) != 0) fail("unlink");
  }
  snprintf(path, sizeof(path), "%s/big", dir);
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
  if (fd < 0) fail("open big");
  static char buf[65536];
  memset(buf, 'x', sizeof(buf));
  long long bytes = 0;
  for (;;) {
    ssize_t w = write(fd, buf, sizeof(buf));
    if (w < 0) break;
    bytes += w;
    if (w < (ssize_t)sizeof(buf)) {
      errno = 0;
      w = write(fd, buf, sizeof(buf));
      if (w >= 0) fail("write after a short write");
      break;
    }
  }
  say("bytes written until %s", err());
  say("bytes written: %lld", bytes);
  close(fd);
  if (unlink(path) != 0) fail("unlink big");
  /* The kernel is still there: a new process runs a command. */
  pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", "echo second command runs", (char *)NULL);
    _exit(127);
  }
  int st;
  if (waitpid(pid, &st, 0) != pid) fail("waitpid");
  say("done");
  return 0;
}

static volatile int rt_got, rt_got1, rt_order_ok = 1;
static void on_rt(int s, siginfo_t *si, void *uc) {
  (void)uc;
  if (s == SIGRTMIN) {
    if (si->si_value.sival_int != rt_got) rt_order_ok = 0;
    rt_got++;
  } else rt_got1++;
}

/* rtsig floods its own queue with SIGRTMIN under RLIMIT_SIGPENDING 100. The limit counts
 * every signal queued for the user (natively, other processes of root may hold a few). */
static int rtsig(void) {
  struct rlimit rl = {100, 100};
  if (setrlimit(RLIMIT_SIGPENDING, &rl) != 0) fail("setrlimit");
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_rt;
  sa.sa_flags = SA_SIGINFO;
  if (sigaction(SIGRTMIN, &sa, NULL) != 0 || sigaction(SIGRTMIN + 1, &sa, NULL) != 0) fail("sigaction");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGRTMIN);
  sigaddset(&set, SIGRTMIN + 1);
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) fail("sigprocmask");
  int n = 0;
  union sigval v = {0};
  for (; n < 100000; n++) {
    v.sival_int = n;
    if (sigqueue(getpid(), SIGRTMIN, v) != 0) break;
  }
  say("sigqueue of SIGRTMIN until %s, after at most 100 signals: %s", err(), n > 50 && n <= 100 ? "yes" : "no");
  /* kill() past the limit does not fail: the signal is pending (once), without its siginfo. */
  say("kill of SIGRTMIN+1 past the limit: %d", kill(getpid(), SIGRTMIN + 1));
  if (sigprocmask(SIG_UNBLOCK, &set, NULL) != 0) fail("sigprocmask");
  say("delivered: every queued SIGRTMIN, in order: %s; SIGRTMIN+1: %d", rt_got == n && rt_order_ok ? "yes" : "no", rt_got1);
  v.sival_int = n;
  say("sigqueue after delivery: %d", sigqueue(getpid(), SIGRTMIN, v));
  say("done");
  return 0;
}

static volatile sig_atomic_t alarms;
static void on_alarm(int s) {
  (void)s;
  alarms++;
}

/* sleep: a child sleeps 3650 days, is still asleep a moment later, and dies of SIGTERM. */
static int do_sleep(void) {
  pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    struct timespec ts = {3650L * 86400, 0};
    nanosleep(&ts, NULL);
    _exit(0);
  }
  struct timespec brief = {0, 300 * 1000 * 1000};
  nanosleep(&brief, NULL);
  int st;
  pid_t w = waitpid(pid, &st, WNOHANG);
  say("child sleeping 3650 days still asleep after 300 ms: %s", w == 0 ? "yes" : "no");
  if (kill(pid, SIGTERM) != 0 && w == 0) fail("kill");
  if (w == 0 && waitpid(pid, &st, 0) != pid) fail("waitpid");
  say("child ended by %s", WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : "exit");
  say("done");
  return 0;
}

static int do_alarm(void) {
  signal(SIGALRM, on_alarm);
  unsigned days35 = 35 * 86400;
  alarm(days35);
  struct timespec brief = {0, 300 * 1000 * 1000};
  nanosleep(&brief, NULL);
  say("alarm of 35 days fired within 300 ms: %s", alarms ? "yes" : "no");
  unsigned left = alarm(0);
  say("alarm of 35 days, seconds left: within 2 s of 35 days: %s", left + 2 >= days35 && left <= days35 ? "yes" : "no");
  struct itimerval it = {{0, 0}, {40L * 86400, 0}}, cur;
  if (setitimer(ITIMER_REAL, &it, NULL) != 0) fail("setitimer");
  nanosleep(&brief, NULL);
  if (getitimer(ITIMER_REAL, &cur) != 0) fail("getitimer");
  say("setitimer of 40 days fired within 300 ms: %s, left within 2 s of 40 days: %s", alarms ? "yes" : "no",
      cur.it_value.tv_sec + 2 >= 40L * 86400 && cur.it_value.tv_sec <= 40L * 86400 ? "yes" : "no");
  /* A periodic timer: three signals come, each waited for with sigsuspend. */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGALRM);
  if (sigprocmask(SIG_BLOCK, &block, &old) != 0) fail("sigprocmask");
  alarms = 0;
  struct itimerval per = {{0, 20000}, {0, 20000}};
  if (setitimer(ITIMER_REAL, &per, NULL) != 0) fail("setitimer periodic");
  if (getitimer(ITIMER_REAL, &cur) != 0) fail("getitimer");
  say("periodic timer: interval reported %ld us", (long)cur.it_interval.tv_usec);
  while (alarms < 3) sigsuspend(&old);
  struct itimerval off = {{0, 0}, {0, 0}};
  if (setitimer(ITIMER_REAL, &off, &cur) != 0) fail("setitimer off");
  say("periodic timer: 3 signals came; the old value had interval %ld us", (long)cur.it_interval.tv_usec);
  if (getitimer(ITIMER_REAL, &cur) != 0) fail("getitimer");
  say("disarmed: %s", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 && cur.it_interval.tv_usec == 0 ? "yes" : "no");
  struct itimerval bad = {{0, 0}, {0, 1000000}};
  say("setitimer with tv_usec 1000000: %s", setitimer(ITIMER_REAL, &bad, NULL) ? err() : "ok");
  say("done");
  return 0;
}

typedef long (*vgtod_t)(struct timeval *, void *);
typedef long (*vtime_t)(time_t *);
typedef long (*vgetcpu_t)(unsigned *, unsigned *, void *);

static int vsyscall(void) {
  time_t before = time(NULL);
  time_t t2 = 0;
  long t1 = ((vtime_t)0xffffffffff600400UL)(&t2);
  say("vsyscall time: matches time(2) within 1 s: %s, stored the same: %s", t1 - before <= 1 && t1 >= before ? "yes" : "no",
      t2 == t1 ? "yes" : "no");
  struct timeval tv = {0, 0};
  long g = ((vgtod_t)0xffffffffff600000UL)(&tv, NULL);
  say("vsyscall gettimeofday: returned %ld, matches within 1 s: %s, usec in range: %s", g,
      tv.tv_sec - before <= 1 && tv.tv_sec >= before ? "yes" : "no", tv.tv_usec >= 0 && tv.tv_usec < 1000000 ? "yes" : "no");
  unsigned cpu = 99, node = 99;
  long c = ((vgetcpu_t)0xffffffffff600800UL)(&cpu, &node, NULL);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  say("vsyscall getcpu: returned %ld, cpu valid: %s, node %u", c, cpu < (unsigned)ncpu ? "yes" : "no", node);
  pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    ((vtime_t)0xffffffffff600100UL)(NULL);
    _exit(0);
  }
  int st;
  if (waitpid(pid, &st, 0) != pid) fail("waitpid");
  say("call into the vsyscall page off an entry: %s", WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : "no signal");
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) fail("open /proc/self/maps");
  char line[512];
  int seen = 0;
  while (fgets(line, sizeof(line), f)) {
    if (!strstr(line, "[vsyscall]")) continue;
    line[strcspn(line, "\n")] = 0;
    say("maps: %s", line);
    seen = 1;
  }
  fclose(f);
  if (!seen) say("maps: no [vsyscall] line");
  say("done");
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "reserve")) return reserve();
  if (argc >= 3 && !strcmp(argv[1], "tmpfs")) return tmpfs(argv[2]);
  if (argc >= 2 && !strcmp(argv[1], "rtsig")) return rtsig();
  if (argc >= 2 && !strcmp(argv[1], "sleep")) return do_sleep();
  if (argc >= 2 && !strcmp(argv[1], "alarm")) return do_alarm();
  if (argc >= 2 && !strcmp(argv[1], "vsyscall")) return vsyscall();
  say("usage: resources reserve | tmpfs DIR | rtsig | sleep | alarm | vsyscall");
  return 2;
}
