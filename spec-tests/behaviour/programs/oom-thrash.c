/*
 * oom-thrash: a child reads a mapped file while it touches ever more private memory, one
 * page of each per step, under a memory limit smaller than the private memory it wants:
 * the file's clean pages are reclaimed as the private memory grows, until what is left
 * cannot hold the pages one instruction needs at once (the loop's code and the file page
 * it reads). Then the kernel's OOM killer ends the child with SIGKILL, as Linux's memory
 * cgroup does; the kernel must not take each of those pages in turn to fault the other
 * in, forever. The parent prints how the child (each of CHILDREN, default 1, mapping the
 * same file) ended.
 *   oom-thrash DIR FILE_MIB ANON_MIB shared|private [CHILDREN]
 * Prints deterministic lines only.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>

#define MIB (1L << 20)
#define PG 4096L
#define PIECE (8 * MIB)

int main(int argc, char **argv) {
  check(argc == 5 || argc == 6, "usage: oom-thrash DIR FILE_MIB ANON_MIB shared|private [CHILDREN]");
  int children = argc == 6 ? atoi(argv[5]) : 1;
  long fileSize = atol(argv[2]) * MIB, anonSize = atol(argv[3]) * MIB;
  int shared = strcmp(argv[4], "shared") == 0;
  char path[4096];
  snprintf(path, sizeof path, "%s/oom-thrash.dat", argv[1]);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0, "open");
  static unsigned char block[MIB];
  for (long at = 0; at < fileSize; at += MIB) {
    for (long i = 0; i < MIB; i += PG) block[i] = (unsigned char)(at / PG + i / PG);
    check(write(fd, block, MIB) == MIB, "write");
  }
  check(fsync(fd) == 0, "fsync");
  for (int k = 0; k < children; k++) {
    pid_t pid = fork();
    check(pid >= 0, "fork");
    if (pid == 0) {
      volatile unsigned char *file = mmap(NULL, fileSize, PROT_READ, shared ? MAP_SHARED : MAP_PRIVATE, fd, 0);
      if (file == MAP_FAILED) _exit(2);
      volatile unsigned char *anon = NULL;
      long bad = 0;
      for (long at = 0; at < anonSize; at += PG) {
        // The private memory comes in pieces smaller than the limit: tvisor's overcommit
        // heuristic refuses one request larger than the container's memory (Linux's weighs
        // it against the host's).
        if (at % PIECE == 0) {
          anon = mmap(NULL, PIECE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          if (anon == MAP_FAILED) _exit(2);
        }
        anon[at % PIECE] = 1;
        long f = at % fileSize;
        bad += file[f] != (unsigned char)(f / PG);
      }
      _exit(bad == 0 ? 0 : 1);
    }
  }
  for (int k = 0; k < children; k++) {
    int status;
    check(wait(&status) > 0, "wait");
    if (WIFSIGNALED(status)) say("child killed by signal %d", WTERMSIG(status));
    else say("child exited with %d", WEXITSTATUS(status));
  }
  close(fd);
  check(unlink(path) == 0, "unlink");
  say("done");
  return 0;
}
