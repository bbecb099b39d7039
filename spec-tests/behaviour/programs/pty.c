/*
 * pty: a pseudo-terminal pair made inside the container, as `script`, ssh servers and
 * terminal emulators make one. posix_openpt, TIOCGPTN and ptsname, the slave locked until
 * unlockpt (EIO), the slave node's type and owner, input through the master
 * read by the slave in canonical mode with the echo (ONLCR: "\r\n") on the master, output
 * from the slave, echo turned off with termios, raw mode, the window size seen from both
 * sides, openpty(), /dev/tty of a session that took the slave as its controlling
 * terminal, and the close semantics: master reads EIO once the slave is closed,
 * the slave reads end of file and writes EIO once the master is closed, and /dev/pts/N
 * goes when both are. pty numbers are never printed (natively other ptys exist).
 */
#include "common.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

static volatile sig_atomic_t got_int;
static void on_int(int s) { (void)s; got_int = 1; }

/* drain reads what the fd has within 200 ms into buf (NUL-terminated), returning its length. */
static int drain(int fd, char *buf, int len) {
  int n = 0;
  struct pollfd p = {fd, POLLIN, 0};
  while (n < len - 1 && poll(&p, 1, 200) == 1 && (p.revents & POLLIN)) {
    ssize_t r = read(fd, buf + n, (size_t)(len - 1 - n));
    if (r <= 0) break;
    n += (int)r;
  }
  buf[n] = 0;
  return n;
}

