/*
 * mapshared-ro: tries to change, through mappings, a file the container may read but not
 * write: argv[1] is the file; argv[2] "ro-mount" when it sits on a read-only bind mount
 * (an open for writing is tried too). Every attempt prints "ok" or an errno name; the
 * test checks the host's copy afterwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SIZE 8192

static const char *res(int failed) {
  if (!failed) return "ok";
  switch (errno) {
  case EACCES: return "EACCES";
  case EROFS: return "EROFS";
  case EPERM: return "EPERM";
  case ENODEV: return "ENODEV";
  default: return strerror(errno);
  }
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *file = argv[1];
  if (strcmp(argv[2], "ro-mount") == 0) {
    int w = open(file, O_RDWR);
    printf("open O_RDWR: %s\n", res(w < 0));
    if (w >= 0) close(w);
  }
  int fd = open(file, O_RDONLY);
  if (fd < 0) {
    printf("FAIL open O_RDONLY: %s\n", strerror(errno));
    return 1;
  }
  void *w = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  printf("mmap PROT_WRITE MAP_SHARED: %s\n", res(w == MAP_FAILED));
  char *p = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    printf("FAIL mmap PROT_READ MAP_SHARED: %s\n", strerror(errno));
    return 1;
  }
  printf("mprotect PROT_WRITE of the shared mapping: %s\n", res(mprotect(p, SIZE, PROT_READ | PROT_WRITE) != 0));
  /* A private writable mapping of the same pages: written, synced, unmapped. */
  char *q = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (q == MAP_FAILED) {
    printf("FAIL mmap MAP_PRIVATE: %s\n", strerror(errno));
    return 1;
  }
  memset(q, 'X', SIZE);
  printf("msync of the private mapping: %s\n", res(msync(q, SIZE, MS_SYNC) != 0));
  printf("the shared mapping after the private write: '%c'\n", p[10]);
  munmap(q, SIZE);
  printf("msync of the shared mapping: %s\n", res(msync(p, SIZE, MS_SYNC) != 0));
  printf("fsync of the descriptor: %s\n", res(fsync(fd) != 0));
  munmap(p, SIZE);
  close(fd);
  printf("done\n");
  return 0;
}
