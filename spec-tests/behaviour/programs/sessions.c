/*
 * sessions.c: a session's controlling terminal (a pseudo-terminal made here) and job
 * control. A session leader takes the slave with TIOCSCTTY; when it exits, its
 * foreground group gets SIGHUP and the terminal is no session's (TIOCGSID: ENOTTY, /dev/tty
 * ENXIO) while it still reads and writes; a leader's TIOCNOTTY sends SIGHUP and SIGCONT
 * to the foreground group. A background group reading gets SIGTTIN (EIO when SIGTTIN is
 * ignored or blocked), writing with TOSTOP gets SIGTTOU; the terminal's ioctls refuse a
 * process of another session (ENOTTY) and a group of another session (EPERM).
 */
#include "common.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>

static volatile sig_atomic_t got_hup, got_cont;
static void on_hup(int s) { (void)s; got_hup = 1; }
static void on_cont(int s) { (void)s; got_cont = 1; }

/* catch_hup_cont installs handlers for SIGHUP and SIGCONT, both blocked until wait_for. */
static void catch_hup_cont(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_hup;
  check(sigaction(SIGHUP, &sa, NULL) == 0, "sigaction");
  sa.sa_handler = on_cont;
  check(sigaction(SIGCONT, &sa, NULL) == 0, "sigaction");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGCONT);
  check(sigprocmask(SIG_BLOCK, &set, NULL) == 0, "sigprocmask");
}

/* wait_for sleeps until SIGHUP (and SIGCONT when cont) has come. */
static void wait_for(int cont) {
  sigset_t none;
  sigemptyset(&none);
  while (!got_hup || (cont && !got_cont)) sigsuspend(&none);
}

/* new_pty opens a master and names its slave. */
static int new_pty(char *name, size_t len) {
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  check(m >= 0, "posix_openpt");
  check(grantpt(m) == 0 && unlockpt(m) == 0, "unlockpt");
  check(ptsname_r(m, name, len) == 0, "ptsname_r");
  return m;
}

/* take_terminal makes the caller a session leader controlling the slave; returns the slave. */
static int take_terminal(const char *name) {
  check(setsid() > 0, "setsid");
  int s = open(name, O_RDWR | O_NOCTTY);
  check(s >= 0, "open slave");
  check(ioctl(s, TIOCSCTTY, 0) == 0, "TIOCSCTTY");
  return s;
}

static void leader_exits(void) {
  char name[64];
  int m = new_pty(name, sizeof(name));
  int ready[2], done[2];
  check(pipe(ready) == 0 && pipe(done) == 0, "pipe");
  pid_t l = fork();
  check(l >= 0, "fork");
  if (l == 0) {
    int s = take_terminal(name);
    catch_hup_cont();
    pid_t f = fork();
    check(f >= 0, "fork");
    if (f == 0) {
      check(write(ready[1], "r", 1) == 1, "write");
      wait_for(0);
      say("foreground child: got SIGHUP when the session leader exited");
      pid_t sid;
      say("its TIOCGSID on the slave then: %s", result(ioctl(s, TIOCGSID, &sid)));
      say("its open of /dev/tty then: %s", result(open("/dev/tty", O_RDWR)));
      check(write(done[1], "d", 1) == 1, "write");
      char buf[16] = {0};
      ssize_t n = read(s, buf, sizeof(buf) - 1);
      if (n > 0 && buf[n - 1] == '\n') buf[n - 1] = 0;
      say("it reads the slave afterwards: %s %s", n < 0 ? errname(errno) : "ok", n > 0 ? buf : "");
      check(write(done[1], "d", 1) == 1, "write");
      _exit(0);
    }
    char c;
    check(read(ready[0], &c, 1) == 1, "read");
    _exit(0);
  }
  int st;
  check(waitpid(l, &st, 0) == l && st == 0, "waitpid leader");
  char c;
  check(read(done[0], &c, 1) == 1, "read");
  check(write(m, "hi\n", 3) == 3, "write master");
  check(read(done[0], &c, 1) == 1, "read");
  close(m);
}