/* show prints bytes with \r and \n spelt out. */
static const char *show(const char *s) {
  static char out[512];
  int o = 0;
  for (; *s && o < (int)sizeof(out) - 3; s++) {
    if (*s == '\r') { out[o++] = '\\'; out[o++] = 'r'; }
    else if (*s == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
    else out[o++] = *s;
  }
  out[o] = 0;
  return out;
}

int main(void) {
  char buf[256], path[64];
  int m = posix_openpt(O_RDWR | O_NOCTTY);
  say("posix_openpt: %s", result(m));
  if (m < 0) return 1;
  unsigned n = 0;
  say("TIOCGPTN: %s", result(ioctl(m, TIOCGPTN, &n)));
  snprintf(path, sizeof(path), "/dev/pts/%u", n);
  const char *name = ptsname(m);
  say("ptsname matches TIOCGPTN: %s", name && strcmp(name, path) == 0 ? "yes" : "no");
  int s = open(path, O_RDWR | O_NOCTTY);
  say("open slave while locked: %s", result(s));
  if (s >= 0) close(s);
  say("grantpt: %s", result(grantpt(m)));
  say("unlockpt: %s", result(unlockpt(m)));
  s = open(path, O_RDWR | O_NOCTTY);
  say("open slave: %s", result(s));
  if (s < 0) return 1;
  struct stat st;
  if (fstat(s, &st) != 0) fail("fstat");
  /* Mode and group follow devpts' mount options (a container's: 620, tty; hosts vary):
   * the OCI devices test compares them with runc's. */
  say("slave: char device %s, owner rw %s, owner is me %s, major %u minor is N %s", S_ISCHR(st.st_mode) ? "yes" : "no",
      (st.st_mode & 0600) == 0600 ? "yes" : "no", st.st_uid == geteuid() ? "yes" : "no", major(st.st_rdev),
      minor(st.st_rdev) == n ? "yes" : "no");
  struct stat ps;
  say("stat by path is the same inode: %s", stat(path, &ps) == 0 && ps.st_ino == st.st_ino && ps.st_dev == st.st_dev ? "yes" : "no");
  say("isatty master %d slave %d", isatty(m), isatty(s));
  char *tn = ttyname(s);
  say("ttyname(slave) is the path: %s", tn && strcmp(tn, path) == 0 ? "yes" : "no");

  struct termios t;
  if (tcgetattr(s, &t) != 0) fail("tcgetattr");
  say("slave termios: ICANON %d ECHO %d ISIG %d ICRNL %d ONLCR %d", !!(t.c_lflag & ICANON), !!(t.c_lflag & ECHO),
      !!(t.c_lflag & ISIG), !!(t.c_iflag & ICRNL), !!(t.c_oflag & ONLCR));

  if (write(m, "hello\r", 6) != 6) fail("write master");
  drain(s, buf, sizeof(buf));
  say("slave read: %s", show(buf));
  drain(m, buf, sizeof(buf));
  say("master echo: %s", show(buf));
  if (write(s, "out\n", 4) != 4) fail("write slave");
  drain(m, buf, sizeof(buf));
  say("master read: %s", show(buf));

  if (write(m, "par", 3) != 3) fail("write master");
  struct pollfd p = {s, POLLIN, 0};
  say("partial line readable: %d", poll(&p, 1, 100));
  if (write(m, "\x7f" "t\n", 3) != 3) fail("write master");
  drain(s, buf, sizeof(buf));
  say("after erase: %s", show(buf));
  drain(m, buf, sizeof(buf));

  t.c_lflag &= ~(tcflag_t)ECHO;
  say("echo off: %s", result(tcsetattr(s, TCSANOW, &t)));
  if (write(m, "secret\n", 7) != 7) fail("write master");
  drain(s, buf, sizeof(buf));
  say("slave read: %s", show(buf));
  say("master echo bytes: %d", drain(m, buf, sizeof(buf)));

  struct termios mt;
  if (tcgetattr(m, &mt) != 0) fail("tcgetattr master");
  say("master sees the slave's ECHO: %d", !!(mt.c_lflag & ECHO));

  cfmakeraw(&t);
  say("raw: %s", result(tcsetattr(s, TCSANOW, &t)));
  if (write(m, "ab\r", 3) != 3) fail("write master");
  drain(s, buf, sizeof(buf));
  say("raw read: %s", show(buf));
  if (write(s, "x\n", 2) != 2) fail("write slave");
  drain(m, buf, sizeof(buf));
  say("raw output: %s", show(buf));

  struct winsize ws = {24, 80, 0, 0}, got;
  say("TIOCSWINSZ on master: %s", result(ioctl(m, TIOCSWINSZ, &ws)));
  memset(&got, 0, sizeof(got));
  const char *gr = result(ioctl(s, TIOCGWINSZ, &got));
  say("TIOCGWINSZ on slave: %s %ux%u", gr, got.ws_row, got.ws_col);
  say("TIOCGPTN on slave: %s", result(ioctl(s, TIOCGPTN, &n)));

  close(s);
  say("master read after slave close: %s", result(read(m, buf, sizeof(buf))));
  close(m);
  say("node after both closed: %s", result(stat(path, &ps)));

  /* A new session has no controlling terminal (/dev/tty: ENXIO) until its leader takes a
   * slave with TIOCSCTTY; /dev/tty then reaches that slave, fstat showing /dev/tty's node. */
  int cm, cs;
  if (openpty(&cm, &cs, NULL, NULL, NULL) != 0) fail("openpty");
  pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    if (setsid() < 0) _exit(10);
    if (open("/dev/tty", O_RDWR) >= 0 || errno != ENXIO) _exit(11);
    if (ioctl(cs, TIOCSCTTY, 0) != 0) _exit(12);
    int fd = open("/dev/tty", O_RDWR);
    if (fd < 0) _exit(13);
    struct stat a, b;
    if (fstat(fd, &a) != 0 || stat("/dev/tty", &b) != 0 || a.st_rdev != b.st_rdev || a.st_rdev != makedev(5, 0)) _exit(14);
    if (tcgetpgrp(fd) != getpid()) _exit(15);
    if (write(fd, "via tty\n", 8) != 8) _exit(16);
    _exit(0);
  }
  int wst;
  if (waitpid(pid, &wst, 0) != pid) fail("waitpid");
  char sbuf[64];
  say("session leader with the slave as controlling terminal: %s", describe_status(wst, sbuf, sizeof(sbuf)));
  drain(cm, buf, sizeof(buf));
  say("master read: %s", show(buf));
  /* A session leader opening the slave without O_NOCTTY takes it as its terminal; with
   * O_NOCTTY it does not. */
  char cpath[64];
  if (ptsname_r(cm, cpath, sizeof(cpath)) != 0) fail("ptsname_r");
  for (int noctty = 1; noctty >= 0; noctty--) {
    pid = fork();
    if (pid < 0) fail("fork");
    if (pid == 0) {
      if (setsid() < 0) _exit(10);
      int fd = open(cpath, O_RDWR | (noctty ? O_NOCTTY : 0));
      if (fd < 0) _exit(11);
      int tty = open("/dev/tty", O_RDWR);
      _exit(tty >= 0 ? 0 : errno == ENXIO ? 20 : 21);
    }
    if (waitpid(pid, &wst, 0) != pid) fail("waitpid");
    say("open slave %s in a new session, then /dev/tty: %s", noctty ? "with O_NOCTTY" : "without O_NOCTTY",
        describe_status(wst, sbuf, sizeof(sbuf)));
  }
  /* ^C typed at the master interrupts the slave's foreground process group (ISIG). */
  pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    if (setsid() < 0 || ioctl(cs, TIOCSCTTY, 0) != 0) _exit(10);
    signal(SIGINT, on_int);
    if (write(cs, "ready\n", 6) != 6) _exit(11);
    while (!got_int) pause();
    if (write(cs, "got SIGINT\n", 11) != 11) _exit(12);
    _exit(0);
  }
  /* Blocking reads until the whole line came: the child may take its time. */
  int have = 0;
  while (have < 7) {
    ssize_t r = read(cm, buf + have, (size_t)(7 - have));
    if (r <= 0) fail("read ready");
    have += (int)r;
  }
  buf[have] = 0;
  say("child says: %s", show(buf));
  if (write(cm, "\x03", 1) != 1) fail("write ^C");
  if (waitpid(pid, &wst, 0) != pid) fail("waitpid");
  say("child after ^C: %s", describe_status(wst, sbuf, sizeof(sbuf)));
  drain(cm, buf, sizeof(buf));
  say("master read: %s", show(buf));
  close(cs);
  close(cm);

  int am, as;
  char an[64];
  say("openpty: %s", result(openpty(&am, &as, an, NULL, NULL)));
  say("openpty name is /dev/pts/N: %s", strncmp(an, "/dev/pts/", 9) == 0 ? "yes" : "no");
  close(am);
  ssize_t r = read(as, buf, sizeof(buf));
  say("slave read after master close: %zd %s", r, r < 0 ? errname(errno) : "");
  say("slave write after master close: %s", result(write(as, "x", 1)));
  close(as);
  return 0;
}
