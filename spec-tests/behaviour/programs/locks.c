/*
 * locks: advisory file locks between processes, in a fresh directory under argv[1].
 *
 * POSIX record locks (fcntl F_SETLK/F_SETLKW/F_GETLK): conflicts between a parent and
 * forked children over byte ranges (l_whence SEEK_SET/SEEK_END, negative l_len, l_len 0
 * to the end), ranges split and merged, F_GETLK reporting the holder (its l_pid compared
 * with the parent's pid, never printed), F_SETLKW waiting for the release, interrupted by
 * a handler without SA_RESTART (EINTR) and restarted with it, EDEADLK between two
 * processes, release on close of ANY descriptor of the file and at exit, the access-mode
 * rules (EBADF). OFD locks (F_OFD_*) between two opens of one process; flock between two
 * opens, its conversions, and its independence from fcntl locks. A CLONE_FILES child (raw
 * clone, no CLONE_THREAD) exiting leaves the shared descriptors open; one that execs
 * (itself, as "locks exec-child FD") gets its own table and leaves ours alone. Descriptors
 * received with SCM_RIGHTS past RLIMIT_NOFILE are dropped (MSG_CTRUNC), not leaked.
 * Waits are sequenced with pipes; no result depends on timing.
 */
#include "common.h"
#include <fcntl.h>
#include <sched.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>

static const char *path = "locks-work/f";

static const char *tname(short t) {
  return t == F_RDLCK ? "F_RDLCK" : t == F_WRLCK ? "F_WRLCK" : t == F_UNLCK ? "F_UNLCK" : "?";
}

static long setlk(int fd, int cmd, short type, short whence, off_t start, off_t len) {
  struct flock fl = {.l_type = type, .l_whence = whence, .l_start = start, .l_len = len};
  return fcntl(fd, cmd, &fl);
}

/* probe forks a child (another lock owner) that asks F_GETLK for the range and prints
 * what holds it; `holder` is the pid expected in l_pid. */
static void probe(const char *label, int fd, short type, short whence, off_t start, off_t len, pid_t holder) {
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    struct flock fl = {.l_type = type, .l_whence = whence, .l_start = start, .l_len = len};
    if (fcntl(fd, F_GETLK, &fl) != 0) fail("F_GETLK");
    if (fl.l_type == F_UNLCK)
      say("%s: F_UNLCK", label);
    else
      say("%s: %s %lld+%lld whence %d, l_pid %s", label, tname(fl.l_type), (long long)fl.l_start, (long long)fl.l_len,
          fl.l_whence, fl.l_pid == holder ? "the holder's" : fl.l_pid == -1 ? "-1" : "other");
    _exit(0);
  }
  int st;
  check(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0, "probe child");
}

static void ranges(int fd) {
  pid_t me = getpid();
  check(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, 10) == 0, "lock 10+10");
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    say("child: F_SETLK F_WRLCK at 15: %s", result(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 15, 1)));
    say("child: F_SETLK F_RDLCK 0+10: %s", result(setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 10)));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    check(fcntl(fd, F_GETLK, &fl) == 0, "F_GETLK");
    say("child: F_GETLK F_WRLCK 0+0: %s %lld+%lld, l_pid is the parent's: %s", tname(fl.l_type), (long long)fl.l_start,
        (long long)fl.l_len, fl.l_pid == getppid() ? "yes" : "no");
    _exit(0);
  }
  int st;
  check(waitpid(c, &st, 0) == c && WIFEXITED(st), "child");
  probe("after the child exited, its lock on 0+10 is gone", fd, F_WRLCK, SEEK_SET, 0, 10, me);

  /* Split and merge. */
  check(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 100) == 0, "lock 0+100");
  check(setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 40, 10) == 0, "unlock 40+10");
  probe("hole 40+10", fd, F_WRLCK, SEEK_SET, 40, 10, me);
  probe("30+20 across the hole", fd, F_WRLCK, SEEK_SET, 30, 20, me);
  check(setlk(fd, F_SETLK, F_RDLCK, SEEK_SET, 20, 10) == 0, "read lock 20+10");
  probe("read 25+1 inside the read lock", fd, F_RDLCK, SEEK_SET, 25, 1, me);
  probe("read 15+20", fd, F_RDLCK, SEEK_SET, 15, 20, me);
  probe("write at 60 with l_len -5", fd, F_WRLCK, SEEK_SET, 60, -5, me);
  probe("write at SEEK_END-1", fd, F_WRLCK, SEEK_END, -1, 1, me);
  check(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 40, 10) == 0, "lock 40+10 again");
  probe("35+1 after filling the hole (merged)", fd, F_WRLCK, SEEK_SET, 35, 1, me);
  check(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 200, 0) == 0, "lock 200 to the end");
  probe("1000+1", fd, F_WRLCK, SEEK_SET, 1000, 1, me);
  check(setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0, "unlock all");
  probe("after unlocking 0+0", fd, F_WRLCK, SEEK_SET, 0, 0, me);
}

