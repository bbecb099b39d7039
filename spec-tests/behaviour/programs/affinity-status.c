/*
 * affinity-status: /proc/<pid>/status's Cpus_allowed, Cpus_allowed_list, Mems_allowed and
 * Mems_allowed_list follow the task's CPU affinity: as the process starts, after
 * sched_setaffinity to CPU 0, in a child forked then (inherited), for the child as its
 * parent widens it to every CPU (what the cpuset allows), and for the parent, unchanged,
 * then widened too. The lines are printed in the order status has them, with the name of
 * the line after them.
 *   affinity-status
 * Prints deterministic lines only (the same CPUs natively and in a container here).
 */
#include "common.h"
#include <fcntl.h>
#include <sched.h>

/* show prints the affinity lines of /proc/<who>/status, prefixed with `when`. */
static void show(const char *when, const char *who) {
  char path[64], buf[16384];
  snprintf(path, sizeof path, "/proc/%s/status", who);
  int fd = open(path, O_RDONLY);
  check(fd >= 0, "open status");
  ssize_t n = read(fd, buf, sizeof buf - 1);
  check(n > 0, "read status");
  buf[n] = 0;
  close(fd);
  int found = 0;
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    if (found == 4) {
      // The line after them: they are where Linux puts them, before the context switches.
      say("%s: then %.*s", when, (int)strcspn(line, ":"), line);
      found++;
    }
    if (strncmp(line, "Cpus_allowed", 12) == 0 || strncmp(line, "Mems_allowed", 12) == 0) {
      say("%s: %s", when, line);
      found++;
    }
  }
  check(found == 5, "four affinity lines and one after");
}

/* setTo sets pid's affinity to CPU 0 (one) or every CPU the kernel allows (all). */
static void setTo(pid_t pid, int all) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (all)
    for (int c = 0; c < CPU_SETSIZE; c++) CPU_SET(c, &set);
  else
    CPU_SET(0, &set);
  check(sched_setaffinity(pid, sizeof set, &set) == 0, "sched_setaffinity");
}

int main(void) {
  show("start", "self");
  setTo(0, 0);
  show("CPU 0", "self");
  int ready[2], done[2];
  check(pipe(ready) == 0 && pipe(done) == 0, "pipe");
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    show("child (inherited)", "self");
    char c = 0;
    check(write(ready[1], &c, 1) == 1, "write");
    check(read(done[0], &c, 1) == 1, "read");
    show("child after", "self");
    _exit(0);
  }
  char c;
  check(read(ready[0], &c, 1) == 1, "read");
  setTo(pid, 1);
  char who[32];
  snprintf(who, sizeof who, "%d", pid);
  show("child widened to every CPU by its parent", who);
  check(write(done[1], &c, 1) == 1, "write");
  int status;
  check(waitpid(pid, &status, 0) == pid, "waitpid");
  show("parent", "self");
  setTo(0, 1);
  show("all", "self");
  return 0;
}
