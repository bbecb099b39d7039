/*
 * shm-reuse: memory given back by a tmpfs file must never show through a mapping that
 * outlived it. A parent maps a 256 KiB /dev/shm file MAP_SHARED and fills it; its child
 * truncates the file to 0 (the sentry gives those chunks back to its pool), then fills
 * 64 MiB of fresh private memory and a new /dev/shm file with its own bytes (so the
 * freed chunks are reused). The parent's stale mapping must fault on every page (SIGBUS,
 * as on Linux) and, once the file grows again, read zeros: never the child's bytes.
 */
#include "../../behaviour/programs/common.h"
#include <fcntl.h>
#include <setjmp.h>
#include <sys/mman.h>

#define PAGE 4096
#define FILE_BYTES (256 * 1024)
#define FRESH_BYTES (64 << 20)

static sigjmp_buf env;
static volatile sig_atomic_t fault_sig;

static void on_fault(int sig) {
  fault_sig = sig;
  siglongjmp(env, 1);
}

int main(void) {
  char name[64], other[64];
  snprintf(name, sizeof name, "/dev/shm/tvisor-reuse-%d", (int)getpid());
  snprintf(other, sizeof other, "/dev/shm/tvisor-reuse-other-%d", (int)getpid());
  int fd = open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
  check(fd >= 0, "open");
  unlink(name);
  check(ftruncate(fd, FILE_BYTES) == 0, "ftruncate");
  volatile char *p = mmap(NULL, FILE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  check(p != MAP_FAILED, "mmap");
  memset((char *)p, 'P', FILE_BYTES);
  int go[2], done[2];
  check(pipe(go) == 0 && pipe(done) == 0, "pipe");
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    char c;
    if (ftruncate(fd, 0) != 0) _exit(2);
    char *fresh = mmap(NULL, FRESH_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fresh == MAP_FAILED) _exit(3);
    memset(fresh, 'S', FRESH_BYTES);
    int o = open(other, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (o < 0) _exit(4);
    unlink(other);
    static char t[FILE_BYTES];
    memset(t, 'T', sizeof t);
    if (write(o, t, sizeof t) != (ssize_t)sizeof t) _exit(5);
    if (write(go[1], "g", 1) != 1) _exit(6);
    if (read(done[0], &c, 1) != 1) _exit(7); // keep the memory alive while the parent looks
    _exit(0);
  }
  char c;
  check(read(go[0], &c, 1) == 1, "wait for the child");
  signal(SIGBUS, on_fault);
  signal(SIGSEGV, on_fault);
  static volatile int bus, segv, readable, foreign;
  for (int off = 0; off < FILE_BYTES; off += PAGE) {
    fault_sig = 0;
    if (sigsetjmp(env, 1) == 0) {
      char v = p[off];
      readable++;
      if (v != 0) foreign++;
    } else if (fault_sig == SIGBUS) {
      bus++;
    } else {
      segv++;
    }
  }
  say("stale mapping after the child truncated the file: %d pages SIGBUS, %d SIGSEGV, %d readable, %d showing bytes", bus, segv, readable, foreign);
  check(ftruncate(fd, FILE_BYTES) == 0, "ftruncate again");
  int nonzero = 0;
  for (int off = 0; off < FILE_BYTES; off++) nonzero += p[off] != 0;
  say("after the file grew again: %d non-zero bytes", nonzero);
  check(write(done[1], "d", 1) == 1, "release the child");
  int status;
  check(waitpid(pid, &status, 0) == pid, "waitpid");
  say("child exit status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}
