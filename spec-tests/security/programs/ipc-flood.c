/*
 * ipc-flood: what an application can make the sentry hold through System V IPC, and
 * whether another sandbox (or the host) can be reached through it.
 *
 *   ipc-flood probe KEY   shmget/semget/msgget of KEY without IPC_CREAT (the host made
 *                         objects with it: inside a sandbox they must not exist)
 *   ipc-flood flood       fills message queues and makes semaphore sets until the system
 *                         refuses (ENOMEM, ENOSPC), frees everything, then checks that a
 *                         queue works again; prints how each flood ended, never counts
 *   ipc-flood make KEY / remove KEY   the host side of probe
 */
#include "../../behaviour/programs/common.h"
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

static int ids[40000];

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "make") == 0) {
    key_t key = (key_t)strtol(argv[2], NULL, 0);
    check(shmget(key, 4096, IPC_CREAT | 0666) >= 0 && semget(key, 1, IPC_CREAT | 0666) >= 0 && msgget(key, IPC_CREAT | 0666) >= 0, "make");
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "remove") == 0) {
    key_t key = (key_t)strtol(argv[2], NULL, 0);
    shmctl(shmget(key, 0, 0), IPC_RMID, NULL);
    semctl(semget(key, 0, 0), 0, IPC_RMID);
    msgctl(msgget(key, 0), IPC_RMID, NULL);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "probe") == 0) {
    key_t key = (key_t)strtol(argv[2], NULL, 0);
    say("host's segment: %s", shmget(key, 0, 0) >= 0 ? "visible" : errname(errno));
    say("host's semaphore set: %s", semget(key, 0, 0) >= 0 ? "visible" : errname(errno));
    say("host's message queue: %s", msgget(key, 0) >= 0 ? "visible" : errname(errno));
    return 0;
  }
  check(argc == 2 && strcmp(argv[1], "flood") == 0, "usage");

  /* Queues filled to their 16 KiB, until msgget or msgsnd fails. */
  struct { long type; char text[8192]; } m;
  m.type = 1;
  memset(m.text, 'q', sizeof(m.text));
  int n = 0, err = 0;
  while (n < 40000) {
    int id = msgget(IPC_PRIVATE, 0600);
    if (id < 0) { err = errno; break; }
    ids[n++] = id;
    if (msgsnd(id, &m, sizeof(m.text), IPC_NOWAIT) != 0 || msgsnd(id, &m, sizeof(m.text), IPC_NOWAIT) != 0) { err = errno; break; }
  }
  say("message flood ended by %s", errname(err));
  for (int i = 0; i < n; i++) check(msgctl(ids[i], IPC_RMID, NULL) == 0, "msgctl IPC_RMID");

  /* Sets of 32000 semaphores, until semget fails. */
  n = 0;
  err = 0;
  while (n < 40000) {
    int id = semget(IPC_PRIVATE, 32000, 0600);
    if (id < 0) { err = errno; break; }
    ids[n++] = id;
  }
  say("semaphore flood ended by %s", errname(err));
  for (int i = 0; i < n; i++) check(semctl(ids[i], 0, IPC_RMID) == 0, "semctl IPC_RMID");

  int id = msgget(IPC_PRIVATE, 0600);
  check(id >= 0, "msgget after");
  check(msgsnd(id, &m, sizeof(m.text), 0) == 0, "msgsnd after");
  say("a queue after freeing everything: %s", msgrcv(id, &m, sizeof(m.text), 0, 0) == (ssize_t)sizeof(m.text) ? "works" : errname(errno));
  return 0;
}
