/*
 * forkcount: how many children (and threads) a process can make under a pids limit.
 * Children wait on a pipe until the count is done, so each one holds its pid. Prints the
 * number of successful forks, the errno of the first failure, then the same for threads
 * (clone with CLONE_THREAD through pthread-free raw clone) after the children are gone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX 64

static int hold[2];

static int thread_fn(void *arg) {
  (void)arg;
  char c;
  while (read(hold[0], &c, 1) < 0 && errno == EINTR) {
  }
  return 0;
}

int main(void) {
  if (pipe(hold) != 0) return 1;
  int forks = 0, ferr = 0;
  for (int i = 0; i < MAX; i++) {
    pid_t p = fork();
    if (p == 0) {
      char c;
      close(hold[1]);
      while (read(hold[0], &c, 1) < 0 && errno == EINTR) {
      }
      _exit(0);
    }
    if (p < 0) {
      ferr = errno;
      break;
    }
    forks++;
  }
  printf("forks %d first failure %s\n", forks, ferr ? strerrorname_np(ferr) : "none");
  close(hold[1]);
  while (wait(NULL) > 0) {
  }
  if (pipe(hold) != 0) return 1;
  int threads = 0, terr = 0;
  static char stacks[MAX][16384];
  for (int i = 0; i < MAX; i++) {
    int r = clone(thread_fn, stacks[i] + sizeof stacks[i], CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, NULL);
    if (r < 0) {
      terr = errno;
      break;
    }
    threads++;
  }
  printf("threads %d first failure %s\n", threads, terr ? strerrorname_np(terr) : "none");
  fflush(stdout);
  close(hold[1]);
  return 0;
}
