/*
 * pgrp: process groups, sessions and orphaned process groups.
 *
 * setsid (a new session and group named by the caller's pid; EPERM for a group leader),
 * getsid/getpgid of another process (ESRCH for none), setpgid's rules (EINVAL for a
 * negative group, ESRCH for a process that is not a child, EPERM for a session leader,
 * for a child in another session and for a group that does not exist in the session,
 * EACCES for a child that has exec'd; moving a child into an existing group).
 *
 * Orphaned groups: a process S leads a new session; its child P leads a new group and
 * forks C into it; C stops itself. When P (the group's only link to S, outside the group
 * in the same session) exits, the group is orphaned with a stopped member: C gets SIGHUP
 * then SIGCONT. With handlers, C reports both through a pipe; without, SIGHUP kills it.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/prctl.h>

static volatile sig_atomic_t got_hup, got_cont;
static void on_hup(int sig) { (void)sig; got_hup = 1; }
static void on_cont(int sig) { (void)sig; got_cont = 1; }

/* say_to writes one line to fd (a pipe read by the top process). */
static void say_to(int fd, const char *line) {
  if (write(fd, line, strlen(line)) < 0) _exit(4);
}

/* read_line reads one line (up to a newline or EOF) from fd into buf. */
static void read_line(int fd, char *buf, size_t len) {
  size_t n = 0;
  while (n + 1 < len) {
    ssize_t r = read(fd, buf + n, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || buf[n] == '\n') break;
    n++;
  }
  buf[n] = 0;
}

/*
 * orphan runs the scenario in a new session S: P leads a new group, C (in it) stops
 * itself, P exits once C is stopped. C (with handlers) writes what it got to `out`.
 */
static void orphan(int out, int handlers) {
  pid_t s = fork();
  check(s >= 0, "fork S");
  if (s == 0) {
    check(setsid() == getpid(), "setsid S");
    pid_t p = fork();
    check(p >= 0, "fork P");
    if (p == 0) {
      check(setpgid(0, 0) == 0, "setpgid P");
      pid_t c = fork();
      check(c >= 0, "fork C");
      if (c == 0) {
        if (handlers) {
          struct sigaction sa = {.sa_handler = on_hup};
          sigemptyset(&sa.sa_mask);
          sigaction(SIGHUP, &sa, NULL);
          sa.sa_handler = on_cont;
          sigaction(SIGCONT, &sa, NULL);
        }
        raise(SIGSTOP);
        sigset_t none;
        sigemptyset(&none);
        while (!(got_hup && got_cont)) sigsuspend(&none);
        say_to(out, "C: got SIGHUP and SIGCONT after its group was orphaned\n");
        _exit(0);
      }
      int st;
      check(waitpid(c, &st, WUNTRACED) == c && WIFSTOPPED(st), "C stopped");
      _exit(0); /* P exits: the group loses its link to S */
    }
    int st;
    check(waitpid(p, &st, 0) == p, "wait P");
    /* S waits until C is gone: C is reparented to the top process (a subreaper, or init). */
    pause();
    _exit(0);
  }
  /* The top process reaps C (its subreaper) and then ends S. */
  int st;
  pid_t w;
  char buf[128];
  for (;;) {
    w = waitpid(-1, &st, 0);
    check(w > 0, "waitpid any");
    if (w != s) break;
  }
  describe_status(st, buf, sizeof(buf));
  char line[256];
  snprintf(line, sizeof(line), "orphaned child (%s): %s\n", handlers ? "handlers" : "default actions", buf);
  say_to(out, line);
  /* End S, and reap P too if S had not reaped it yet (it comes to the subreaper then). */
  kill(s, SIGKILL);
  while (waitpid(-1, &st, 0) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "idle") == 0) {
    pause();
    return 0;
  }
  /* The top process collects orphans (natively; under a runtime it is init anyway). */
  prctl(PR_SET_CHILD_SUBREAPER, 1);

  /* setsid and getsid/getpgid of another process. */
  int sync[2];
  check(pipe(sync) == 0, "pipe");
  pid_t x = fork();
  check(x >= 0, "fork");
  if (x == 0) {
    pid_t sid = setsid();
    say("child setsid: returns its pid %s, getsid %s, getpgid %s", sid == getpid() ? "yes" : "no",
        getsid(0) == getpid() ? "yes" : "no", getpgid(0) == getpid() ? "yes" : "no");
    say("child setsid again (a group leader): %s", result(setsid()));
    say("session leader setpgid(0, 0): %s", result(setpgid(0, 0)));
    say("setpgid of the parent (not a child): %s", result(setpgid(getppid(), 0)));
    say("setpgid into a group that does not exist: %s", result(setpgid(0, 999999)));
    say_to(sync[1], "x\n");
    pause();
    _exit(0);
  }
  char buf[160];
  read_line(sync[0], buf, sizeof(buf));
  say("parent sees getsid(child) %s, getpgid(child) %s", getsid(x) == x ? "is the child's pid" : "differs",
      getpgid(x) == x ? "is the child's pid" : "differs");
  say("setpgid of a child in another session: %s", result(setpgid(x, x)));
  kill(x, SIGKILL);
  check(waitpid(x, NULL, 0) == x, "wait");
  say("getsid/getpgid of a reaped child: %s %s", result(getsid(x)), result(getpgid(x)));
  say("setpgid negative group: %s", result(setpgid(0, -1)));

  /* A child of a new group leader, moved into its sibling's group by the parent. */
  pid_t a = fork();
  check(a >= 0, "fork");
  if (a == 0) {
    pause();
    _exit(0);
  }
  pid_t b = fork();
  check(b >= 0, "fork");
  if (b == 0) {
    pause();
    _exit(0);
  }
  check(setpgid(a, a) == 0, "setpgid a");
  const char *moved = result(setpgid(b, a));
  say("move a child into its sibling's group: %s, getpgid %s", moved, getpgid(b) == a ? "is the sibling" : "differs");
  say("kill(-pgid) of that group: %s", result(kill(-a, SIGKILL)));
  check(waitpid(a, NULL, 0) == a && waitpid(b, NULL, 0) == b, "wait a b");

  /* A child that has exec'd. */
  int cl[2];
  check(pipe2(cl, O_CLOEXEC) == 0, "pipe2");
  pid_t e = fork();
  check(e >= 0, "fork");
  if (e == 0) {
    close(cl[0]);
    char *args[] = {argv[0], "idle", NULL};
    execv("/proc/self/exe", args);
    _exit(127);
  }
  close(cl[1]);
  char c;
  check(read(cl[0], &c, 1) == 0, "exec closed the pipe");
  say("setpgid of a child that has exec'd: %s", result(setpgid(e, e)));
  kill(e, SIGKILL);
  check(waitpid(e, NULL, 0) == e, "wait e");

  /* Orphaned stopped groups. */
  int out[2];
  check(pipe(out) == 0, "pipe");
  orphan(out[1], 1);
  read_line(out[0], buf, sizeof(buf));
  say("%s", buf);
  read_line(out[0], buf, sizeof(buf));
  say("%s", buf);
  orphan(out[1], 0);
  read_line(out[0], buf, sizeof(buf));
  say("%s", buf);
  say("done");
  return 0;
}
