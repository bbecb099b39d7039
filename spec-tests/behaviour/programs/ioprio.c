/*
 * ioprio: ioprio_set/ioprio_get (what ionice(1) calls): the default (class NONE), a
 * best-effort and an idle priority set and read back, the refusals (a class past IDLE, data
 * with NONE, an unknown `which`: EINVAL; a missing pid: ESRCH), inheritance by a forked
 * child whose own change leaves the parent's alone, the process group's value, and as
 * uid 65534 without capabilities: RT refused (EPERM), another user's process refused
 * (EPERM), its own changed. Levels 0..7 only (newer kernels read higher data bits as hints).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define WHO_PROCESS 1
#define WHO_PGRP 2
#define VALUE(cls, data) (((cls) << 13) | (data))

static const char *errname(int e) {
  switch (e) {
  case EINVAL: return "EINVAL";
  case EPERM: return "EPERM";
  case ESRCH: return "ESRCH";
  default: return strerror(e);
  }
}

static const char *show(long v) {
  static char buf[64];
  static const char *classes[] = {"none", "realtime", "best-effort", "idle"};
  if (v < 0) snprintf(buf, sizeof buf, "-1 %s", errname(errno));
  else snprintf(buf, sizeof buf, "%s %ld", (v >> 13) < 4 ? classes[v >> 13] : "?", v & 0x1fff);
  return buf;
}

static long set(int which, int who, int prio) { return syscall(SYS_ioprio_set, which, who, prio); }
static long get(int which, int who) { return syscall(SYS_ioprio_get, which, who); }
static const char *res(long r) { return r == 0 ? "0" : errname(errno); }

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  (void)setpgid(0, 0); /* a group of its own (a session leader already leads one: EPERM) */
  printf("default: %s\n", show(get(WHO_PROCESS, 0)));
  const char *r = res(set(WHO_PROCESS, 0, VALUE(2, 3)));
  printf("set best-effort 3: %s, get: %s\n", r, show(get(WHO_PROCESS, 0)));
  printf("get by own pid: %s\n", show(get(WHO_PROCESS, getpid())));
  r = res(set(WHO_PROCESS, 0, VALUE(3, 0)));
  printf("set idle: %s, get: %s\n", r, show(get(WHO_PROCESS, 0)));
  printf("set class 4: %s\n", res(set(WHO_PROCESS, 0, VALUE(4, 0))));
  printf("set none with data 3: %s\n", res(set(WHO_PROCESS, 0, VALUE(0, 3))));
  printf("set which 9: %s\n", res(set(9, 0, VALUE(2, 1))));
  printf("get which 9: %s\n", show(get(9, 0)));
  printf("get missing pid: %s\n", show(get(WHO_PROCESS, 999999)));
  printf("set best-effort 5: %s\n", res(set(WHO_PROCESS, 0, VALUE(2, 5))));

  int up[2], down[2]; /* child to parent, parent to child */
  if (pipe(up) != 0 || pipe(down) != 0) return 1;
  pid_t c = fork();
  if (c == 0) {
    printf("child inherits: %s\n", show(get(WHO_PROCESS, 0)));
    printf("child sets best-effort 1: %s\n", res(set(WHO_PROCESS, 0, VALUE(2, 1))));
    if (write(up[1], "x", 1) != 1) _exit(1);
    char b;
    if (read(down[0], &b, 1) != 1) _exit(1); /* stays alive until the parent has looked */
    _exit(0);
  }
  char b;
  if (read(up[0], &b, 1) != 1) return 1;
  printf("parent after the child's change: %s\n", show(get(WHO_PROCESS, 0)));
  printf("the child's, read by the parent: %s\n", show(get(WHO_PROCESS, c)));
  printf("process group of both: %s\n", show(get(WHO_PGRP, 0)));
  if (write(down[1], "x", 1) != 1) return 1;
  waitpid(c, NULL, 0);
  printf("process group after the child: %s\n", show(get(WHO_PGRP, 0)));

  pid_t parent = getpid();
  c = fork();
  if (c == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) { printf("setuid: %s\n", strerror(errno)); _exit(1); }
    printf("as uid 65534: set realtime 0: %s\n", res(set(WHO_PROCESS, 0, VALUE(1, 0))));
    printf("as uid 65534: set root's process: %s\n", res(set(WHO_PROCESS, parent, VALUE(2, 7))));
    printf("as uid 65534: get root's process: %s\n", show(get(WHO_PROCESS, parent)));
    r = res(set(WHO_PROCESS, 0, VALUE(3, 0)));
    printf("as uid 65534: set own idle: %s, get: %s\n", r, show(get(WHO_PROCESS, 0)));
    _exit(0);
  }
  waitpid(c, NULL, 0);
  printf("done\n");
  return 0;
}