static void on_alarm(int sig) { (void)sig; }

static int restart_pipe = -1, ticks = 0;
static void on_tick(int sig) {
  (void)sig;
  if (++ticks == 3 && write(restart_pipe, "t", 1) != 1) _exit(4);
}

static void waits(int fd) {
  /* F_SETLKW waits for the release; the parent writes a mark before releasing. */
  check(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1) == 0, "lock 0+1");
  int ready[2];
  check(pipe(ready) == 0, "pipe");
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    check(write(ready[1], "r", 1) == 1, "ready");
    long r = setlk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
    char mark = 0;
    check(pread(fd, &mark, 1, 50) == 1, "pread");
    say("child: F_SETLKW: %s, saw the mark written before the release: %s", result(r), mark == 'M' ? "yes" : "no");
    _exit(0);
  }
  char b;
  check(read(ready[0], &b, 1) == 1, "read ready");
  check(pwrite(fd, "M", 1, 50) == 1, "pwrite mark");
  check(setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 1) == 0, "unlock");
  int st;
  check(waitpid(c, &st, 0) == c && WIFEXITED(st), "child");
  check(pwrite(fd, "x", 1, 50) == 1, "pwrite");

  /* A handler without SA_RESTART interrupts the wait: EINTR (a repeating timer, so the
   * signal comes while the child waits whatever the order). */
  check(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1) == 0, "lock 0+1");
  c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    struct sigaction sa = {.sa_handler = on_alarm};
    check(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
    struct itimerval it = {.it_interval = {0, 20000}, .it_value = {0, 20000}};
    check(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
    long r = setlk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
    say("child: F_SETLKW with a handler without SA_RESTART: %s", result(r));
    _exit(0);
  }
  check(waitpid(c, &st, 0) == c && WIFEXITED(st), "child");

  /* With SA_RESTART the wait goes on after the handlers; the third one tells the parent,
   * which releases the lock. */
  int tp[2];
  check(pipe(tp) == 0, "pipe");
  c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    restart_pipe = tp[1];
    struct sigaction sa = {.sa_handler = on_tick, .sa_flags = SA_RESTART};
    check(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
    struct itimerval it = {.it_interval = {0, 20000}, .it_value = {0, 20000}};
    check(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
    long r = setlk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    say("child: F_SETLKW with an SA_RESTART handler, after %s handlers: %s", ticks >= 3 ? "3 or more" : "fewer", result(r));
    _exit(0);
  }
  check(read(tp[0], &b, 1) == 1, "read tick");
  check(setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 1) == 0, "unlock");
  check(waitpid(c, &st, 0) == c && WIFEXITED(st), "child");
  close(tp[0]);
  close(tp[1]);
  close(ready[0]);
  close(ready[1]);
}

static void deadlock(int fd) {
  /* Parent holds byte 0, the child byte 1; each then waits for the other's byte. Whoever
   * asks second closes the cycle and gets EDEADLK, then releases its byte so that the
   * other gets it: exactly one EDEADLK, whatever the order. */
  check(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1) == 0, "lock 0");
  int held[2], res[2];
  check(pipe(held) == 0 && pipe(res) == 0, "pipe");
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    check(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1, 1) == 0, "child lock 1");
    check(write(held[1], "h", 1) == 1, "held");
    long r = setlk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
    char e = r == 0 ? 'g' : errno == EDEADLK ? 'd' : 'x';
    if (e == 'd') setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 1, 1);
    check(write(res[1], &e, 1) == 1, "result");
    _exit(0);
  }
  char b;
  check(read(held[0], &b, 1) == 1, "read held");
  long r = setlk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1);
  char mine = r == 0 ? 'g' : errno == EDEADLK ? 'd' : 'x';
  if (mine == 'd') setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 1);
  check(read(res[0], &b, 1) == 1, "read result");
  int st;
  check(waitpid(c, &st, 0) == c && WIFEXITED(st), "child");
  int dead = (mine == 'd') + (b == 'd'), got = (mine == 'g') + (b == 'g');
  say("deadlock: %d EDEADLK, %d granted", dead, got);
  check(setlk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0, "unlock");
  close(held[0]);
  close(held[1]);
  close(res[0]);
  close(res[1]);
}

