/*
 * vma-merge: adjacent mappings that are alike are one VMA, as Linux merges them after
 * mmap, mprotect, mremap, madvise and mlock: /proc/self/maps shows one line for them,
 * and mremap, which needs its old range inside one VMA, grows a mapping in steps (apt's
 * cache does). Unlike neighbours (protection, MAP_NORESERVE, a file) stay apart.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096UL
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

/* vmas counts the lines of /proc/self/maps that overlap [a, a+len). */
static int vmas(void *a, size_t len) {
  FILE *f = fopen("/proc/self/maps", "r");
  unsigned long lo, hi, s = (unsigned long)a, e = s + len;
  int n = 0;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo < e && hi > s) n++;
  }
  fclose(f);
  return n;
}

int main(void) {
  /* A reservation to carve fixed mappings from, so that neighbours are ours. */
  char *base = mmap(NULL, 64 * PG, PROT_NONE, ANON, -1, 0);
  munmap(base, 64 * PG);
  char *a = mmap(base, 4 * PG, RW, ANON | MAP_FIXED, -1, 0);
  char *b = mmap(base + 4 * PG, 4 * PG, RW, ANON | MAP_FIXED, -1, 0);
  printf("two adjacent anonymous mappings: %d VMA(s)\n", vmas(a, 8 * PG));
  a[0] = 1;
  b[0] = 2;
  mprotect(a + 2 * PG, 2 * PG, PROT_READ);
  printf("after mprotect of the middle to read-only: %d\n", vmas(a, 8 * PG));
  mprotect(a + 2 * PG, 2 * PG, RW);
  printf("after mprotect back: %d\n", vmas(a, 8 * PG));
  char *c = mremap(a, 8 * PG, 12 * PG, 0);
  printf("mremap of both in place: %s, contents %d %d\n", c == MAP_FAILED ? strerror(errno) : "ok", a[0], a[4 * PG]);
  printf("after growing: %d\n", vmas(a, 12 * PG));
  madvise(a + 4 * PG, PG, MADV_DONTFORK);
  printf("after MADV_DONTFORK of a page: %d\n", vmas(a, 12 * PG));
  madvise(a + 4 * PG, PG, MADV_DOFORK);
  printf("after MADV_DOFORK: %d\n", vmas(a, 12 * PG));
  if (mlock(a + 4 * PG, PG) == 0) {
    printf("after mlock of a page: %d\n", vmas(a, 12 * PG));
    munlock(a + 4 * PG, PG);
    printf("after munlock: %d\n", vmas(a, 12 * PG));
  } else {
    printf("mlock: %s\n", strerror(errno));
  }
  munmap(a, 12 * PG);

  /* Unlike neighbours. */
  a = mmap(base, 4 * PG, RW, ANON | MAP_FIXED, -1, 0);
  mmap(base + 4 * PG, 4 * PG, PROT_READ, ANON | MAP_FIXED, -1, 0);
  printf("read-write next to read-only: %d\n", vmas(a, 8 * PG));
  mmap(base + 4 * PG, 4 * PG, RW, ANON | MAP_FIXED | MAP_NORESERVE, -1, 0);
  printf("next to MAP_NORESERVE: %d\n", vmas(a, 8 * PG));
  int fd = open("/proc/self/exe", O_RDONLY);
  mmap(base + 4 * PG, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
  mprotect(a, 4 * PG, PROT_READ);
  printf("read-only anonymous next to a read-only file mapping: %d\n", vmas(a, 8 * PG));
  /* The same file at contiguous offsets. */
  mmap(base, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
  mmap(base + 4 * PG, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 4 * PG);
  printf("one file at contiguous offsets: %d\n", vmas(a, 8 * PG));
  mmap(base + 4 * PG, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
  printf("one file at offsets that do not follow: %d\n", vmas(a, 8 * PG));
  munmap(base, 8 * PG);

  /* Growing in steps, as apt's DynamicMMap does. */
  size_t sz = 24UL << 20;
  char *m = mmap(NULL, sz, RW, ANON, -1, 0);
  memset(m, 7, PG);
  int ok = 1;
  for (int i = 0; i < 16 && ok; i++) {
    char *n = mremap(m, sz, sz + (1UL << 20), MREMAP_MAYMOVE);
    if (n == MAP_FAILED) {
      printf("grow %d: %s\n", i, strerror(errno));
      ok = 0;
      break;
    }
    m = n;
    sz += 1UL << 20;
    m[sz - 1] = 9;
    ok = m[0] == 7;
  }
  printf("16 growths of 1 MiB with MREMAP_MAYMOVE: %s, one VMA: %s\n", ok ? "ok" : "failed", vmas(m, sz) == 1 ? "yes" : "no");
  return 0;
}
