/*
 * cowfile: MAP_PRIVATE mappings of a file, as Linux keeps them: a page not yet written
 * through the mapping shows the file's later changes, a written page is the mapping's own
 * (the file never sees it); fork, mprotect, partial munmap, mremap, MADV_DONTNEED,
 * read(2)/write(2) through the mapping, and truncate (SIGBUS past the new end, the
 * written copies there dropped too) on a partly copied mapping.
 *   cowfile DIR...   (each DIR: one round on a file created there)
 * Prints deterministic lines only.
 */
#include "common.h"
#include <fcntl.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PG 4096L
#define PAGES 40L /* 160 KiB: three 64 KiB chunks and a half */

static sigjmp_buf probeJump;
static volatile int probeSignal;

static void onFault(int sig) {
  probeSignal = sig;
  siglongjmp(probeJump, 1);
}

/* probe reads (or, when `store`, writes) one byte at p and names the signal it got ("ok" without). */
static const char *probe(volatile unsigned char *p, int store) {
  probeSignal = 0;
  if (sigsetjmp(probeJump, 1) == 0) {
    if (store) *p = 'S';
    else (void)*p;
  }
  return probeSignal == SIGBUS ? "SIGBUS" : probeSignal == SIGSEGV ? "SIGSEGV" : "ok";
}

/* fileSet writes byte c over page pg of the file through fd. */
static void fileSet(int fd, long pg, char c) {
  static char page[PG];
  memset(page, c, PG);
  check(pwrite(fd, page, PG, pg * PG) == PG, "pwrite");
}

/* fileByte reads the first byte of page pg of the file. */
static char fileByte(int fd, long pg) {
  char c = 0;
  check(pread(fd, &c, 1, pg * PG) == 1, "pread");
  return c;
}

/* whole tells whether page pg of m holds c in every byte. */
static int whole(const unsigned char *m, long pg, char c) {
  for (long i = 0; i < PG; i++) if (m[pg * PG + i] != (unsigned char)c) return 0;
  return 1;
}

static const char *yes(int b) {
  return b ? "yes" : "no";
}