static void release_on_close(int fd) {
  pid_t me = getpid();
  check(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10) == 0, "lock");
  int other = open(path, O_RDONLY);
  check(other >= 0, "open again");
  probe("before closing another descriptor", fd, F_WRLCK, SEEK_SET, 0, 1, me);
  close(other);
  probe("after closing another descriptor of the file", fd, F_WRLCK, SEEK_SET, 0, 1, me);
  check(setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10) == 0, "lock");
  int d = dup(fd);
  check(d >= 0, "dup");
  int p[2];
  check(pipe(p) == 0, "pipe");
  check(dup2(p[0], d) == d, "dup2 over the dup");
  probe("after dup2 over a dup of the descriptor", fd, F_WRLCK, SEEK_SET, 0, 1, me);
  close(d);
  close(p[0]);
  close(p[1]);
}

static void ofd(void) {
  pid_t me = getpid();
  int a = open(path, O_RDWR), b = open(path, O_RDWR);
  check(a >= 0 && b >= 0, "open");
  say("OFD: lock 0+10 on a: %s", result(setlk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10)));
  say("OFD: lock at 5 on b: %s", result(setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 5, 1)));
  say("OFD: POSIX lock at 5 on b: %s", result(setlk(b, F_SETLK, F_WRLCK, SEEK_SET, 5, 1)));
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
  check(fcntl(b, F_OFD_GETLK, &fl) == 0, "F_OFD_GETLK");
  say("OFD: F_OFD_GETLK on b: %s %lld+%lld, l_pid %d", tname(fl.l_type), (long long)fl.l_start, (long long)fl.l_len, fl.l_pid);
  struct flock bad = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1, .l_pid = 1};
  say("OFD: l_pid 1: F_OFD_SETLK %s, F_OFD_GETLK %s", result(fcntl(b, F_OFD_SETLK, &bad)), result(fcntl(b, F_OFD_GETLK, &bad)));
  probe("OFD: seen by another process", a, F_RDLCK, SEEK_SET, 0, 0, me);
  int c = open(path, O_RDONLY);
  close(c);
  say("OFD: closing another descriptor keeps it: %s", result(setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 5, 1)));
  int d = dup(a);
  close(a);
  say("OFD: a closed, its dup open: %s", result(setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 5, 1)));
  close(d);
  say("OFD: the dup closed too: %s", result(setlk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 5, 1)));
  check(setlk(b, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0, "unlock");
  close(b);
}

static void flocks(void) {
  int a = open(path, O_RDONLY), b = open(path, O_RDONLY);
  check(a >= 0 && b >= 0, "open");
  say("flock: LOCK_EX on a: %s", result(flock(a, LOCK_EX)));
  say("flock: LOCK_EX|LOCK_NB on b: %s", result(flock(b, LOCK_EX | LOCK_NB)));
  say("flock: LOCK_SH|LOCK_NB on b: %s", result(flock(b, LOCK_SH | LOCK_NB)));
  int w = open(path, O_RDWR);
  say("flock: fcntl F_SETLK on another open while flocked: %s", result(setlk(w, F_SETLK, F_WRLCK, SEEK_SET, 0, 0)));
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    say("flock child: LOCK_EX|LOCK_NB on the inherited a: %s", result(flock(a, LOCK_EX | LOCK_NB)));
    int o = open(path, O_RDONLY);
    say("flock child: LOCK_EX|LOCK_NB on its own open: %s", result(flock(o, LOCK_EX | LOCK_NB)));
    _exit(0);
  }
  int st;
  check(waitpid(c, &st, 0) == c && WIFEXITED(st), "child");
  int d = dup(a);
  say("flock: LOCK_UN through a dup of a: %s", result(flock(d, LOCK_UN)));
  say("flock: then LOCK_SH on b: %s, LOCK_SH on a: %s", result(flock(b, LOCK_SH | LOCK_NB)), result(flock(a, LOCK_SH | LOCK_NB)));
  say("flock: converting a to LOCK_EX|LOCK_NB: %s", result(flock(a, LOCK_EX | LOCK_NB)));
  say("flock: converting b to LOCK_EX|LOCK_NB after that: %s", result(flock(b, LOCK_EX | LOCK_NB)));
  close(b);
  say("flock: b closed, LOCK_EX|LOCK_NB on a: %s", result(flock(a, LOCK_EX | LOCK_NB)));
  say("flock: bad operation: %s", result(flock(a, LOCK_SH | LOCK_EX)));
  close(a);
  close(d);
  close(w);
}

