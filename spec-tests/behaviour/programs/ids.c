/*
 * ids: setreuid, setregid, getresuid, getresgid made raw: which real/effective/saved ids
 * each call leaves, the saved id following the effective one, what a process without
 * CAP_SETUID/CAP_SETGID may still do and what it is refused (EPERM); and setdomainname
 * refused to an unprivileged caller. Runs in forked children; the container's root gets
 * CAP_SETUID and CAP_SETGID (the test grants them) as root has them natively.
 */
#include "common.h"
#include <grp.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

static void show(const char *what, long r) {
  unsigned ru, eu, su, rg, eg, sg;
  check(syscall(SYS_getresuid, &ru, &eu, &su) == 0, "getresuid");
  check(syscall(SYS_getresgid, &rg, &eg, &sg) == 0, "getresgid");
  say("%s: %s; uids %u %u %u, gids %u %u %u", what, r == -1 ? errname(errno) : "ok", ru, eu, su, rg, eg, sg);
}

static void transitions(void) {
  check(setgroups(0, NULL) == 0, "setgroups");
  show("start", 0);
  show("setregid(-1, 1000)", syscall(SYS_setregid, -1, 1000));
  show("setregid(-1, 0)", syscall(SYS_setregid, -1, 0));
  show("setregid(2000, 3000)", syscall(SYS_setregid, 2000, 3000));
  show("setregid(-1, -1)", syscall(SYS_setregid, -1, -1));
  show("setreuid(-1, 1000)", syscall(SYS_setreuid, -1, 1000));
  show("setreuid(-1, 0)", syscall(SYS_setreuid, -1, 0));
  show("setreuid(1000, 2000)", syscall(SYS_setreuid, 1000, 2000));
  show("setreuid(-1, 0) without CAP_SETUID", syscall(SYS_setreuid, -1, 0));
  show("setreuid(0, -1) without CAP_SETUID", syscall(SYS_setreuid, 0, -1));
  show("setreuid(2000, -1): real to the effective id", syscall(SYS_setreuid, 2000, -1));
  show("setreuid(-1, 1000) after the saved id moved", syscall(SYS_setreuid, -1, 1000));
  show("setregid(0, -1) without CAP_SETGID", syscall(SYS_setregid, 0, -1));
  show("setregid(-1, 2000): the real gid", syscall(SYS_setregid, -1, 2000));
  show("setregid(3000, -1): the saved gid cannot become the real one", syscall(SYS_setregid, 3000, -1));
  show("setregid(2000, 2000) after the saved gid moved", syscall(SYS_setregid, 2000, 2000));
}

static void swap_back(void) {
  // A set-user-ID program's idiom: swap real and effective, then swap back.
  check(setgroups(0, NULL) == 0 && syscall(SYS_setresuid, 1000, 0, 0) == 0, "setresuid");
  show("real 1000, effective 0", 0);
  show("setreuid(0, 1000): swap", syscall(SYS_setreuid, 0, 1000));
  show("setreuid(1000, 0): swap back", syscall(SYS_setreuid, 1000, 0));
  show("setreuid(-1, 1000) then", syscall(SYS_setreuid, -1, 1000));
}

static void unprivileged(void) {
  struct utsname before, after;
  check(uname(&before) == 0, "uname");
  check(setgroups(0, NULL) == 0 && setgid(65534) == 0 && setuid(65534) == 0, "drop to 65534");
  say("nobody: setdomainname: %s", result(syscall(SYS_setdomainname, "sandbox", 7)));
  say("nobody: setdomainname of 65 bytes: %s", result(syscall(SYS_setdomainname, "0123456789012345678901234567890123456789012345678901234567890123456789", 65)));
  check(uname(&after) == 0, "uname");
  say("domainname unchanged: %s", strcmp(before.domainname, after.domainname) == 0 ? "yes" : "no");
}

static void in_child(void (*fn)(void)) {
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    fn();
    _exit(0);
  }
  int st;
  check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child");
}

int main(void) {
  unsigned a, b, c;
  say("getresuid: %s", result(syscall(SYS_getresuid, &a, &b, &c)));
  say("getresuid with a bad pointer: %s", result(syscall(SYS_getresuid, &a, (unsigned *)8, &c)));
  say("getresgid with a bad pointer: %s", result(syscall(SYS_getresgid, (unsigned *)8, &b, &c)));
  in_child(transitions);
  in_child(swap_back);
  in_child(unprivileged);
  say("done");
  return 0;
}
