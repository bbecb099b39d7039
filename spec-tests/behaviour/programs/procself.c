/*
 * procself: what /proc/self says of a process's namespaces, limits, OOM adjustment,
 * identity maps and personality, as Linux defines it:
 *  - /proc/self/ns/<name> reads `type:[inode]`, the same in a forked child, and stat()
 *    through the link gives that inode;
 *  - /proc/self/limits shows setrlimit's values in its fixed-width table;
 *  - oom_score_adj: range -1000..1000 (EINVAL); without CAP_SYS_RESOURCE a write below
 *    the floor (0: nothing privileged set one) is EACCES, and through the legacy oom_adj
 *    (its -17..15 scale) a write below the current value; fork inherits it;
 *  - uid_map, gid_map and setgroups in the initial user namespace;
 *  - personality in hex; auxv as exec gave it (getauxval agrees); task/<tid>/children;
 *  - fdinfo's eventfd counter, signalfd mask and epoll target lines.
 * Run without CAP_SYS_RESOURCE (runc's default set lacks it, and so may the host's).
 */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/personality.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* writeProc writes s to path in one write and says what happened. */
static const char *writeProc(const char *path, const char *s) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return strerror(errno);
  ssize_t n = write(fd, s, strlen(s));
  int err = errno;
  close(fd);
  if (n < 0) return err == EACCES ? "EACCES" : err == EINVAL ? "EINVAL" : strerror(err);
  return "ok";
}

