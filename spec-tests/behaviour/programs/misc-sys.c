/*
 * misc-sys: process and time syscalls made raw, with their error answers: pipe, fork,
 * exit (of a process and of one thread), waitid (exited, killed, stopped, continued,
 * WNOHANG, WNOWAIT), tkill, sigaltstack (a handler on the alternate stack), alarm,
 * nanosleep (interrupted: EINTR and the time left), clock_getres and close_range
 * (closing, CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE in a thread sharing the table).
 */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE 2
#define CLOSE_RANGE_CLOEXEC 4
#endif

static void raw_pipe_fork_exit(void) {
  int p[2] = {-1, -1};
  const char *res = result(syscall(SYS_pipe, p));
  say("pipe: %s, fds %d %d", res, p[0], p[1]);
  say("pipe with a bad pointer: %s", result(syscall(SYS_pipe, (int *)8)));
  say("fcntl flags of the read end: O_RDONLY %s, O_NONBLOCK %s", (fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY ? "yes" : "no",
      fcntl(p[0], F_GETFL) & O_NONBLOCK ? "yes" : "no");
  say("write to the read end: %s", result(write(p[0], "x", 1)));

  static volatile int shared = 1;
  pid_t parent = getpid();
  long pid = syscall(SYS_fork);
  check(pid >= 0, "fork");
  if (pid == 0) {
    shared = 2;
    char line[64];
    int n = snprintf(line, sizeof(line), "child: ppid is the parent: %s", syscall(SYS_getppid) == parent ? "yes" : "no");
    check(write(p[1], line, (size_t)n) == n, "write");
    syscall(SYS_exit, 0x107);
  }
  close(p[1]);
  char buf[64] = {0};
  check(read(p[0], buf, sizeof(buf) - 1) > 0, "read");
  say("%s", buf);
  int st;
  char sbuf[32];
  check(waitpid((pid_t)pid, &st, 0) == pid, "waitpid");
  say("fork child exit(0x107): %s; parent's copy unchanged: %s", describe_status(st, sbuf, sizeof(sbuf)), shared == 1 ? "yes" : "no");
  close(p[0]);
}

static void *exit_thread(void *arg) {
  (void)arg;
  syscall(SYS_exit, 0);
  return NULL;
}

static void thread_exit(void) {
  pthread_t th;
  check(pthread_create(&th, NULL, exit_thread, NULL) == 0, "pthread_create");
  check(pthread_join(th, NULL) == 0, "pthread_join");
  say("exit in a thread ends that thread only: yes");
}

static siginfo_t info;
static void waitid_one(const char *what, idtype_t type, id_t id, int options) {
  memset(&info, 0, sizeof(info));
  long r = syscall(SYS_waitid, type, id, &info, options, NULL);
  if (r < 0) {
    say("waitid %s: %s", what, errname(errno));
    return;
  }
  const char *code = info.si_code == CLD_EXITED ? "CLD_EXITED" : info.si_code == CLD_KILLED ? "CLD_KILLED" : info.si_code == CLD_STOPPED ? "CLD_STOPPED" : info.si_code == CLD_CONTINUED ? "CLD_CONTINUED" : info.si_code == 0 ? "0" : "other";
  say("waitid %s: ok, signo %d, code %s, status %d, pid known: %s, uid %d", what, info.si_signo, code, info.si_status, info.si_pid == 0 ? "no" : "yes", (int)info.si_uid);
}

static void waitid_cases(void) {
  pid_t a = fork();
  check(a >= 0, "fork");
  if (a == 0) _exit(3);
  waitid_one("WEXITED|WNOWAIT", P_PID, (id_t)a, WEXITED | WNOWAIT);
  waitid_one("WEXITED again", P_PID, (id_t)a, WEXITED);
  waitid_one("reaped child", P_PID, (id_t)a, WEXITED);

  int go[2];
  check(pipe(go) == 0, "pipe");
  pid_t b = fork();
  check(b >= 0, "fork");
  if (b == 0) {
    char c;
    close(go[1]);
    while (read(go[0], &c, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(go[0]);
  waitid_one("WNOHANG on a running child", P_ALL, 0, WEXITED | WNOHANG);
  kill(b, SIGSTOP);
  waitid_one("WSTOPPED", P_PID, (id_t)b, WSTOPPED);
  kill(b, SIGCONT);
  waitid_one("WCONTINUED", P_PID, (id_t)b, WCONTINUED);
  kill(b, SIGKILL);
  waitid_one("killed", P_PGID, 0, WEXITED);
  close(go[1]);
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) _exit(4);
  struct rusage ru;
  memset(&ru, 0xff, sizeof(ru));
  memset(&info, 0, sizeof(info));
  const char *res = result(syscall(SYS_waitid, P_PID, c, &info, WEXITED, &ru));
  say("waitid with rusage: %s, status %d, rusage written: %s", res, info.si_status, ru.ru_nsignals != -1 && ru.ru_nswap != -1 ? "yes" : "no");
  waitid_one("options 0", P_ALL, 0, 0);
  waitid_one("bad idtype", (idtype_t)7, 0, WEXITED);
  waitid_one("bad options", P_ALL, 0, WEXITED | 0x10000);
  waitid_one("no children", P_ALL, 0, WEXITED);
}

static volatile pid_t handled_tid;
static volatile int handled_sig;
static void on_usr1(int sig) {
  handled_sig = sig;
  handled_tid = (pid_t)syscall(SYS_gettid);
}

static volatile pid_t waiting_tid;
static void *waiting_thread(void *arg) {
  int *fds = arg;
  waiting_tid = (pid_t)syscall(SYS_gettid);
  char c;
  while (read(fds[0], &c, 1) < 0 && errno == EINTR) {}
  return NULL;
}

static void tkill_cases(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  check(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
  pid_t me = (pid_t)syscall(SYS_gettid);
  const char *res = result(syscall(SYS_tkill, me, SIGUSR1));
  say("tkill self SIGUSR1: %s, handled: %s", res, handled_sig == SIGUSR1 && handled_tid == me ? "yes" : "no");
  say("tkill signal 0: %s", result(syscall(SYS_tkill, me, 0)));
  say("tkill signal 65: %s", result(syscall(SYS_tkill, me, 65)));
  say("tkill tid 0: %s", result(syscall(SYS_tkill, 0, SIGUSR1)));
  say("tkill tid -1: %s", result(syscall(SYS_tkill, -1, SIGUSR1)));
  say("tkill a missing tid: %s", result(syscall(SYS_tkill, 4000000, SIGUSR1)));

  // A thread-directed signal runs the handler in that thread.
  int fds[2];
  check(pipe(fds) == 0, "pipe");
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  pthread_t th;
  handled_tid = 0;
  check(pthread_create(&th, NULL, waiting_thread, fds) == 0, "pthread_create");
  while (waiting_tid == 0) sched_yield();
  pid_t tid = waiting_tid;
  // Block SIGUSR1 here so that only the target thread can take it.
  pthread_sigmask(SIG_BLOCK, &block, &old);
  check(syscall(SYS_tkill, tid, SIGUSR1) == 0, "tkill thread");
  for (int i = 0; i < 100000 && handled_tid == 0; i++) sched_yield();
  say("tkill another thread: handled in that thread: %s", handled_tid == tid ? "yes" : "no");
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  check(write(fds[1], "x", 1) == 1, "write");
  pthread_join(th, NULL);
  close(fds[0]);
  close(fds[1]);
}

static char altstack[65536];
static volatile int on_alt, alt_flags_in_handler, change_in_handler;
static void on_usr2(int sig) {
  (void)sig;
  char here;
  on_alt = (uintptr_t)&here >= (uintptr_t)altstack && (uintptr_t)&here < (uintptr_t)altstack + sizeof(altstack);
  stack_t cur;
  syscall(SYS_sigaltstack, NULL, &cur);
  alt_flags_in_handler = cur.ss_flags;
  stack_t other = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0};
  change_in_handler = syscall(SYS_sigaltstack, &other, NULL) == -1 ? errno : 0;
}

static void altstack_cases(void) {
  stack_t old = {0};
  const char *res = result(syscall(SYS_sigaltstack, NULL, &old));
  say("sigaltstack query: %s, disabled: %s", res, old.ss_flags == SS_DISABLE ? "yes" : "no");
  stack_t small = {.ss_sp = altstack, .ss_size = 1024, .ss_flags = 0};
  say("sigaltstack 1024 bytes: %s", result(syscall(SYS_sigaltstack, &small, NULL)));
  stack_t badf = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0x10};
  say("sigaltstack bad flags: %s", result(syscall(SYS_sigaltstack, &badf, NULL)));
  say("sigaltstack bad pointer: %s", result(syscall(SYS_sigaltstack, (stack_t *)8, NULL)));
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0};
  say("sigaltstack set: %s", result(syscall(SYS_sigaltstack, &ss, NULL)));
  check(syscall(SYS_sigaltstack, NULL, &old) == 0, "sigaltstack query");
  say("query: same stack %s, size %zu, flags %d", old.ss_sp == altstack ? "yes" : "no", old.ss_size, old.ss_flags);
  struct sigaction sa = {0};
  sa.sa_handler = on_usr2;
  sa.sa_flags = SA_ONSTACK;
  check(sigaction(SIGUSR2, &sa, NULL) == 0, "sigaction");
  raise(SIGUSR2);
  say("handler ran on the alternate stack: %s, flags there %s, changing it there: %s", on_alt ? "yes" : "no",
      alt_flags_in_handler == SS_ONSTACK ? "SS_ONSTACK" : "other", errname(change_in_handler));
  stack_t off = {.ss_flags = SS_DISABLE};
  res = result(syscall(SYS_sigaltstack, &off, &old));
  say("sigaltstack SS_DISABLE: %s", res);
  say("old: same stack %s", old.ss_sp == altstack ? "yes" : "no");
  check(syscall(SYS_sigaltstack, NULL, &old) == 0, "sigaltstack query");
  say("now disabled: %s", old.ss_flags == SS_DISABLE ? "yes" : "no");
}

static volatile int alarms;
static void on_alrm(int sig) {
  (void)sig;
  alarms++;
}

static void alarm_sleep_cases(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_alrm;
  check(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
  say("alarm 100: %ld", syscall(SYS_alarm, 100));
  say("alarm 50 returns the time left: %ld", syscall(SYS_alarm, 50));
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    say("child's alarm after fork: %ld", syscall(SYS_alarm, 0));
    _exit(0);
  }
  int st;
  check(waitpid(c, &st, 0) == c, "waitpid");
  say("alarm 0 cancels, returns: %ld", syscall(SYS_alarm, 0));
  say("alarm 1: %ld", syscall(SYS_alarm, 1));

  struct timespec req = {30, 0}, rem = {0, 0};
  const char *slept = result(syscall(SYS_nanosleep, &req, &rem));
  say("nanosleep 30 s with an alarm in 1 s: %s, alarms %d, time left under 30 s and over 0: %s", slept, alarms,
      (rem.tv_sec < 30 && (rem.tv_sec > 0 || rem.tv_nsec > 0)) ? "yes" : "no");
  say("alarm 1: %ld", syscall(SYS_alarm, 1));
  const char *res = result(syscall(SYS_nanosleep, &req, (struct timespec *)8));
  say("nanosleep 30 s interrupted, rem a bad pointer: %s, alarms %d", res, alarms);
  struct timespec shortreq = {0, 1000000};
  say("nanosleep 1 ms: %s", result(syscall(SYS_nanosleep, &shortreq, NULL)));
  struct timespec zero = {0, 0};
  say("nanosleep 0: %s", result(syscall(SYS_nanosleep, &zero, NULL)));
  struct timespec badns = {0, 1000000000};
  say("nanosleep tv_nsec 1e9: %s", result(syscall(SYS_nanosleep, &badns, NULL)));
  struct timespec negs = {-1, 0};
  say("nanosleep tv_sec -1: %s", result(syscall(SYS_nanosleep, &negs, NULL)));
  say("nanosleep bad pointer: %s", result(syscall(SYS_nanosleep, (struct timespec *)8, NULL)));
}

static void getres_cases(void) {
  static const struct {
    clockid_t id;
    const char *name;
  } clocks[] = {{CLOCK_REALTIME, "CLOCK_REALTIME"},
                {CLOCK_MONOTONIC, "CLOCK_MONOTONIC"},
                {CLOCK_BOOTTIME, "CLOCK_BOOTTIME"},
                {CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW"},
                {CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID"},
                {CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID"}};
  for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
    struct timespec res = {-1, -1};
    long r = syscall(SYS_clock_getres, clocks[i].id, &res);
    say("clock_getres %s: %s, %lld s %ld ns", clocks[i].name, result(r), (long long)res.tv_sec, res.tv_nsec);
  }
  struct timespec res;
  say("clock_getres NULL: %s", result(syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL)));
  say("clock_getres clock 100: %s", result(syscall(SYS_clock_getres, 100, &res)));
  say("clock_getres bad pointer: %s", result(syscall(SYS_clock_getres, CLOCK_MONOTONIC, (struct timespec *)8)));
}

static int unshare_fd;
static void *unshare_thread(void *arg) {
  (void)arg;
  long r = syscall(SYS_close_range, unshare_fd, unshare_fd, CLOSE_RANGE_UNSHARE);
  say("thread: close_range UNSHARE: %s, fd closed here: %s", result(r), fcntl(unshare_fd, F_GETFD) == -1 ? "yes" : "no");
  return NULL;
}

static void close_range_cases(void) {
  for (int fd = 10; fd <= 15; fd++) check(dup2(1, fd) == fd, "dup2");
  say("close_range 11..13: %s", result(syscall(SYS_close_range, 11, 13, 0)));
  char open_list[64] = "";
  for (int fd = 10; fd <= 15; fd++)
    if (fcntl(fd, F_GETFD) != -1) snprintf(open_list + strlen(open_list), sizeof(open_list) - strlen(open_list), " %d", fd);
  say("open among 10..15:%s", open_list);
  say("close_range CLOEXEC 14..~0: %s", result(syscall(SYS_close_range, 14, ~0U, CLOSE_RANGE_CLOEXEC)));
  say("fd 14 FD_CLOEXEC: %s, fd 15: %s, fd 10: %s", fcntl(14, F_GETFD) == FD_CLOEXEC ? "yes" : "no", fcntl(15, F_GETFD) == FD_CLOEXEC ? "yes" : "no",
      fcntl(10, F_GETFD) == FD_CLOEXEC ? "yes" : "no");
  say("close_range first > last: %s", result(syscall(SYS_close_range, 5, 4, 0)));
  say("close_range bad flags: %s", result(syscall(SYS_close_range, 10, 10, 1)));
  say("close_range over nothing open: %s", result(syscall(SYS_close_range, 500, 600, 0)));
  unshare_fd = 10;
  pthread_t th;
  check(pthread_create(&th, NULL, unshare_thread, NULL) == 0, "pthread_create");
  check(pthread_join(th, NULL) == 0, "pthread_join");
  say("main thread: fd 10 still open: %s", fcntl(10, F_GETFD) != -1 ? "yes" : "no");
  const char *res = result(syscall(SYS_close_range, 10, ~0U, 0));
  say("close_range 10..~0: %s, fd 10 open: %s", res, fcntl(10, F_GETFD) != -1 ? "yes" : "no");
}

int main(void) {
  raw_pipe_fork_exit();
  thread_exit();
  waitid_cases();
  tkill_cases();
  altstack_cases();
  getres_cases();
  close_range_cases();
  alarm_sleep_cases();
  say("done");
  return 0;
}
