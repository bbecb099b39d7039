/*
 * sysv-sem: System V semaphores: a semaphore as a mutex between two processes, SEM_UNDO
 * applied at exit, semtimedop's timeout (EAGAIN), IPC_NOWAIT, EINTR from a signal even
 * with SA_RESTART, EIDRM for a waiter when the set is removed, GETNCNT/GETZCNT while a
 * process waits, and semctl's values, pids and errors.
 */
#include "common.h"
#include <sched.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

static int op(int id, unsigned short num, short o, short flg) {
  struct sembuf b = {num, o, flg};
  return semop(id, &b, 1);
}

/* wait_count waits until `cmd` (GETNCNT or GETZCNT) of semaphore num reads n. */
static void wait_count(int id, int num, int cmd, int n) {
  for (int i = 0; i < 100000; i++) {
    if (semctl(id, num, cmd) == n) return;
    usleep(1000);
  }
  fail("wait_count");
}

static void on_alarm(int sig) { (void)sig; }

int main(void) {
  int id = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
  check(id >= 0, "semget");
  struct semid_ds ds;
  check(semctl(id, 0, IPC_STAT, &ds) == 0, "IPC_STAT");
  say("set: nsems %lu mode %o otime %ld, values %d %d", (unsigned long)ds.sem_nsems, ds.sem_perm.mode, (long)ds.sem_otime,
      semctl(id, 0, GETVAL), semctl(id, 1, GETVAL));

  /* A mutex between two processes around a counter in shared memory. */
  int *counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  check(counter != MAP_FAILED, "mmap");
  check(semctl(id, 0, SETVAL, 1) == 0, "SETVAL");
  say("GETPID after SETVAL is me: %s", semctl(id, 0, GETPID) == getpid() ? "yes" : "no");
  pid_t c = fork();
  check(c >= 0, "fork");
  for (int i = 0; i < 300; i++) {
    if (op(id, 0, -1, 0) != 0) fail("P");
    int v = *counter;
    if (i % 7 == 0) sched_yield();
    *counter = v + 1;
    if (op(id, 0, 1, 0) != 0) fail("V");
  }
  if (c == 0) _exit(0);
  int st;
  check(waitpid(c, &st, 0) == c, "waitpid");
  say("mutex: child status %d, counter %d, value %d", WEXITSTATUS(st), *counter, semctl(id, 0, GETVAL));

  /* SEM_UNDO: what the child took is given back when it exits. */
  c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    if (op(id, 0, -1, SEM_UNDO) != 0) fail("P undo");
    if (op(id, 1, 5, SEM_UNDO) != 0) fail("V undo");
    say("child: values %d %d", semctl(id, 0, GETVAL), semctl(id, 1, GETVAL));
    _exit(0);
  }
  check(waitpid(c, &st, 0) == c, "waitpid");
  say("after the child's exit: values %d %d, last operator the child %s", semctl(id, 0, GETVAL), semctl(id, 1, GETVAL),
      semctl(id, 0, GETPID) == c ? "yes" : "no");

  /* Waiting: IPC_NOWAIT, a timeout, a signal. */
  check(semctl(id, 0, SETVAL, 0) == 0, "SETVAL 0");
  say("IPC_NOWAIT: %s", op(id, 0, -1, IPC_NOWAIT) == 0 ? "0" : errname(errno));
  struct sembuf b = {0, -1, 0};
  struct timespec ts = {0, 50 * 1000 * 1000};
  say("semtimedop 50 ms: %s", semtimedop(id, &b, 1, &ts) == 0 ? "0" : errname(errno));
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  check(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
  struct itimerval it = {{0, 0}, {0, 50 * 1000}};
  check(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
  say("semop interrupted by a SA_RESTART handler: %s", op(id, 0, -1, 0) == 0 ? "0" : errname(errno));
  check(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
  struct timespec longer = {5, 0};
  say("semtimedop interrupted: %s", semtimedop(id, &b, 1, &longer) == 0 ? "0" : errname(errno));

  /* A waiter for zero and a waiter for a decrement, seen by GETZCNT and GETNCNT. */
  check(semctl(id, 1, SETVAL, 1) == 0, "SETVAL 1");
  c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    int r = op(id, 1, 0, 0);
    say("child: wait for zero returned %s, value %d", r == 0 ? "0" : errname(errno), semctl(id, 1, GETVAL));
    _exit(0);
  }
  wait_count(id, 1, GETZCNT, 1);
  say("GETZCNT with the child waiting: %d, GETNCNT %d", semctl(id, 1, GETZCNT), semctl(id, 1, GETNCNT));
  check(semctl(id, 1, SETVAL, 0) == 0, "SETVAL");
  check(waitpid(c, &st, 0) == c, "waitpid");
  say("GETZCNT after: %d", semctl(id, 1, GETZCNT));

  /* Several operations at once: all or none. */
  struct sembuf two[2] = {{0, 2, 0}, {1, -1, IPC_NOWAIT}};
  int r1 = semop(id, two, 2);
  say("two ops, the second would wait: %s, values %d %d", r1 == 0 ? "0" : errname(errno), semctl(id, 0, GETVAL),
      semctl(id, 1, GETVAL));
  unsigned short all[2] = {3, 4};
  check(semctl(id, 0, SETALL, all) == 0, "SETALL");
  unsigned short got[2];
  check(semctl(id, 0, GETALL, got) == 0, "GETALL");
  int r2 = semop(id, two, 2);
  say("GETALL after SETALL: %d %d; two ops now: %s, values %d %d", got[0], got[1], r2 == 0 ? "0" : errname(errno),
      semctl(id, 0, GETVAL), semctl(id, 1, GETVAL));

  /* Errors. */
  say("sem_num out of range: %s", op(id, 2, 1, 0) == 0 ? "0" : errname(errno));
  say("SETVAL 40000: %s", semctl(id, 0, SETVAL, 40000) == 0 ? "0" : errname(errno));
  say("value past SEMVMX: %s", op(id, 0, 32767, 0) == 0 ? "0" : errname(errno));
  say("nsops 0: %s", semop(id, two, 0) == 0 ? "0" : errname(errno));
  /* glibc's semop calls semtimedop: semop's own syscall number, as older libcs use it. */
  struct sembuf inc = {0, 1, 0};
  long r3 = syscall(SYS_semop, id, &inc, 1);
  say("semop through its own syscall: %s, value %d", r3 == 0 ? "0" : errname(errno), semctl(id, 0, GETVAL));
  say("semget of 0 semaphores: %s", semget(IPC_PRIVATE, 0, 0600) >= 0 ? "0" : errname(errno));
  say("GETVAL of semaphore 5: %s", semctl(id, 5, GETVAL) >= 0 ? "0" : errname(errno));

  /* Removal wakes a waiter with EIDRM. */
  check(semctl(id, 0, SETVAL, 0) == 0, "SETVAL");
  c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    int r = op(id, 0, -1, 0);
    say("child: semop when the set is removed: %s", r == 0 ? "0" : errname(errno));
    _exit(0);
  }
  wait_count(id, 0, GETNCNT, 1);
  say("GETNCNT with the child waiting: %d", semctl(id, 0, GETNCNT));
  check(semctl(id, 0, IPC_RMID) == 0, "IPC_RMID");
  check(waitpid(c, &st, 0) == c, "waitpid");
  say("after IPC_RMID: GETVAL %s", semctl(id, 0, GETVAL) >= 0 ? "0" : errname(errno));

  struct seminfo info;
  check(semctl(0, 0, IPC_INFO, &info) >= 0, "IPC_INFO");
  say("IPC_INFO: semmsl %d semmns %d semopm %d semmni %d semvmx %d", info.semmsl, info.semmns, info.semopm, info.semmni, info.semvmx);
  say("done");
  return 0;
}
