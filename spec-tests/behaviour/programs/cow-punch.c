/*
 * cow-punch: a hole punched in a file (fallocate FALLOC_FL_PUNCH_HOLE) leaves a
 * MAP_PRIVATE mapping's copies of its pages alone, as Linux does (it unmaps the file's
 * pages but not the copy-on-write copies): the pages the mapping wrote keep what it wrote,
 * the others read the hole's zeros. The file is 512 KiB; the hole covers whole 64 KiB
 * pieces and parts of others.
 *   cow-punch DIR
 * Prints deterministic lines only.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>

#define PG 4096L
#define SIZE (128 * PG)

int main(int argc, char **argv) {
  check(argc == 2, "usage: cow-punch DIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/cow-punch.dat", argv[1]);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0, "open");
  static char buf[SIZE];
  memset(buf, 'f', sizeof buf);
  check(write(fd, buf, SIZE) == SIZE, "write");
  volatile char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  check(m != MAP_FAILED, "mmap");
  /* Copies of pages 0, 20 and 33 (written); pages 1, 21 and 34 only read. */
  long copied[] = {0, 20, 33}, read_only[] = {1, 21, 34};
  for (int i = 0; i < 3; i++) {
    m[copied[i] * PG] = 'p';
    (void)m[read_only[i] * PG];
  }
  /* The hole: from the middle of page 0 to page 40 (whole 64 KiB pieces 1 and 2 of the file inside it). */
  check(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PG / 2, 40 * PG - PG / 2) == 0, "fallocate");
  for (int i = 0; i < 3; i++) say("written page %ld after the hole: %c", copied[i], m[copied[i] * PG]);
  for (int i = 0; i < 3; i++) say("read page %ld after the hole: byte %d", read_only[i], m[read_only[i] * PG]);
  say("page 50, outside the hole: %c", m[50 * PG]);
  check(unlink(path) == 0, "unlink");
  say("done");
  return 0;
}
