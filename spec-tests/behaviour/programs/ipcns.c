/*
 * ipcns: the lifetime of an IPC namespace (unshare(CLONE_NEWIPC)). Its System V objects
 * and POSIX message queues live while a task is in it or a /proc/<pid>/ns/ipc file naming
 * it is open (setns through that file finds them), and are destroyed with its last user:
 * a segment still attached stays readable until detached, and a loop of namespaces that
 * each fill a segment, a message queue, a semaphore set and a POSIX queue and exit
 * without removing them runs within the container's memory limit (the test sets one
 * smaller than what the loop would leak).
 *
 * Needs CAP_SYS_ADMIN (root natively; the test grants it in the container).
 */
#include "common.h"
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#define KEY 0x1badc0de
#define QNAME "/ipcns-q"

struct msgbuf1 {
  long mtype;
  char text[8192];
};

/* fill_namespace makes one object of each kind in the caller's namespace, with content. */
static void fill_namespace(size_t shm_bytes) {
  int shm = shmget(KEY, shm_bytes, IPC_CREAT | 0600);
  check(shm >= 0, "shmget");
  char *p = shmat(shm, NULL, 0);
  check(p != (void *)-1, "shmat");
  memset(p, 'x', shm_bytes);
  strcpy(p, "kept");
  check(shmdt(p) == 0, "shmdt");
  int q = msgget(KEY, IPC_CREAT | 0600);
  check(q >= 0, "msgget");
  static struct msgbuf1 m;
  m.mtype = 1;
  memset(m.text, 'm', sizeof(m.text));
  check(msgsnd(q, &m, sizeof(m.text), 0) == 0, "msgsnd");
  check(semget(KEY, 16, IPC_CREAT | 0600) >= 0, "semget");
  // One message of 4 KiB: Linux frees a dead namespace's queues later (a work item) and
  // counts their bytes against root's RLIMIT_MSGQUEUE (800 KiB, for every root process of
  // the host) meanwhile; default-sized queues (80 KiB) ran out on a loaded machine.
  struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = 4096};
  mqd_t mq = mq_open(QNAME, O_CREAT | O_WRONLY, 0600, &attr);
  check(mq != (mqd_t)-1, "mq_open");
  check(mq_send(mq, m.text, 4096, 0) == 0, "mq_send");
  mq_close(mq);
}

/* held_by_a_file: a namespace whose last task exited while its ns file is open. */
static void held_by_a_file(void) {
  char buf[64], path[64];
  int go[2], ready[2];
  check(pipe(go) == 0 && pipe(ready) == 0, "pipe");
  pid_t child = fork();
  check(child >= 0, "fork");
  if (child == 0) {
    check(unshare(CLONE_NEWIPC) == 0, "unshare");
    fill_namespace(65536);
    check(write(ready[1], "r", 1) == 1, "write");
    check(read(go[0], buf, 1) == 1, "read");
    _exit(0);
  }
  check(read(ready[0], buf, 1) == 1, "read");
  snprintf(path, sizeof(path), "/proc/%d/ns/ipc", child);
  int nsfd = open(path, O_RDONLY);
  check(nsfd >= 0, "open ns");
  check(write(go[1], "g", 1) == 1, "write");
  int st;
  check(waitpid(child, &st, 0) == child, "waitpid");
  say("the namespace's only task exited: %s", describe_status(st, buf, sizeof(buf)));

  pid_t joiner = fork();
  check(joiner >= 0, "fork");
  if (joiner == 0) {
    say("setns through the open ns file: %s", result(setns(nsfd, CLONE_NEWIPC)));
    int shm = shmget(KEY, 0, 0);
    say("  its segment: %s", result(shm));
    if (shm >= 0) {
      char *p = shmat(shm, NULL, SHM_RDONLY);
      check(p != (void *)-1, "shmat");
      say("  holding: %s", p);
      shmdt(p);
    }
    int q = msgget(KEY, 0);
    say("  its message queue: %s", result(q));
    static struct msgbuf1 m;
    if (q >= 0) say("  message of %ld bytes", (long)msgrcv(q, &m, sizeof(m.text), 0, IPC_NOWAIT));
    say("  its semaphore set: %s", result(semget(KEY, 0, 0)));
    mqd_t mq = mq_open(QNAME, O_RDONLY | O_NONBLOCK);
    say("  its POSIX queue: %s", result(mq));
    if (mq != (mqd_t)-1) say("  message of %ld bytes", (long)mq_receive(mq, m.text, sizeof(m.text), NULL));
    _exit(0);
  }
  check(waitpid(joiner, &st, 0) == joiner, "waitpid");
  close(nsfd);
  say("this namespace never had them: shmget %s, mq_open %s", result(shmget(KEY, 0, 0)), result(mq_open(QNAME, O_RDONLY)));
}

/* attached_survives: a segment attached when its namespace goes stays until detached. */
static void attached_survives(void) {
  char buf[64];
  pid_t child = fork();
  check(child >= 0, "fork");
  if (child == 0) {
    check(unshare(CLONE_NEWIPC) == 0, "unshare");
    int shm = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
    check(shm >= 0, "shmget");
    char *p = shmat(shm, NULL, 0);
    check(p != (void *)-1, "shmat");
    strcpy(p, "attached");
    /* Leave the namespace: no task is in it any more. */
    say("unshare(CLONE_NEWIPC) again: %s", result(unshare(CLONE_NEWIPC)));
    say("  the attached segment still reads: %s", p);
    strcpy(p + 4096, "written");
    say("  and takes writes: %s", p + 4096);
    struct shmid_ds ds;
    say("  its id in the new namespace: %s", result(shmctl(shm, IPC_STAT, &ds)));
    say("  shmdt: %s", result(shmdt(p)));
    _exit(0);
  }
  int st;
  check(waitpid(child, &st, 0) == child, "waitpid");
  say("child: %s", describe_status(st, buf, sizeof(buf)));
}

/* many_namespaces: each leaves 4 MiB of shared memory and some messages behind at exit. */
static void many_namespaces(int n) {
  int ok = 0;
  char buf[64];
  const char *first_bad = NULL;
  for (int i = 0; i < n; i++) {
    pid_t child = fork();
    check(child >= 0, "fork");
    if (child == 0) {
      check(unshare(CLONE_NEWIPC) == 0, "unshare");
      fill_namespace(4 << 20);
      _exit(0);
    }
    int st;
    check(waitpid(child, &st, 0) == child, "waitpid");
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) ok++;
    else if (!first_bad) first_bad = describe_status(st, buf, sizeof(buf));
  }
  say("%d namespaces each left 4 MiB, a queue, a set and a POSIX queue: %d children exited 0%s%s", n, ok,
      first_bad ? ", first failure: " : "", first_bad ? first_bad : "");
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100;
  held_by_a_file();
  attached_survives();
  many_namespaces(n);
  say("done");
  return 0;
}
