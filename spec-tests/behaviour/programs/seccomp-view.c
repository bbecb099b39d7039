/*
 * seccomp-view.c: the seccomp state a process can read back: prctl(PR_GET_SECCOMP) and the
 * Seccomp and Seccomp_filters lines of /proc/self/status, in the process and in a forked
 * child (filters are inherited), and what getpgid (the call the test's linux.seccomp
 * profile denies with EACCES) returns, so the mode shown is tied to a filter in effect.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* statusField prints the value of /proc/self/status's line `name`, or "(no line)". */
static void statusField(const char *who, const char *name) {
  char buf[8192];
  int fd = open("/proc/self/status", O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
  if (fd >= 0) close(fd);
  if (n <= 0) {
    say("%s: status %s", who, errname(errno));
    return;
  }
  buf[n] = 0;
  size_t len = strlen(name);
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    if (strncmp(line, name, len) || line[len] != ':') continue;
    char *v = line + len + 1;
    while (*v == '\t' || *v == ' ') v++;
    say("%s: %s %s", who, name, v);
    return;
  }
  say("%s: %s (no line)", who, name);
}

static void show(const char *who) {
  int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  say("%s: PR_GET_SECCOMP %s", who, mode < 0 ? errname(errno) : (mode == 2 ? "2" : mode == 0 ? "0" : "other"));
  statusField(who, "Seccomp");
  statusField(who, "Seccomp_filters");
  say("%s: getpgid(0) %s", who, getpgid(0) < 0 ? errname(errno) : "ok");
}

int main(void) {
  show("parent");
  pid_t pid = fork();
  if (pid == 0) {
    show("child");
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  say("child exit %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  return 0;
}