static void line(const char *text, const char *prefix) {
  const char *p = strstr(text, prefix);
  if (!p) {
    printf("no line %s\n", prefix);
    return;
  }
  const char *e = strchr(p, '\n');
  printf("%.*s\n", (int)(e ? e - p : (long)strlen(p)), p);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *names[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "user", "uts"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    char path[64], self[64] = "", child[64] = "";
    snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
    ssize_t n = readlink(path, self, sizeof self - 1);
    if (n < 0) { printf("ns %s: readlink: %s\n", names[i], strerror(errno)); continue; }
    int p[2];
    if (pipe(p) != 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
      ssize_t m = readlink(path, child, sizeof child - 1);
      if (m > 0 && write(p[1], child, m) != m) _exit(1);
      _exit(0);
    }
    close(p[1]);
    ssize_t m = read(p[0], child, sizeof child - 1);
    close(p[0]);
    waitpid(pid, NULL, 0);
    if (m < 0) m = 0;
    child[m] = 0;
    const char *lb = strchr(self, '[');
    unsigned long long ino = lb ? strtoull(lb + 1, NULL, 10) : 0;
    struct stat st;
    int ok = stat(path, &st) == 0 && st.st_ino == ino;
    char type[32];
    snprintf(type, sizeof type, "%.*s", lb ? (int)(lb - self - 1) : 0, self);
    printf("ns %s: type %s, same in child: %s, stat gives its inode: %s\n", names[i], type, strcmp(self, child) == 0 ? "yes" : "no", ok ? "yes" : "no");
  }

  struct rlimit nofile = {64, 128}, core = {0, RLIM_INFINITY}, msgq = {4096, 8192};
  setrlimit(RLIMIT_NOFILE, &nofile);
  setrlimit(RLIMIT_CORE, &core);
  setrlimit(RLIMIT_MSGQUEUE, &msgq);
  char *limits = proc_text("/proc/self/limits");
  line(limits, "Limit ");
  line(limits, "Max open files");
  line(limits, "Max core file size");
  line(limits, "Max msgqueue size");

  printf("oom_score_adj 300: %s\n", writeProc("/proc/self/oom_score_adj", "300\n"));
  printf("oom_adj reads %s", proc_text("/proc/self/oom_adj"));
  printf("oom_score_adj 50: %s\n", writeProc("/proc/self/oom_score_adj", "50"));
  printf("oom_score_adj -1 (below the floor, 0): %s\n", writeProc("/proc/self/oom_score_adj", "-1\n"));
  printf("oom_score_adj 1001: %s\n", writeProc("/proc/self/oom_score_adj", "1001"));
  printf("oom_score_adj abc: %s\n", writeProc("/proc/self/oom_score_adj", "abc"));
  printf("oom_score_adj reads %s", proc_text("/proc/self/oom_score_adj"));
  printf("oom_adj 15: %s\n", writeProc("/proc/self/oom_adj", "15"));
  printf("oom_score_adj reads %s", proc_text("/proc/self/oom_score_adj"));
  printf("oom_adj 3 (below the current value): %s\n", writeProc("/proc/self/oom_adj", "3"));
  printf("oom_adj 16: %s\n", writeProc("/proc/self/oom_adj", "16"));
  printf("oom_score_adj 200: %s\n", writeProc("/proc/self/oom_score_adj", "200"));
  pid_t pid = fork();
  if (pid == 0) {
    printf("forked child's oom_score_adj %s", proc_text("/proc/self/oom_score_adj"));
    printf("child: oom_score_adj 10: %s\n", writeProc("/proc/self/oom_score_adj", "10"));
    _exit(0);
  }
  waitpid(pid, NULL, 0);

  printf("uid_map: %s", proc_text("/proc/self/uid_map"));
  printf("gid_map: %s", proc_text("/proc/self/gid_map"));
  printf("setgroups: %s", proc_text("/proc/self/setgroups"));
  printf("personality: %s", proc_text("/proc/self/personality"));
  personality(ADDR_NO_RANDOMIZE);
  printf("after personality(ADDR_NO_RANDOMIZE): %s", proc_text("/proc/self/personality"));
  char *statm = proc_text("/proc/self/statm");
  int fields = 0;
  for (char *t = strtok(statm, " \n"); t; t = strtok(NULL, " \n")) fields++;
  printf("statm fields: %d\n", fields);

  unsigned long at[2], phdr = 0, pagesz = 0;
  int afd = open("/proc/self/auxv", O_RDONLY);
  while (afd >= 0 && read(afd, at, sizeof at) == sizeof at && at[0] != AT_NULL) {
    if (at[0] == AT_PHDR) phdr = at[1];
    if (at[0] == AT_PAGESZ) pagesz = at[1];
  }
  if (afd >= 0) close(afd);
  printf("auxv AT_PHDR matches getauxval: %s, AT_PAGESZ %lu\n", phdr && phdr == getauxval(AT_PHDR) ? "yes" : "no", pagesz);

  int cp[2];
  if (pipe(cp) != 0) return 1;
  pid_t kid = fork();
  if (kid == 0) {
    char c;
    close(cp[1]);
    if (read(cp[0], &c, 1) < 0) _exit(1);
    _exit(0);
  }
  char path[64], want[32];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
  snprintf(want, sizeof want, "%d ", (int)kid);
  printf("task children lists the child: %s\n", strcmp(proc_text(path), want) == 0 ? "yes" : "no");
  close(cp[1]);
  waitpid(kid, NULL, 0);

  char info[64];
  int efd = eventfd(5, 0);
  uint64_t three = 3;
  if (write(efd, &three, sizeof three) != sizeof three) return 1;
  snprintf(info, sizeof info, "/proc/self/fdinfo/%d", efd);
  line(proc_text(info), "eventfd-count:");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGTERM);
  int sfd = signalfd(-1, &set, 0);
  snprintf(info, sizeof info, "/proc/self/fdinfo/%d", sfd);
  line(proc_text(info), "sigmask:");
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = 0x1234};
  epoll_ctl(ep, EPOLL_CTL_ADD, cp[0], &ev);
  snprintf(info, sizeof info, "/proc/self/fdinfo/%d", ep);
  char *tfd = strstr(proc_text(info), "tfd:");
  char *pos = tfd ? strstr(tfd, "  pos:") : NULL;
  printf("epoll: %.*s\n", pos ? (int)(pos - tfd) : 0, tfd ? tfd : "");
  printf("done\n");
  return 0;
}
