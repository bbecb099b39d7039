/*
 * fork-lazy: what a fork gives the child of its parent's shared memory. Linux's fork copies
 * no page-table entries of a VMA without private pages (mm/memory.c, vma_needs_copy): a
 * child of a process with 8 MiB of MAP_SHARED anonymous memory touched starts with almost
 * none of it resident (RssShmem in /proc/self/status), maps it as it touches it, and sees
 * the parent's bytes; its writes reach the parent. Only comparisons are printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (8L << 20)
#define PAGE 4096L

/* rss_shmem_kb reads RssShmem (kB) from /proc/self/status, -1 if it is missing. */
static long rss_shmem_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "RssShmem:", 9) == 0) kb = atol(line + 9);
  }
  fclose(f);
  return kb;
}

int main(void) {
  unsigned char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  for (long o = 0; o < SIZE; o += PAGE) m[o] = (unsigned char)(o / PAGE);
  long parent = rss_shmem_kb();
  printf("parent: RssShmem at least 8 MiB: %s\n", parent >= SIZE / 1024 ? "yes" : "no");
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1;
  }
  if (pid == 0) {
    long before = rss_shmem_kb();
    long bad = 0;
    for (long o = 0; o < SIZE; o += PAGE) bad += m[o] != (unsigned char)(o / PAGE);
    long after = rss_shmem_kb();
    for (long o = 0; o < SIZE; o += PAGE) m[o] = (unsigned char)(o / PAGE + 1);
    printf("child: RssShmem below 1 MiB after fork: %s\n", before >= 0 && before < 1024 ? "yes" : "no");
    printf("child: pages with other bytes than the parent's: %ld\n", bad);
    printf("child: RssShmem at least 8 MiB once read: %s\n", after >= SIZE / 1024 ? "yes" : "no");
    fflush(stdout);
    _exit(0);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid) {
    perror("waitpid");
    return 1;
  }
  long seen = 0;
  for (long o = 0; o < SIZE; o += PAGE) seen += m[o] == (unsigned char)(o / PAGE + 1);
  printf("child exit %d; parent sees the child's writes in %ld of %ld pages\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1, seen, SIZE / PAGE);
  fflush(stdout);

  /* Private memory the child never touches before a system call reads it (write(2) to a
   * pipe), then memory it first stores into through read(2), then a grandchild's view. */
  static unsigned char priv[1 << 20], back[1 << 20];
  for (long o = 0; o < (long)sizeof priv; o++) priv[o] = (unsigned char)(o * 7 + 3);
  int p[2];
  if (pipe(p) < 0) {
    perror("pipe");
    return 1;
  }
  pid = fork();
  if (pid == 0) {
    close(p[0]);
    long put = 0;
    while (put < (long)sizeof priv) {
      ssize_t n = write(p[1], priv + put, sizeof priv - put);
      if (n <= 0) _exit(2);
      put += n;
    }
    _exit(0);
  }
  close(p[1]);
  long got = 0;
  for (;;) {
    ssize_t n = read(p[0], back + got, sizeof back - got);
    if (n <= 0) break;
    got += n;
  }
  close(p[0]);
  waitpid(pid, &status, 0);
  printf("child's write(2) of 1 MiB it never touched: exit %d, bytes equal: %s\n", WEXITSTATUS(status), got == (long)sizeof priv && memcmp(priv, back, sizeof priv) == 0 ? "yes" : "no");
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    int q[2];
    if (pipe(q) < 0) _exit(3);
    if (write(q[1], "fresh", 5) != 5 || read(q[0], priv + 4096 * 100, 5) != 5) _exit(4);
    pid_t g = fork();
    if (g == 0) _exit(memcmp(priv + 4096 * 100, "fresh", 5) == 0 && priv[0] == 3 && priv[(1 << 20) - 1] == (unsigned char)(((1 << 20) - 1) * 7 + 3) ? 0 : 5);
    int gs;
    waitpid(g, &gs, 0);
    _exit(WIFEXITED(gs) ? WEXITSTATUS(gs) : 6);
  }
  waitpid(pid, &status, 0);
  printf("child's read(2) into untouched memory, grandchild sees it and the rest: exit %d; parent's bytes unchanged: %s\n", WEXITSTATUS(status), priv[4096 * 100] == (unsigned char)(4096 * 100 * 7 + 3) ? "yes" : "no");
  return 0;
}
