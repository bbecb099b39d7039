/*
 * unshare.c: unshare(2) and clone(2)'s CLONE_NEW* flags. A descriptor table, file system
 * context or semaphore undo list shared with another task becomes the caller's own; a new
 * UTS namespace carries its own host name (seen by the caller and its children only), a
 * new IPC namespace hides the parent's System V objects; /proc/self/ns/{uts,ipc} name a
 * different namespace afterwards. Run as root with CAP_SYS_ADMIN (natively, and in a
 * container given the capability): the last checks drop to an unprivileged user for EPERM.
 */
#include "common.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/utsname.h>

#define SHM_KEY 0x7e551001

static char stack[256 * 1024];
static int shared_fd;

/* nslink reads /proc/self/ns/<name> into buf. */
static void nslink(const char *name, char *buf, size_t len) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/ns/%s", name);
  ssize_t n = readlink(path, buf, len - 1);
  check(n > 0, "readlink ns");
  buf[n] = 0;
}

static const char *node(void) {
  static struct utsname u;
  check(uname(&u) == 0, "uname");
  return u.nodename;
}

/* run_clone starts fn(arg) in a child made by clone(flags|SIGCHLD) and returns its exit
 * status (a negative errno when clone fails). */
static int run_clone(int (*fn)(void *), int flags, void *arg) {
  pid_t pid = clone(fn, stack + sizeof(stack), flags | SIGCHLD, arg);
  if (pid < 0) return -errno;
  int st;
  check(waitpid(pid, &st, 0) == pid, "waitpid");
  return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

/* A CLONE_FILES child closes the parent's descriptor, after unshare(CLONE_FILES) or not. */
static int close_shared(void *unshare_first) {
  if (unshare_first && unshare(CLONE_FILES) != 0) return 90;
  close(shared_fd);
  return 0;
}

static void files(void) {
  for (int u = 0; u < 2; u++) {
    shared_fd = open("/dev/null", O_RDONLY);
    check(shared_fd >= 0, "open");
    int st = run_clone(close_shared, CLONE_FILES, u ? &u : NULL);
    check(st == 0, "clone child");
    say("CLONE_FILES child %s closes a descriptor: the parent's is %s", u ? "after unshare(CLONE_FILES)" : "sharing the table",
        fcntl(shared_fd, F_GETFD) == -1 ? "closed" : "open");
    close(shared_fd);
  }
}

/* A CLONE_FS child changes directory, after unshare(CLONE_FS) or not. */
static int chdir_shared(void *unshare_first) {
  if (unshare_first && unshare(CLONE_FS) != 0) return 90;
  return chdir("/proc") == 0 ? 0 : 91;
}

static void fs_context(void) {
  for (int u = 0; u < 2; u++) {
    check(chdir("/") == 0, "chdir");
    check(run_clone(chdir_shared, CLONE_FS, u ? &u : NULL) == 0, "clone child");
    char cwd[256];
    check(getcwd(cwd, sizeof(cwd)) != NULL, "getcwd");
    say("CLONE_FS child %s changes directory: the parent's cwd is %s", u ? "after unshare(CLONE_FS)" : "sharing it", cwd);
  }
}

static void semundo(void) {
  int id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
  check(id >= 0, "semget");
  struct sembuf up = {0, 2, SEM_UNDO};
  check(semop(id, &up, 1) == 0, "semop");
  say("semaphore after +2 with SEM_UNDO: %d", semctl(id, 0, GETVAL));
  say("unshare(CLONE_SYSVSEM): %s", result(unshare(CLONE_SYSVSEM)));
  say("semaphore after it (the undo applied): %d", semctl(id, 0, GETVAL));
  check(semctl(id, 0, IPC_RMID) == 0, "IPC_RMID");
}

static int uts_child(void *arg) {
  (void)arg;
  say("clone(CLONE_NEWUTS) child starts with the parent's name: %s", strcmp(node(), "outer") == 0 ? "yes" : "no");
  check(sethostname("cloned", 6) == 0, "sethostname");
  say("clone(CLONE_NEWUTS) child set its name: %s", node());
  return 0;
}

/* uts runs in a namespace of its own already (the host's name is never touched natively). */
static void uts(void) {
  char before[128], after[128];
  check(sethostname("outer", 5) == 0, "sethostname");
  nslink("uts", before, sizeof(before));
  pid_t pid = fork();
  if (pid == 0) {
    say("unshare(CLONE_NEWUTS): %s", result(unshare(CLONE_NEWUTS)));
    nslink("uts", after, sizeof(after));
    say("/proc/self/ns/uts changed: %s", strcmp(before, after) != 0 ? "yes" : "no");
    say("sethostname(inner): %s", result(sethostname("inner", 5)));
    say("uname after it: %s", node());
    pid_t g = fork();
    if (g == 0) {
      say("its child sees: %s", node());
      _exit(0);
    }
    check(waitpid(g, NULL, 0) == g, "waitpid");
    _exit(0);
  }
  check(waitpid(pid, NULL, 0) == pid, "waitpid");
  say("the parent still sees: %s", node());
  nslink("uts", after, sizeof(after));
  say("the parent's /proc/self/ns/uts unchanged: %s", strcmp(before, after) == 0 ? "yes" : "no");
  int st = run_clone(uts_child, CLONE_NEWUTS, NULL);
  say("clone(CLONE_NEWUTS): %s", st < 0 ? errname(-st) : st == 0 ? "ok" : "child failed");
  say("the parent after it: %s", node());
}

/* join: a child in a UTS namespace of its own goes back to its parent's with setns. */
static void join(void) {
  int fd = open("/proc/self/ns/uts", O_RDONLY);
  check(fd >= 0, "open /proc/self/ns/uts");
  pid_t pid = fork();
  if (pid == 0) {
    check(unshare(CLONE_NEWUTS) == 0, "unshare");
    check(sethostname("apart", 5) == 0, "sethostname");
    say("setns(a uts file, CLONE_NEWIPC): %s", result(setns(fd, CLONE_NEWIPC)));
    int null = open("/dev/null", O_RDONLY);
    say("setns(/dev/null, 0): %s", result(setns(null, 0)));
    say("setns(the parent's uts file, CLONE_NEWUTS): %s", result(setns(fd, CLONE_NEWUTS)));
    say("uname after joining it: %s", node());
    _exit(0);
  }
  check(waitpid(pid, NULL, 0) == pid, "waitpid");
  close(fd);
}

/* ipc runs in a namespace of its own already (no object is left on the host natively). */
static void ipc(void) {
  char before[128], after[128];
  nslink("ipc", before, sizeof(before));
  int id = shmget(SHM_KEY, 4096, IPC_CREAT | IPC_EXCL | 0600);
  check(id >= 0, "shmget");
  pid_t pid = fork();
  if (pid == 0) {
    say("shmget of the key before unshare: %s", result(shmget(SHM_KEY, 0, 0)));
    say("unshare(CLONE_NEWIPC): %s", result(unshare(CLONE_NEWIPC)));
    nslink("ipc", after, sizeof(after));
    say("/proc/self/ns/ipc changed: %s", strcmp(before, after) != 0 ? "yes" : "no");
    say("shmget of the key after it: %s", result(shmget(SHM_KEY, 0, 0)));
    int own = shmget(SHM_KEY, 4096, IPC_CREAT | IPC_EXCL | 0600);
    say("creating the key in the new namespace: %s", result(own));
    _exit(0);
  }
  check(waitpid(pid, NULL, 0) == pid, "waitpid");
  say("the parent's segment is still there: %s", shmget(SHM_KEY, 0, 0) == id ? "yes" : "no");
  say("clone(CLONE_NEWIPC|CLONE_SYSVSEM): %s", errname(-run_clone(uts_child, CLONE_NEWIPC | CLONE_SYSVSEM, NULL)));
  check(shmctl(id, IPC_RMID, NULL) == 0, "IPC_RMID");
}

static int pipefd[2];
static void *blocked(void *arg) {
  (void)arg;
  char c;
  (void)read(pipefd[0], &c, 1);
  return NULL;
}

static void threads(void) {
  say("unshare(CLONE_THREAD|CLONE_SIGHAND|CLONE_VM), one thread: %s", result(unshare(CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)));
  check(pipe(pipefd) == 0, "pipe");
  pthread_t th;
  check(pthread_create(&th, NULL, blocked, NULL) == 0, "pthread_create");
  say("unshare(CLONE_THREAD), two threads: %s", result(unshare(CLONE_THREAD)));
  say("unshare(CLONE_VM), two threads: %s", result(unshare(CLONE_VM)));
  say("unshare(CLONE_FILES|CLONE_FS), two threads: %s", result(unshare(CLONE_FILES | CLONE_FS)));
  check(write(pipefd[1], "x", 1) == 1, "write");
  check(pthread_join(th, NULL) == 0, "pthread_join");
}

int main(void) {
  say("unshare(0): %s", result(unshare(0)));
  say("unshare(an unknown flag): %s", result(unshare(0x1)));
  files();
  fs_context();
  semundo();
  /* In a child: a first new namespace of each kind, then the checks in it. */
  pid_t pid = fork();
  if (pid == 0) {
    check(unshare(CLONE_NEWUTS | CLONE_NEWIPC) == 0, "unshare(CLONE_NEWUTS|CLONE_NEWIPC)");
    uts();
    join();
    ipc();
    _exit(0);
  }
  int st;
  check(waitpid(pid, &st, 0) == pid && st == 0, "namespaces child");
  threads();
  pid = fork();
  if (pid == 0) {
    int fd = open("/proc/self/ns/uts", O_RDONLY);
    check(fd >= 0, "open /proc/self/ns/uts");
    check(setgid(65534) == 0 && setuid(65534) == 0, "setuid");
    say("unprivileged setns(uts): %s", result(setns(fd, CLONE_NEWUTS)));
    say("unprivileged unshare(CLONE_NEWUTS): %s", result(unshare(CLONE_NEWUTS)));
    say("unprivileged unshare(CLONE_NEWIPC): %s", result(unshare(CLONE_NEWIPC)));
    say("unprivileged unshare(CLONE_FILES): %s", result(unshare(CLONE_FILES)));
    _exit(0);
  }
  check(waitpid(pid, NULL, 0) == pid, "waitpid");
  say("done");
  return 0;
}
