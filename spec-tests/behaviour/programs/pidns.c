/*
 * pidns: PID namespaces (CLONE_NEWPID) as pid_namespaces(7) describes them.
 *
 * unshare(CLONE_NEWPID) moves only the caller's future children: the first becomes pid 1
 * of the new namespace, whose parent is outside it (getppid 0). Inside, pids count from
 * 1; orphans are reparented to pid 1; pid 1 takes from inside only the signals it has a
 * handler for (SIGTERM and SIGKILL are ignored, a SIGUSR1 handler runs and sees the
 * sender's pid in the namespace); kill(-1) reaches every process of the namespace but
 * pid 1 and the caller; when pid 1 exits every other process of the namespace is killed
 * and a later fork into it fails with ENOMEM. clone(CLONE_NEWPID) does the same for one
 * child; clone3's set_tid chooses the pid (EEXIST when taken, EINVAL for a pid other than
 * 1 in a namespace without init, EPERM without CAP_SYS_ADMIN); setns to a pid namespace
 * file moves the caller's future children into it. /proc/<pid>/status's NSpid shows a pid
 * per level.
 *
 * Only namespace-local pids are printed (they are deterministic: a new namespace counts
 * from 1). Needs CAP_SYS_ADMIN (root natively; the test grants it in the container).
 */
#include "common.h"
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <dirent.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static long clone3_with(uint64_t flags, pid_t *set_tid, size_t n) {
  struct clone_args a;
  memset(&a, 0, sizeof(a));
  a.flags = flags;
  a.exit_signal = SIGCHLD;
  a.set_tid = (uintptr_t)set_tid;
  a.set_tid_size = n;
  return syscall(SYS_clone3, &a, sizeof(a));
}

/* status_field returns the fields of a /proc/self/status line ("NSpid") joined by ' ', the outermost dropped. */
static const char *nspid_inner(char *out, size_t len, int *levels) {
  char buf[4096];
  int fd = open("/proc/self/status", O_RDONLY);
  check(fd >= 0, "open status");
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  check(n > 0, "read status");
  buf[n] = 0;
  char *p = strstr(buf, "\nNSpid:");
  check(p != NULL, "NSpid line");
  p += 7;
  char *end = strchr(p, '\n');
  if (end) *end = 0;
  *levels = 0;
  char *last = p;
  for (char *tok = strtok(p, " \t"); tok; tok = strtok(NULL, " \t")) {
    (*levels)++;
    last = tok;
  }
  snprintf(out, len, "%s", last);
  return out;
}

static volatile sig_atomic_t usr1_from = -1;
static void on_usr1(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)ctx;
  usr1_from = si->si_pid;
}

static int wait_for(pid_t p, char *buf, size_t len) {
  int st;
  check(waitpid(p, &st, 0) == p, "waitpid");
  describe_status(st, buf, len);
  return st;
}

/* proc_mount: a proc mounted from inside shows the namespace's processes by their pids there. */
static void proc_mount(void) {
  const char *dir = "/tmp/pidns-proc";
  /* Natively and under runc, a mount namespace of its own keeps the mount private (tvisor has
   * none yet: EINVAL, and the mount is the sandbox's until unmounted below). */
  if (unshare(CLONE_NEWNS) == 0) mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  mkdir(dir, 0755);
  if (mount("proc", dir, "proc", 0, NULL) != 0) {
    say("init: mount proc: %s", errname(errno));
    return;
  }
  char link[64], names[256] = "", path[128], buf[4096];
  ssize_t n = readlink("/tmp/pidns-proc/self", link, sizeof(link) - 1);
  link[n > 0 ? n : 0] = 0;
  char tlink[64];
  n = readlink("/tmp/pidns-proc/thread-self", tlink, sizeof(tlink) - 1);
  tlink[n > 0 ? n : 0] = 0;
  DIR *d = opendir(dir);
  check(d != NULL, "opendir");
  int pids[64], np = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && np < 64) pids[np++] = atoi(e->d_name);
  closedir(d);
  for (int i = 0; i < np; i++)
    for (int j = i + 1; j < np; j++)
      if (pids[j] < pids[i]) { int x = pids[i]; pids[i] = pids[j]; pids[j] = x; }
  for (int i = 0; i < np; i++) snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%d", i ? " " : "", pids[i]);
  say("init: its own proc: self -> %s, thread-self -> %s, processes %s", link, tlink, names);
  snprintf(path, sizeof(path), "%s/%d/status", dir, pids[np - 1]);
  int fd = open(path, O_RDONLY);
  check(fd >= 0, "open status");
  n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  buf[n > 0 ? n : 0] = 0;
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
    if (!strncmp(line, "Pid:", 4) || !strncmp(line, "PPid:", 5) || !strncmp(line, "NSpid:", 6)) say("  %d/status %s", pids[np - 1], line);
  check(umount(dir) == 0, "umount");
  rmdir(dir);
}