static void leader_notty(void) {
  char name[64];
  int m = new_pty(name, sizeof(name));
  int ready[2];
  check(pipe(ready) == 0, "pipe");
  pid_t l = fork();
  check(l >= 0, "fork");
  if (l == 0) {
    int s = take_terminal(name);
    catch_hup_cont();
    pid_t f = fork();
    check(f >= 0, "fork");
    if (f == 0) {
      check(write(ready[1], "r", 1) == 1, "write");
      wait_for(1);
      say("foreground child: got SIGHUP and SIGCONT after the leader's TIOCNOTTY");
      _exit(0);
    }
    char c;
    check(read(ready[0], &c, 1) == 1, "read");
    const char *r = result(ioctl(s, TIOCNOTTY));
    wait_for(1);
    int st;
    check(waitpid(f, &st, 0) == f && st == 0, "waitpid child");
    say("leader's TIOCNOTTY: %s; the leader (in the foreground group) got SIGHUP and SIGCONT too", r);
    pid_t sid;
    say("TIOCGSID after it: %s", result(ioctl(s, TIOCGSID, &sid)));
    say("TIOCSCTTY again: %s", result(ioctl(s, TIOCSCTTY, 0)));
    _exit(0);
  }
  int st;
  check(waitpid(l, &st, 0) == l && st == 0, "waitpid leader");
  close(m);
}

/* member_notty: a process of the session that does not lead it gives the terminal up for
 * itself (and its children to come) only. */
static void member_notty(void) {
  char name[64];
  int m = new_pty(name, sizeof(name));
  pid_t l = fork();
  check(l >= 0, "fork");
  if (l == 0) {
    int s = take_terminal(name);
    pid_t c = fork();
    check(c >= 0, "fork");
    if (c == 0) {
      pid_t v;
      say("a member's TIOCSCTTY: %s", result(ioctl(s, TIOCSCTTY, 0)));
      const char *r = result(ioctl(s, TIOCNOTTY));
      const char *g = result(ioctl(s, TIOCGPGRP, &v));
      const char *o = result(open("/dev/tty", O_RDWR));
      const char *again = result(ioctl(s, TIOCNOTTY));
      pid_t cc = fork();
      check(cc >= 0, "fork");
      if (cc == 0) _exit(open("/dev/tty", O_RDWR) < 0 && errno == ENXIO ? 0 : 1);
      int st;
      check(waitpid(cc, &st, 0) == cc, "waitpid");
      say("a member's TIOCNOTTY: %s; then its TIOCGPGRP %s, /dev/tty %s, TIOCNOTTY again %s, its child's /dev/tty %s", r, g, o,
          again, WEXITSTATUS(st) == 0 ? "ENXIO" : "opens");
      _exit(0);
    }
    int st;
    check(waitpid(c, &st, 0) == c && st == 0, "waitpid member");
    pid_t sid = 0;
    const char *r = result(ioctl(s, TIOCGSID, &sid));
    say("the leader's TIOCGSID after it: %s, its own session: %s", r, sid == getsid(0) ? "yes" : "no");
    _exit(0);
  }
  int st;
  check(waitpid(l, &st, 0) == l && st == 0, "waitpid leader");
  close(m);
}

/* background runs act in a child that moves to a group of its own, and reports how it ended. */
static void background(const char *what, int s, int sig, int disposition, int (*act)(int)) {
  pid_t b = fork();
  check(b >= 0, "fork");
  if (b == 0) {
    check(setpgid(0, 0) == 0, "setpgid");
    if (disposition == 1) signal(sig, SIG_IGN);
    if (disposition == 2) {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, sig);
      sigprocmask(SIG_BLOCK, &set, NULL);
    }
    int r = act(s);
    say("%s: %s", what, r < 0 ? errname(errno) : "ok");
    _exit(0);
  }
  int st;
  check(waitpid(b, &st, WUNTRACED) == b, "waitpid");
  if (WIFSTOPPED(st)) {
    say("%s: stopped by SIG%s", what, sigabbrev_np(WSTOPSIG(st)));
    kill(b, SIGKILL);
    check(waitpid(b, &st, 0) == b, "waitpid");
  }
}