static void modes(void) {
  int r = open(path, O_RDONLY), w = open(path, O_WRONLY);
  check(r >= 0 && w >= 0, "open");
  say("modes: F_WRLCK on O_RDONLY: %s, F_RDLCK: %s", result(setlk(r, F_SETLK, F_WRLCK, SEEK_SET, 0, 1)),
      result(setlk(r, F_SETLK, F_RDLCK, SEEK_SET, 0, 1)));
  say("modes: F_RDLCK on O_WRONLY: %s, F_WRLCK: %s", result(setlk(w, F_SETLK, F_RDLCK, SEEK_SET, 2, 1)),
      result(setlk(w, F_SETLK, F_WRLCK, SEEK_SET, 2, 1)));
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
  say("modes: F_GETLK F_WRLCK on O_RDONLY: %s", result(fcntl(r, F_GETLK, &fl)));
  fl.l_type = F_UNLCK;
  say("modes: F_GETLK F_UNLCK: %s", result(fcntl(r, F_GETLK, &fl)));
  say("modes: whence 7: %s, start -1: %s, type 9: %s", result(setlk(r, F_SETLK, F_RDLCK, 7, 0, 1)),
      result(setlk(r, F_SETLK, F_RDLCK, SEEK_SET, -1, 1)), result(setlk(r, F_SETLK, 9, SEEK_SET, 0, 1)));
  int p = open(path, O_PATH);
  say("modes: O_PATH: F_SETLK %s, flock %s", result(setlk(p, F_SETLK, F_RDLCK, SEEK_SET, 0, 1)), result(flock(p, LOCK_SH)));
  close(p);
  close(r);
  close(w);
}

