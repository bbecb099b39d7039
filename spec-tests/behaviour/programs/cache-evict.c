/*
 * cache-evict: a file larger than the share of memory a sandbox's page cache may keep
 * clean, mapped MAP_SHARED read-only and read through twice (a page cache that evicts
 * reads the pages it dropped from the host again: the bytes must not change), while a
 * writable shared mapping of the same file changes a few pages (those stay: dirty) and
 * read() agrees with the mappings.
 *   cache-evict DIR
 * Prints deterministic lines only.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define MIB (1L << 20)
#define PG 4096L
#define SIZE (48 * MIB)

/* pattern is the byte the file holds at `pos` (before any change). */
static unsigned char pattern(long pos) {
  return (unsigned char)((pos >> 12) * 7 + (pos & 0xff));
}

/* differing counts the bytes of the mapping that differ from the pattern, but the changed page `skip`. */
static long differing(const unsigned char *m, long skipPage) {
  long bad = 0;
  for (long pg = 0; pg < SIZE / PG; pg++) {
    if (pg == skipPage) continue;
    for (long i = 0; i < PG; i += 97) bad += m[pg * PG + i] != pattern(pg * PG + i);
  }
  return bad;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    say("usage: cache-evict DIR");
    return 2;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/cache-evict.dat", argv[1]);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0, "open");
  static unsigned char block[MIB];
  for (long at = 0; at < SIZE; at += MIB) {
    for (long i = 0; i < MIB; i++) block[i] = pattern(at + i);
    check(write(fd, block, MIB) == MIB, "write");
  }
  unsigned char *ro = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, fd, 0);
  check(ro != MAP_FAILED, "mmap ro");
  unsigned char *rw = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  check(rw != MAP_FAILED, "mmap rw");
  say("first pass through the read-only mapping: %ld bytes differ", differing(ro, -1));
  /* A page changed through the writable mapping, far from the start. */
  long changed = 9000;
  memset(rw + changed * PG, 'W', PG);
  say("second pass: %ld bytes differ", differing(ro, changed));
  say("the changed page through the read-only mapping: %s", ro[changed * PG] == 'W' && ro[changed * PG + PG - 1] == 'W' ? "changed" : "not changed");
  unsigned char buf[PG];
  check(pread(fd, buf, PG, changed * PG) == PG, "pread");
  say("read() of the changed page: %s", buf[0] == 'W' && buf[PG - 1] == 'W' ? "changed" : "not changed");
  check(pread(fd, buf, PG, 3 * PG) == PG, "pread");
  say("read() of page 3 matches the mapping: %s", memcmp(buf, ro + 3 * PG, PG) == 0 ? "yes" : "no");
  check(msync(rw, SIZE, MS_SYNC) == 0, "msync");
  munmap(ro, SIZE);
  munmap(rw, SIZE);
  close(fd);
  fd = open(path, O_RDONLY);
  check(fd >= 0, "open again");
  check(pread(fd, buf, PG, changed * PG) == PG, "pread again");
  say("after munmap and reopen, the changed page: %s", buf[0] == 'W' ? "changed" : "not changed");
  close(fd);
  unlink(path);
  say("done");
  return 0;
}