static void round_(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/cowfile.dat", dir);
  int rw = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(rw >= 0, "open rw");
  for (long pg = 0; pg < PAGES; pg++) fileSet(rw, pg, (char)('a' + pg % 26));
  /* The mapping's descriptor is read-only: MAP_PRIVATE may still be written. */
  int ro = open(path, O_RDONLY);
  check(ro >= 0, "open ro");
  unsigned char *m = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
  check(m != MAP_FAILED, "mmap");
  say("the mapping reads the file: %s", yes(whole(m, 1, 'b') && whole(m, 39, 'a' + 39 % 26)));

  fileSet(rw, 1, '1');
  fileSet(rw, 2, '2');
  say("pages not written see the file's writes: %s", yes(whole(m, 1, '1') && whole(m, 2, '2')));
  memset(m + 2 * PG, 'P', PG);
  fileSet(rw, 2, 'F');
  fileSet(rw, 3, 'F');
  say("a written page keeps its bytes after the file changes: %s", yes(whole(m, 2, 'P')));
  say("its neighbour, not written, sees the file: %s", yes(whole(m, 3, 'F')));
  say("the file never sees the private write: %s", yes(fileByte(rw, 2) == 'F'));

  /* fork: the child gets the copy and the file's pages; each side's writes are its own. */
  memset(m + 20 * PG, 'Q', PG);
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    int ok = whole(m, 2, 'P') && whole(m, 20, 'Q') && whole(m, 3, 'F');
    memset(m + 2 * PG, 'C', PG);
    memset(m + 21 * PG, 'C', PG);
    ok = ok && whole(m, 2, 'C') && whole(m, 21, 'C');
    _exit(ok ? 0 : 9);
  }
  int st;
  check(waitpid(pid, &st, 0) == pid, "waitpid");
  say("fork: child exit %d; the parent keeps its pages: %s", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
      yes(whole(m, 2, 'P') && whole(m, 20, 'Q') && whole(m, 21, 'a' + 21 % 26)));
  say("after the fork, the file unchanged: %s", yes(fileByte(rw, 21) == 'a' + 21 % 26 && fileByte(rw, 20) == 'a' + 20 % 26));

  /* mprotect over written and unwritten pages. */
  check(mprotect(m, 8 * PG, PROT_READ) == 0, "mprotect ro");
  say("read-only now, a store: %s", probe(m + 4 * PG, 1));
  fileSet(rw, 4, 'G');
  say("read-only: the copy kept, the rest sees the file: %s", yes(whole(m, 2, 'P') && whole(m, 4, 'G')));
  check(mprotect(m, 8 * PG, PROT_READ | PROT_WRITE) == 0, "mprotect rw");
  memset(m + 5 * PG, 'W', PG);
  fileSet(rw, 5, 'H');
  fileSet(rw, 6, 'H');
  say("writable again: a new write copies, the rest sees the file: %s", yes(whole(m, 5, 'W') && whole(m, 6, 'H') && whole(m, 2, 'P')));

  /* munmap of part of the range, between copied pages. */
  check(munmap(m + 3 * PG, PG) == 0, "munmap");
  fileSet(rw, 7, 'J');
  say("after a partial munmap: copies kept, the file seen: %s", yes(whole(m, 2, 'P') && whole(m, 5, 'W') && whole(m, 7, 'J')));
  say("the unmapped page: %s", probe(m + 3 * PG, 0));

  /* mremap of the tail part to a fixed new place. */
  unsigned char *dst = mmap(NULL, 24 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(dst != MAP_FAILED, "mmap dst");
  unsigned char *moved = mremap(m + 16 * PG, 24 * PG, 24 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
  check(moved == dst, "mremap");
  fileSet(rw, 22, 'K');
  say("mremap: copy moved, the rest sees the file: %s", yes(whole(moved, 4, 'Q') && whole(moved, 6, 'K') && whole(moved, 0, 'a' + 16 % 26)));
  memset(moved + 7 * PG, 'M', PG);
  fileSet(rw, 23, 'L');
  say("mremap: a write there copies: %s", yes(whole(moved, 7, 'M') && fileByte(rw, 23) == 'L'));

  /* MADV_DONTNEED drops the copies: the file shows again. */
  check(madvise(m + 2 * PG, PG, MADV_DONTNEED) == 0, "madvise");
  say("MADV_DONTNEED: the written page shows the file: %s", yes(whole(m, 2, 'F')));

  /* read(2) into the mapping copies the page; write(2) from it sends the file's bytes. */
  check(pread(rw, m + 8 * PG, PG, 1 * PG) == PG, "pread into the mapping");
  fileSet(rw, 8, 'N');
  say("read() into the mapping: its own copy, the file unchanged: %s", yes(whole(m, 8, '1') && fileByte(rw, 8) == 'N'));
  fileSet(rw, 9, 'R');
  int p[2];
  check(pipe(p) == 0, "pipe");
  check(write(p[1], m + 9 * PG, 16) == 16, "write from the mapping");
  char got[16];
  check(read(p[0], got, 16) == 16, "read pipe");
  say("write() from the mapping sends the file's bytes: %s", yes(got[0] == 'R' && got[15] == 'R'));
  close(p[0]);
  close(p[1]);

  /* A read-only private mapping refuses stores. */
  unsigned char *r = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, ro, 0);
  check(r != MAP_FAILED, "mmap read-only");
  say("PROT_READ private mapping, a store: %s", probe(r, 1));
  check(munmap(r, PG) == 0, "munmap ro");

  /* truncate: past the new end SIGBUS, copies there included; the part page reads zeros. */
  memset(m + 12 * PG, 'T', PG);
  check(ftruncate(rw, 10 * PG + 100) == 0, "ftruncate");
  say("truncated: the last page's tail reads zeros: %s", yes(m[10 * PG + 99] == 'a' + 10 % 26 && m[10 * PG + 100] == 0 && m[10 * PG + PG - 1] == 0));
  say("truncated: a page past the end: %s", probe(m + 11 * PG, 0));
  say("truncated: a written page past the end: %s", probe(m + 12 * PG, 0));
  say("truncated: a store past the end: %s", probe(m + 13 * PG, 1));
  say("truncated: a copy before the end stays: %s", yes(whole(m, 5, 'W')));
  check(ftruncate(rw, PAGES * PG) == 0, "ftruncate grow");
  say("grown again: the written page past the old end reads the file (zeros): %s", yes(whole(m, 12, 0)));

  munmap(m, PAGES * PG);
  munmap(moved, 24 * PG);
  close(ro);
  close(rw);
  unlink(path);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    say("usage: cowfile DIR...");
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = onFault;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  for (int i = 1; i < argc; i++) {
    say("round %d", i);
    round_(argv[i]);
  }
  say("done");
  return 0;
}