/* other_calls: pids that other calls take or show, as the namespace numbers them. */
static void other_calls(void) {
  char buf[64];
  pid_t x = fork();
  check(x >= 0, "fork");
  if (x == 0) {
    pause();
    _exit(0);
  }
  struct rlimit rl;
  errno = 0;
  int prio = getpriority(PRIO_PROCESS, x);
  say("init: by pid %d: getpriority %s, sched_getscheduler %s, prlimit %s, pidfd_open %s, kill(0) %s", x, prio == -1 && errno ? errname(errno) : "ok",
      result(sched_getscheduler(x)), result(prlimit(x, RLIMIT_NOFILE, NULL, &rl)), result(syscall(SYS_pidfd_open, x, 0)), result(kill(x, 0)));
  proc_mount();
  kill(x, SIGKILL);
  wait_for(x, buf, sizeof(buf));

  int sv[2], on = 1;
  check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  check(setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == 0, "SO_PASSCRED");
  pid_t y = fork();
  check(y >= 0, "fork");
  if (y == 0) {
    check(send(sv[1], "x", 1, 0) == 1, "send");
    _exit(0);
  }
  /* Read once the sender is reaped: the credentials still name it, as Linux keeps its pid. */
  wait_for(y, buf, sizeof(buf));
  char data[8], control[CMSG_SPACE(sizeof(struct ucred))];
  struct iovec iov = {data, sizeof(data)};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
  check(recvmsg(sv[0], &mh, 0) == 1, "recvmsg");
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  check(cm && cm->cmsg_type == SCM_CREDENTIALS, "SCM_CREDENTIALS");
  struct ucred cr;
  memcpy(&cr, CMSG_DATA(cm), sizeof(cr));
  struct ucred peer;
  socklen_t plen = sizeof(peer);
  check(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &peer, &plen) == 0, "SO_PEERCRED");
  say("init: SCM_CREDENTIALS pid %d (the sender %d); SO_PEERCRED pid %d", cr.pid, y, peer.pid);
  close(sv[0]);
  close(sv[1]);

  int sync[2];
  check(pipe(sync) == 0, "pipe");
  int fd = open("/tmp/pidns-lock", O_RDWR | O_CREAT, 0600);
  check(fd >= 0, "open lock file");
  pid_t z = fork();
  check(z >= 0, "fork");
  if (z == 0) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    check(fcntl(fd, F_SETLK, &fl) == 0, "F_SETLK");
    check(write(sync[1], "l", 1) == 1, "write");
    pause();
    _exit(0);
  }
  check(read(sync[0], buf, 1) == 1, "read");
  struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  check(fcntl(fd, F_GETLK, &q) == 0, "F_GETLK");
  say("init: F_GETLK l_pid %d (the holder %d)", q.l_pid, z);
  kill(z, SIGKILL);
  wait_for(z, buf, sizeof(buf));
  close(fd);
  close(sync[0]);
  close(sync[1]);
  unlink("/tmp/pidns-lock");

  /* System V IPC's recorded pids: the creator, the last semop, the last msgsnd. */
  int shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600), sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600), msq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  check(shm >= 0 && sem >= 0 && msq >= 0, "ipc get");
  pid_t w = fork();
  check(w >= 0, "fork");
  if (w == 0) {
    struct sembuf op = {0, 1, 0};
    struct { long type; char c; } m = {1, 'x'};
    check(semop(sem, &op, 1) == 0 && msgsnd(msq, &m, 1, 0) == 0, "semop/msgsnd");
    _exit(0);
  }
  /* Read once the writer is reaped: the recorded pid still names it, as Linux keeps it. */
  wait_for(w, buf, sizeof(buf));
  struct shmid_ds sds;
  struct msqid_ds mds;
  check(shmctl(shm, IPC_STAT, &sds) == 0 && msgctl(msq, IPC_STAT, &mds) == 0, "ipc stat");
  say("init: shm_cpid %d, sem GETPID %d, msg_lspid %d (the writer %d)", sds.shm_cpid, semctl(sem, 0, GETPID), mds.msg_lspid, w);
  shmctl(shm, IPC_RMID, NULL);
  semctl(sem, 0, IPC_RMID);
  msgctl(msq, IPC_RMID, NULL);
}