/* orphaned: a background group whose only member's parent has exited (its new parent is
 * in another session) is orphaned: reading, and writing with TOSTOP, are EIO. */
static void orphaned(int s) {
  int done[2];
  check(pipe(done) == 0, "pipe");
  pid_t x = fork();
  check(x >= 0, "fork");
  if (x == 0) {
    pid_t self = getpid();
    pid_t b = fork();
    check(b >= 0, "fork");
    if (b == 0) {
      check(setpgid(0, 0) == 0, "setpgid");
      while (getppid() == self) usleep(1000);
      char c;
      const char *r = result(read(s, &c, 1));
      say("orphaned background group: read %s, write with TOSTOP %s", r, result(write(s, "x", 1)));
      check(write(done[1], "d", 1) == 1, "write");
      _exit(0);
    }
    _exit(0);
  }
  int st;
  check(waitpid(x, &st, 0) == x, "waitpid");
  char c;
  check(read(done[0], &c, 1) == 1, "read");
  close(done[0]);
  close(done[1]);
}

static int do_read(int s) {
  char c;
  return (int)read(s, &c, 1);
}

static int do_write(int s) { return (int)write(s, "x", 1); }

static void job_control(void) {
  char name[64];
  int m = new_pty(name, sizeof(name));
  pid_t l = fork();
  check(l >= 0, "fork");
  if (l == 0) {
    int s = take_terminal(name);
    pid_t fg;
    check(ioctl(s, TIOCGPGRP, &fg) == 0, "TIOCGPGRP");
    say("the foreground group is the leader's: %s", fg == getpgrp() ? "yes" : "no");
    background("background read", s, SIGTTIN, 0, do_read);
    background("background read, SIGTTIN ignored", s, SIGTTIN, 1, do_read);
    background("background read, SIGTTIN blocked", s, SIGTTIN, 2, do_read);
    background("background write without TOSTOP", s, SIGTTOU, 0, do_write);
    struct termios tio;
    check(tcgetattr(s, &tio) == 0, "tcgetattr");
    tio.c_lflag |= TOSTOP;
    check(tcsetattr(s, TCSANOW, &tio) == 0, "tcsetattr");
    background("background write with TOSTOP", s, SIGTTOU, 0, do_write);
    background("background write with TOSTOP, SIGTTOU ignored", s, SIGTTOU, 1, do_write);
    orphaned(s);
    pid_t other = getppid();
    say("TIOCSPGRP to a group of another session: %s", result(ioctl(s, TIOCSPGRP, &other)));
    _exit(0);
  }
  int st;
  check(waitpid(l, &st, 0) == l && st == 0, "waitpid leader");
  close(m);
}

static void not_ours(void) {
  char name[64];
  int m = new_pty(name, sizeof(name));
  int ready[2], done[2];
  check(pipe(ready) == 0 && pipe(done) == 0, "pipe");
  pid_t l = fork();
  check(l >= 0, "fork");
  if (l == 0) {
    take_terminal(name);
    check(write(ready[1], "r", 1) == 1, "write");
    char c;
    check(read(done[0], &c, 1) == 1, "read");
    _exit(0);
  }
  char c;
  check(read(ready[0], &c, 1) == 1, "read");
  int s = open(name, O_RDWR | O_NOCTTY);
  check(s >= 0, "open slave");
  pid_t v;
  say("another session's terminal: TIOCGPGRP %s, TIOCGSID %s, TIOCSCTTY %s", result(ioctl(s, TIOCGPGRP, &v)),
      result(ioctl(s, TIOCGSID, &v)), result(ioctl(s, TIOCSCTTY, 0)));
  check(write(done[1], "d", 1) == 1, "write");
  int st;
  check(waitpid(l, &st, 0) == l && st == 0, "waitpid leader");
  close(s);
  close(m);
}

int main(void) {
  leader_exits();
  leader_notty();
  member_notty();
  job_control();
  not_ours();
  say("done");
  return 0;
}
