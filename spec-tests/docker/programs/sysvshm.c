/*
 * sysvshm: a System V shared memory segment seen from two containers (Docker's
 * `--ipc container:X`, spec-tests/docker/top-share.test.ts). Static, no arguments but:
 *
 *   sysvshm put KEY TEXT   creates the segment KEY (4 KiB, 0600), writes TEXT into it,
 *                          detaches and leaves it (no IPC_RMID); prints "put"
 *   sysvshm get KEY        attaches the existing segment KEY and prints the text in it
 *
 * Exit 1 with the failing call on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int main(int argc, char **argv) {
  if (argc < 3 || (strcmp(argv[1], "put") == 0 && argc < 4)) {
    fprintf(stderr, "usage: sysvshm put KEY TEXT | get KEY\n");
    return 2;
  }
  key_t key = (key_t)strtol(argv[2], NULL, 0);
  int put = strcmp(argv[1], "put") == 0;
  int id = shmget(key, put ? 4096 : 0, put ? IPC_CREAT | 0600 : 0);
  if (id < 0) {
    perror("shmget");
    return 1;
  }
  char *p = shmat(id, NULL, 0);
  if (p == (char *)-1) {
    perror("shmat");
    return 1;
  }
  if (put) {
    snprintf(p, 4096, "%s", argv[3]);
    printf("put\n");
  } else {
    printf("%.4095s\n", p);
  }
  return shmdt(p) == 0 ? 0 : 1;
}
