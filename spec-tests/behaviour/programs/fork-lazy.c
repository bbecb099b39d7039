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
  return 0;
}
