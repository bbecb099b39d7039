/*
 * systrap-corrupt: a child process writes garbage all over the address range where the
 * systrap platform keeps its threads' shared blocks (0x7fffff100000, above the
 * application's addresses), from one thread, while its other thread makes syscalls;
 * meanwhile the parent keeps making syscalls. Natively (and under any platform that maps
 * nothing there) the first store faults; under systrap the stores land in the child's
 * own blocks. Either way the child must die by a signal and nothing else may notice:
 * the parent's syscalls go on answering, and a new process runs after.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define BLOCKS 0x7fffff100000UL
#define SPAN (4 * 0x8000UL)

static void *corrupt(void *arg) {
  (void)arg;
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (;;) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    volatile uint64_t *p = (volatile uint64_t *)(BLOCKS + ((x >> 8) % (SPAN / 8)) * 8);
    *p = x;
  }
  return NULL;
}

static int syscalls_answer(void) {
  for (int i = 0; i < 200; i++) {
    if (getpid() <= 0) return 0;
    int fds[2];
    if (pipe(fds) < 0) return 0;
    char c = 'x';
    if (write(fds[1], &c, 1) != 1 || read(fds[0], &c, 1) != 1 || c != 'x') return 0;
    close(fds[0]);
    close(fds[1]);
  }
  return 1;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  pid_t child = fork();
  if (child == 0) {
    pthread_t t;
    pthread_create(&t, NULL, corrupt, NULL);
    for (;;) getppid();
  }
  printf("parent's syscalls answer while the child corrupts: %s\n", syscalls_answer() ? "yes" : "no");
  int status;
  waitpid(child, &status, 0);
  printf("child ended by a signal: %s\n", WIFSIGNALED(status) ? "yes" : "no");
  printf("parent's syscalls answer after: %s\n", syscalls_answer() ? "yes" : "no");
  pid_t again = fork();
  if (again == 0) _exit(syscalls_answer() ? 7 : 1);
  waitpid(again, &status, 0);
  printf("a new process runs: %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 7 ? "yes" : "no");
  return 0;
}
