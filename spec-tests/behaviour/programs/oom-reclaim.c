/*
 * oom-reclaim: under a 128 MiB memory limit, a process that keeps 96 MiB of a file mapped
 * (read, so its pages are resident and clean) and then touches 80 MiB of private memory
 * is not killed: the kernel reclaims the clean file pages, mapped as they are, before its
 * OOM killer would run, and reads them again when they are next touched.
 *   oom-reclaim DIR
 * Prints deterministic lines only.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>

#define MIB (1L << 20)
#define PG 4096L
#define FILE_SIZE (96 * MIB)
#define ANON_SIZE (80 * MIB)

static unsigned char pattern(long pos) {
  return (unsigned char)((pos >> 12) * 7 + 1);
}

int main(int argc, char **argv) {
  check(argc == 2, "usage: oom-reclaim DIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/oom-reclaim.dat", argv[1]);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0, "open");
  static unsigned char block[MIB];
  for (long at = 0; at < FILE_SIZE; at += MIB) {
    for (long i = 0; i < MIB; i++) block[i] = pattern(at + i);
    check(write(fd, block, MIB) == MIB, "write");
  }
  check(fsync(fd) == 0, "fsync");
  volatile unsigned char *file = mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
  check(file != MAP_FAILED, "mmap file");
  long bad = 0;
  for (long at = 0; at < FILE_SIZE; at += PG) bad += file[at] != pattern(at);
  say("file mapped and read: %ld pages differ", bad);
  volatile unsigned char *anon = mmap(NULL, ANON_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(anon != MAP_FAILED, "mmap private");
  for (long at = 0; at < ANON_SIZE; at += PG) anon[at] = 1;
  say("80 MiB of private memory touched with the file still mapped: alive");
  bad = 0;
  for (long at = 0; at < FILE_SIZE; at += PG) bad += file[at] != pattern(at);
  say("file mapping read again: %ld pages differ", bad);
  close(fd);
  check(unlink(path) == 0, "unlink");
  say("done");
  return 0;
}