static void clone_files(void) {
  int p[2];
  check(pipe(p) == 0, "pipe");
  /* SAFETY: no CLONE_VM: the child runs on a copy of this stack, as after fork. */
  long c = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
  check(c >= 0, "clone");
  if (c == 0) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) _exit(2);
    if (write(p[1], &fd, sizeof fd) != sizeof fd) _exit(3);
    _exit(0);
  }
  int st, fd = -1;
  check(waitpid((pid_t)c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0, "clone child");
  check(read(p[0], &fd, sizeof fd) == sizeof fd, "read fd");
  say("CLONE_FILES child exited: its open is in our table: %s, our pipe still open: %s", fcntl(fd, F_GETFD) >= 0 ? "yes" : "no",
      write(p[1], "x", 1) == 1 ? "yes" : "no");
  close(fd);

  /* A CLONE_FILES child that execs gets a table of its own (Linux's unshare_files):
   * its close-on-exec pass and its new descriptors leave ours alone. */
  int ce = open(path, O_RDONLY | O_CLOEXEC);
  check(ce >= 0, "open O_CLOEXEC");
  c = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
  check(c >= 0, "clone");
  if (c == 0) {
    char w[16];
    snprintf(w, sizeof w, "%d", p[1]);
    execl("/proc/self/exe", "locks", "exec-child", w, (char *)NULL);
    _exit(5);
  }
  char b;
  check(read(p[0], &b, 1) == 1 && b == 'x', "read our own write");
  check(read(p[0], &b, 1) == 1 && b == 'e', "read the exec'd child's write");
  check(waitpid((pid_t)c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0, "exec child");
  say("CLONE_FILES child exec'd: our O_CLOEXEC descriptor still open: %s, its fd 100 not in our table: %s",
      fcntl(ce, F_GETFD) == FD_CLOEXEC ? "yes" : "no", fcntl(100, F_GETFD) == -1 && errno == EBADF ? "yes" : "no");
  close(ce);
  close(p[0]);
  close(p[1]);
}

/* scm_rights_emfile: descriptors received past RLIMIT_NOFILE are dropped, not leaked
 * (Linux's scm_detach_fds): two copies of a pipe's write end are sent, one fits. */
static void scm_rights_emfile(void) {
  int sv[2], p[2];
  check(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0 && pipe(p) == 0, "socketpair, pipe");
  char cbuf[CMSG_SPACE(2 * sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  char byte = 'r';
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(2 * sizeof(int));
  memcpy(CMSG_DATA(c), (int[]){p[1], p[1]}, 2 * sizeof(int));
  check(sendmsg(sv[0], &m, 0) == 1, "sendmsg");
  close(p[1]);
  int lowest = dup(0);
  check(lowest >= 0, "dup");
  close(lowest);
  struct rlimit old, one = {.rlim_cur = (rlim_t)lowest + 1};
  check(getrlimit(RLIMIT_NOFILE, &old) == 0, "getrlimit");
  one.rlim_max = old.rlim_max;
  check(setrlimit(RLIMIT_NOFILE, &one) == 0, "setrlimit");
  memset(cbuf, 0, sizeof cbuf);
  m.msg_controllen = sizeof cbuf;
  long r = recvmsg(sv[1], &m, 0);
  check(setrlimit(RLIMIT_NOFILE, &old) == 0, "setrlimit back");
  c = CMSG_FIRSTHDR(&m);
  int got = c ? (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int)) : 0;
  int fd = -1;
  if (got > 0) memcpy(&fd, CMSG_DATA(c), sizeof fd);
  say("SCM_RIGHTS past RLIMIT_NOFILE: recvmsg %s, MSG_CTRUNC %s, descriptors received %d", result(r),
      m.msg_flags & MSG_CTRUNC ? "yes" : "no", got);
  if (fd >= 0) close(fd);
  struct pollfd pf = {.fd = p[0], .events = POLLIN};
  check(poll(&pf, 1, 0) >= 0, "poll");
  say("SCM_RIGHTS past RLIMIT_NOFILE: the dropped copy is released (reader sees POLLHUP): %s", pf.revents & POLLHUP ? "yes" : "no");
  close(p[0]);
  close(sv[0]);
  close(sv[1]);
}

/* exec_child is the CLONE_FILES child after execve: it opens fd 100 and says so on the pipe. */
static int exec_child(const char *wfd) {
  int w = atoi(wfd);
  if (dup2(w, 100) != 100) return 2;
  if (write(100, "e", 1) != 1) return 3;
  return 0;
}

/* flood makes up to n one-byte ranges (every other byte, so none merge) and says how many
 * it got and how the next one failed; twice, the file closed in between (locks flood DIR N,
 * for spec-tests/security/locks.test.ts: the sentry bounds them, Linux only by memory). */
static int flood(const char *dir, int n) {
  check(chdir(dir) == 0, "chdir");
  for (int round = 0; round < 2; round++) {
    int fd = open("flood", O_RDWR | O_CREAT, 0644);
    check(fd >= 0, "open");
    int i = 0;
    long r = 0;
    for (; i < n; i++)
      if ((r = setlk(fd, F_SETLK, F_WRLCK, SEEK_SET, 2 * (off_t)i, 1)) != 0) break;
    say("%s: %d ranges, then %s", round == 0 ? "flood" : "after closing, again", i, i < n ? result(r) : "stopped");
    close(fd);
  }
  check(unlink("flood") == 0, "unlink");
  say("done");
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "exec-child") == 0) return exec_child(argv[2]);
  if (argc == 4 && strcmp(argv[1], "flood") == 0) return flood(argv[2], atoi(argv[3]));
  check(argc == 2, "usage: locks DIR");
  check(chdir(argv[1]) == 0, "chdir");
  check(mkdir("locks-work", 0755) == 0, "mkdir");
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  check(fd >= 0, "open");
  char buf[100];
  memset(buf, '.', sizeof buf);
  check(write(fd, buf, sizeof buf) == sizeof buf, "write");
  ranges(fd);
  waits(fd);
  deadlock(fd);
  release_on_close(fd);
  ofd();
  flocks();
  modes();
  clone_files();
  scm_rights_emfile();
  close(fd);
  check(unlink(path) == 0 && rmdir("locks-work") == 0, "cleanup");
  say("done");
  return 0;
}
