/*
 * cache-pin: pages that are mlocked stay resident (mincore) and keep their bytes while
 * far more of another file than a sandbox's page cache may keep clean is read through
 * mappings (each window mapped, read and unmapped in turn, so that page cache has to
 * evict); a mapping that is neither locked nor unmapped reads right all along too.
 *   cache-pin DIR
 * Prints deterministic lines only.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define MIB (1L << 20)
#define PG 4096L
#define LOCKED (4 * MIB)   /* within the default RLIMIT_MEMLOCK of 8 MiB */
#define STREAM (96 * MIB)  /* three times the page cache's clean bound under a 128 MiB limit */
#define WINDOW (4 * MIB)

/* pattern is the byte a file made by fill holds at `pos`; `salt` tells the files apart. */
static unsigned char pattern(long pos, int salt) {
  return (unsigned char)((pos >> 12) * 13 + (pos & 0xff) + salt);
}

/* fill makes path a file of `size` bytes of pattern(salt) and returns a descriptor open for reading. */
static int fill(const char *path, long size, int salt) {
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0, "open");
  static unsigned char block[MIB];
  for (long at = 0; at < size; at += MIB) {
    for (long i = 0; i < MIB; i++) block[i] = pattern(at + i, salt);
    check(write(fd, block, MIB) == MIB, "write");
  }
  return fd;
}

/* differing counts the sampled bytes of m[0, size) that differ from pattern(salt). */
static long differing(const unsigned char *m, long size, int salt) {
  long bad = 0;
  for (long at = 0; at < size; at += 61) bad += m[at] != pattern(at, salt);
  return bad;
}

/* resident counts the pages of m[0, size) that mincore reports resident. */
static long resident(unsigned char *m, long size) {
  static unsigned char vec[LOCKED / PG];
  check(mincore(m, size, vec) == 0, "mincore");
  long n = 0;
  for (long i = 0; i < size / PG; i++) n += vec[i] & 1;
  return n;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    say("usage: cache-pin DIR");
    return 2;
  }
  char locked[4096], plain[4096], stream[4096];
  snprintf(locked, sizeof locked, "%s/cache-pin-locked.dat", argv[1]);
  snprintf(plain, sizeof plain, "%s/cache-pin-plain.dat", argv[1]);
  snprintf(stream, sizeof stream, "%s/cache-pin-stream.dat", argv[1]);
  int lfd = fill(locked, LOCKED, 1), pfd = fill(plain, LOCKED, 2), sfd = fill(stream, STREAM, 3);

  unsigned char *l = mmap(NULL, LOCKED, PROT_READ, MAP_SHARED, lfd, 0);
  check(l != MAP_FAILED, "mmap locked");
  check(mlock(l, LOCKED) == 0, "mlock");
  unsigned char *p = mmap(NULL, LOCKED, PROT_READ, MAP_PRIVATE, pfd, 0);
  check(p != MAP_FAILED, "mmap plain");
  say("locked mapping: %ld pages of %ld resident, %ld bytes differ", resident(l, LOCKED), LOCKED / PG, differing(l, LOCKED, 1));
  say("private mapping: %ld bytes differ", differing(p, LOCKED, 2));

  /* The stream keeps one page mapped (its cache lives on) and maps the rest a window at a time. */
  unsigned char *keep = mmap(NULL, PG, PROT_READ, MAP_SHARED, sfd, 0);
  check(keep != MAP_FAILED, "mmap keep");
  long bad = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (long at = 0; at < STREAM; at += WINDOW) {
      unsigned char *w = mmap(NULL, WINDOW, PROT_READ, MAP_SHARED, sfd, at);
      check(w != MAP_FAILED, "mmap window");
      for (long i = 0; i < WINDOW; i += 61) bad += w[i] != pattern(at + i, 3);
      check(munmap(w, WINDOW) == 0, "munmap window");
    }
  }
  say("streamed %ld MiB through windows twice: %ld bytes differ", STREAM / MIB, bad);
  say("locked mapping after: %ld pages of %ld resident, %ld bytes differ", resident(l, LOCKED), LOCKED / PG, differing(l, LOCKED, 1));
  say("private mapping after: %ld bytes differ", differing(p, LOCKED, 2));
  check(munlock(l, LOCKED) == 0, "munlock");
  munmap(l, LOCKED);
  munmap(p, LOCKED);
  munmap(keep, PG);
  close(lfd);
  close(pfd);
  close(sfd);
  unlink(locked);
  unlink(plain);
  unlink(stream);
  say("done");
  return 0;
}