/* init_role is what pid 1 of the new namespace checks; the pipe's write end dies with the namespace. */
static int init_role(int keepalive_w, int start_r) {
  char buf[64], f[32];
  int levels;
  /* The parent prints first. */
  check(read(start_r, buf, 1) == 1, "read start");
  close(start_r);
  say("init: getpid %d, getppid %d", getpid(), getppid());
  nspid_inner(f, sizeof(f), &levels);
  say("init: NSpid has %d levels, the innermost %s", levels, f);
  if (getpid() != 1) return 1; /* never run kill(-1) outside a new namespace */

  pid_t a = fork();
  check(a >= 0, "fork");
  if (a == 0) {
    say("child: getpid %d, getppid %d", getpid(), getppid());
    _exit(7);
  }
  siginfo_t si;
  memset(&si, 0, sizeof(si));
  check(waitid(P_PID, a, &si, WEXITED) == 0, "waitid");
  say("init: fork returned %d; waitid: si_pid %d, si_code %s, si_status %d", a, si.si_pid, si.si_code == CLD_EXITED ? "CLD_EXITED" : "?", si.si_status);

  /* An orphan: B forks C and exits; C is reparented to pid 1. */
  int sync[2];
  check(pipe(sync) == 0, "pipe");
  pid_t b = fork();
  check(b >= 0, "fork");
  if (b == 0) {
    pid_t c = fork();
    check(c >= 0, "fork");
    if (c == 0) {
      close(sync[0]);
      pid_t before = getppid();
      check(write(sync[1], "r", 1) == 1, "write");
      int ok = 0;
      for (int i = 0; i < 5000 && !ok; i++) {
        ok = getppid() == 1;
        if (!ok) usleep(1000);
      }
      say("orphan: pid %d, parent %d, then %d", getpid(), before, getppid());
      _exit(ok ? 0 : 1);
    }
    char x;
    check(read(sync[0], &x, 1) == 1, "read");
    _exit(0);
  }
  close(sync[1]);
  char bst[64];
  wait_for(b, bst, sizeof(bst));
  int st;
  pid_t reaped = wait(&st);
  say("init: B (pid %d) %s", b, bst);
  say("init: reaped the orphan: pid %d, %s", reaped, describe_status(st, buf, sizeof(buf)));
  close(sync[0]);

  /* Signals from inside to init: default actions are ignored, a handler runs. */
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  check(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
  pid_t s = fork();
  check(s >= 0, "fork");
  if (s == 0) {
    say("sender: kill(1, SIGTERM) %s, kill(1, SIGKILL) %s, kill(1, SIGUSR1) %s", result(kill(1, SIGTERM)), result(kill(1, SIGKILL)),
        result(kill(1, SIGUSR1)));
    _exit(0);
  }
  wait_for(s, buf, sizeof(buf));
  for (int i = 0; i < 5000 && usr1_from < 0; i++) usleep(1000);
  say("init: alive after SIGTERM and SIGKILL from inside; SIGUSR1 handled, si_pid %d (the sender %d)", (int)usr1_from, s);

  /* kill(-1) from init: everyone in the namespace but init. */
  pid_t d = fork();
  check(d >= 0, "fork");
  if (d == 0) {
    pause();
    _exit(0);
  }
  pid_t e = fork();
  check(e >= 0, "fork");
  if (e == 0) {
    pause();
    _exit(0);
  }
  say("init: kill(-1, SIGTERM) %s", result(kill(-1, SIGTERM)));
  wait_for(d, buf, sizeof(buf));
  say("init: D %s", buf);
  wait_for(e, buf, sizeof(buf));
  say("init: E %s", buf);

  other_calls();

  /* A process left behind when init exits: it holds the pipe open until killed. */
  pid_t g = fork();
  check(g >= 0, "fork");
  if (g == 0) {
    signal(SIGTERM, SIG_IGN);
    for (;;) pause();
  }
  close(keepalive_w);
  say("init: exits 5, leaving pid %d behind", g);
  return 5;
}

static void unshared(void) {
  char buf[64];
  struct stat own, kids;
  pid_t me = getpid();
  say("unshare(CLONE_NEWPID): %s", result(unshare(CLONE_NEWPID)));
  say("getpid unchanged: %s", getpid() == me ? "yes" : "no");
  check(stat("/proc/self/ns/pid", &own) == 0, "stat ns");
  say("pid_for_children before the namespace has an init: %s", result(stat("/proc/self/ns/pid_for_children", &kids)));
  say("unshare(CLONE_NEWPID) again before a fork: %s", result(unshare(CLONE_NEWPID)));

  int keep[2], start[2];
  check(pipe(keep) == 0 && pipe(start) == 0, "pipe");
  pid_t init = fork();
  check(init >= 0, "fork");
  if (init == 0) {
    close(keep[0]);
    close(start[1]);
    _exit(init_role(keep[1], start[0]));
  }
  close(keep[1]);
  close(start[0]);
  say("parent: the new init's pid here is not 1: %s", init != 1 ? "yes" : "no");
  check(stat("/proc/self/ns/pid_for_children", &kids) == 0, "stat pid_for_children");
  say("parent: pid_for_children now differs from pid: %s", own.st_ino != kids.st_ino ? "yes" : "no");
  check(write(start[1], "s", 1) == 1, "write start");
  close(start[1]);
  wait_for(init, buf, sizeof(buf));
  say("parent: init %s", buf);
  char x;
  ssize_t n = read(keep[0], &x, 1);
  say("parent: the process left behind died with init (EOF): %s", n == 0 ? "yes" : "no");
  close(keep[0]);
  pid_t again = fork();
  if (again == 0) _exit(0);
  say("parent: fork into the namespace after its init died: %s", result(again));
  if (again > 0) waitpid(again, NULL, 0);
}

static void cloned(void) {
  char buf[64];
  long c = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
  check(c >= 0, "clone");
  if (c == 0) {
    say("clone(CLONE_NEWPID) child: getpid %d, getppid %d", getpid(), getppid());
    _exit(0);
  }
  wait_for(c, buf, sizeof(buf));
  say("clone(CLONE_NEWPID) child %s", buf);
}

static void set_tids(void) {
  char buf[64];
  pid_t want = 7;
  say("clone3(CLONE_NEWPID, set_tid {7}): %s", result(clone3_with(CLONE_NEWPID, &want, 1)));
  want = 1;
  long c = clone3_with(CLONE_NEWPID, &want, 1);
  check(c >= 0, "clone3");
  if (c == 0) {
    pid_t five = 5;
    long k = clone3_with(0, &five, 1);
    if (k == 0) {
      pause();
      _exit(0);
    }
    say("set_tid init: getpid %d; clone3(set_tid {5}) returned %ld", getpid(), k);
    say("clone3(set_tid {5}) again: %s", result(clone3_with(0, &five, 1)));
    pid_t many[8] = {6, 6, 6, 6, 6, 6, 6, 6};
    say("clone3(set_tid of 8 levels): %s", result(clone3_with(0, many, 8)));
    pid_t zero = 0;
    say("clone3(set_tid {0}): %s", result(clone3_with(0, &zero, 1)));
    kill(k, SIGKILL);
    waitpid(k, NULL, 0);
    check(setgid(65534) == 0 && setuid(65534) == 0, "setuid");
    five = 8;
    say("clone3(set_tid {8}) unprivileged: %s", result(clone3_with(0, &five, 1)));
    _exit(0);
  }
  wait_for(c, buf, sizeof(buf));
  say("clone3(CLONE_NEWPID, set_tid {1}) child %s", buf);
}

static void joined(void) {
  char buf[64], path[64];
  int go[2];
  check(pipe(go) == 0, "pipe");
  long init = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
  check(init >= 0, "clone");
  if (init == 0) {
    close(go[1]);
    char x;
    ssize_t n = read(go[0], &x, 1);
    (void)n;
    /* Reap what joined while alive. */
    while (wait(NULL) > 0) {
    }
    _exit(0);
  }
  close(go[0]);
  snprintf(path, sizeof(path), "/proc/%ld/ns/pid", init);
  int nsfd = open(path, O_RDONLY);
  check(nsfd >= 0, "open ns");
  pid_t j = fork();
  check(j >= 0, "fork");
  if (j == 0) {
    pid_t me = getpid();
    say("setns(pid namespace file, CLONE_NEWPID): %s; getpid unchanged: %s", result(setns(nsfd, CLONE_NEWPID)), getpid() == me ? "yes" : "no");
    pid_t k = fork();
    check(k >= 0, "fork");
    if (k == 0) {
      say("its child: getpid %d, getppid %d", getpid(), getppid());
      _exit(0);
    }
    wait_for(k, buf, sizeof(buf));
    say("its child %s", buf);
    _exit(0);
  }
  wait_for(j, buf, sizeof(buf));
  close(nsfd);
  close(go[1]);
  wait_for(init, buf, sizeof(buf));
  say("joined namespace's init %s", buf);
}

/* subreaper: PR_SET_CHILD_SUBREAPER makes a process (not init: a child of this one) adopt its descendants' orphans. */
static void subreaper_role(void) {
  int v = -1;
  check(prctl(PR_GET_CHILD_SUBREAPER, &v) == 0, "prctl get");
  say("PR_GET_CHILD_SUBREAPER: %d", v);
  check(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "prctl set");
  check(prctl(PR_GET_CHILD_SUBREAPER, &v) == 0, "prctl get");
  say("after PR_SET_CHILD_SUBREAPER: %d", v);
  pid_t me = getpid();
  int sync[2];
  check(pipe(sync) == 0, "pipe");
  pid_t a = fork();
  check(a >= 0, "fork");
  if (a == 0) {
    int inherited = -1;
    prctl(PR_GET_CHILD_SUBREAPER, &inherited);
    pid_t b = fork();
    check(b >= 0, "fork");
    if (b == 0) {
      close(sync[0]);
      check(write(sync[1], "r", 1) == 1, "write");
      int ok = 0;
      for (int i = 0; i < 5000 && !ok; i++) {
        ok = getppid() == me;
        if (!ok) usleep(1000);
      }
      say("orphan adopted by the subreaper (not init): %s", ok ? "yes" : "no");
      _exit(3);
    }
    char x;
    check(read(sync[0], &x, 1) == 1, "read");
    _exit(inherited);
  }
  close(sync[1]);
  char buf[64], bbuf[64];
  wait_for(a, buf, sizeof(buf));
  int st;
  pid_t b = wait(&st);
  close(sync[0]);
  say("its child (the flag not inherited: %s); the subreaper reaped the orphan: %s, %s", buf, b > 0 ? "yes" : "no", describe_status(st, bbuf, sizeof(bbuf)));
  _exit(0);
}

static void subreaper(void) {
  char buf[64];
  pid_t s = fork();
  check(s >= 0, "fork");
  if (s == 0) subreaper_role();
  wait_for(s, buf, sizeof(buf));
  say("subreaper: %s", buf);
}

int main(void) {
  subreaper();
  cloned();
  set_tids();
  joined();
  unshared();
  say("done");
  return 0;
}
