/*
 * ttystat: /proc/<pid>/stat's controlling terminal (field 7, tty_nr: the terminal's device
 * number, Linux's new_encode_dev) and its foreground process group (field 8, tpgid), as
 * a process gains and gives up a pseudo-terminal:
 *  - a new session has no controlling terminal: tty_nr 0 and tpgid -1;
 *  - a session leader that opens a slave takes it as its controlling terminal: tty_nr is
 *    the slave's st_rdev and tpgid its own group;
 *  - tcsetpgrp to another group of the session moves tpgid there, for every process of
 *    the session;
 *  - after TIOCNOTTY: tty_nr 0 and tpgid -1 again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

/* tty_of reads fields 7 and 8 of /proc/<pid>/stat. */
static int tty_of(pid_t pid, long long *tty_nr, long long *tpgid) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *s = strrchr(buf, ')');
  if (!s) return -1;
  char state;
  long long ppid, pgrp, session;
  return sscanf(s + 2, "%c %lld %lld %lld %lld %lld", &state, &ppid, &pgrp, &session, tty_nr, tpgid) == 6 ? 0 : -1;
}

static long long encode(dev_t d) {
  return (long long)((minor(d) & 0xff) | (major(d) << 8) | ((minor(d) & ~0xffu) << 12));
}

static const char *yes(int c) { return c ? "yes" : "no"; }

int main(void) {
  long long tty, tpgid;
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    printf("posix_openpt: %s\n", strerror(errno));
    return 1;
  }
  char *name = ptsname(master);
  fflush(stdout);
  pid_t leader = fork();
  if (leader == 0) {
    setsid(); /* a new session: no controlling terminal, whatever the caller had */
    if (tty_of(getpid(), &tty, &tpgid) != 0) _exit(1);
    printf("a new session has no terminal: tty_nr %lld, tpgid %lld\n", tty, tpgid);
    int slave = open(name, O_RDWR); /* a session leader without a terminal takes it */
    struct stat st;
    if (slave < 0 || fstat(slave, &st) != 0) {
      printf("open %s: %s\n", name, strerror(errno));
      fflush(stdout);
      _exit(1);
    }
    tty_of(getpid(), &tty, &tpgid);
    printf("after acquiring the slave: tty_nr is its device: %s, tpgid is our group: %s\n", yes(tty == encode(st.st_rdev)), yes(tpgid == getpgrp()));
    int go[2];
    if (pipe(go) != 0) _exit(1);
    fflush(stdout);
    pid_t member = fork();
    if (member == 0) {
      setpgid(0, 0);
      char c;
      if (read(go[0], &c, 1) != 1) _exit(1); /* the leader has made this group the foreground */
      tty_of(getpid(), &tty, &tpgid);
      printf("a member in the new foreground group sees tpgid its group: %s\n", yes(tpgid == getpgrp()));
      fflush(stdout);
      _exit(0);
    }
    setpgid(member, member);
    signal(SIGTTOU, SIG_IGN);
    if (tcsetpgrp(slave, member) != 0) printf("tcsetpgrp: %s\n", strerror(errno));
    tty_of(getpid(), &tty, &tpgid);
    printf("after tcsetpgrp: the leader sees tpgid the member's group: %s\n", yes(tpgid == member));
    fflush(stdout);
    if (write(go[1], "x", 1) != 1) _exit(1);
    int status;
    waitpid(member, &status, 0);
    signal(SIGHUP, SIG_IGN);
    signal(SIGCONT, SIG_IGN);
    if (ioctl(slave, TIOCNOTTY) != 0) printf("TIOCNOTTY: %s\n", strerror(errno));
    tty_of(getpid(), &tty, &tpgid);
    printf("after TIOCNOTTY: tty_nr %lld, tpgid %lld\n", tty, tpgid);
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(leader, &status, 0);
  printf("done\n");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
