/*
 * mapshared: MAP_SHARED mappings of a regular file in the directory argv[1] (a bind
 * mount in a container: tvisor's gofer files). Two processes share a file's pages; read()
 * and write() are coherent with a mapping; msync, munmap and close write the mapping's
 * bytes to the file; a truncated file's pages past the end raise SIGBUS; msync's errors;
 * a writable shared mapping of a read-only descriptor is refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE 8192

static sigjmp_buf jump;
static volatile int bus_code;

static void on_bus(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  bus_code = si->si_code;
  siglongjmp(jump, 1);
}

static const char *err(int e) {
  switch (e) {
  case 0: return "ok";
  case EINVAL: return "EINVAL";
  case ENOMEM: return "ENOMEM";
  case EACCES: return "EACCES";
  case ENODEV: return "ENODEV";
  default: return strerror(e);
  }
}

static void die(const char *what) {
  printf("FAIL %s: %s\n", what, strerror(errno));
  exit(1);
}

static char *map(int fd, int prot, int flags) {
  char *p = mmap(NULL, SIZE, prot, flags, fd, 0);
  if (p == MAP_FAILED) die("mmap");
  return p;
}

/* show prints n bytes of the file at `at` as read through a fresh descriptor. */
static void show(const char *label, const char *path, off_t at, size_t n) {
  char buf[64] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) die("open");
  if (pread(fd, buf, n, at) < 0) die("pread");
  close(fd);
  printf("%s: \"%.*s\"\n", label, (int)n, buf);
}

int main(int argc, char **argv) {
  if (argc < 2 || chdir(argv[1]) != 0) die("chdir");
  setvbuf(stdout, NULL, _IONBF, 0);
  int fd = open("shared.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die("open");
  char fill[SIZE];
  memset(fill, '.', sizeof fill);
  if (write(fd, fill, SIZE) != SIZE) die("write");
  char *p = map(fd, PROT_READ | PROT_WRITE, MAP_SHARED);

  /* Two processes: the child maps the file itself and writes; the parent reads while the
   * child is still alive (pipes order them). */
  int up[2], down[2];
  if (pipe(up) || pipe(down)) die("pipe");
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    int cfd = open("shared.dat", O_RDWR);
    if (cfd < 0) die("child open");
    char *q = map(cfd, PROT_READ | PROT_WRITE, MAP_SHARED);
    memcpy(q + 100, "from the child", 14);
    memcpy(p + 4196, "inherited", 9);
    char c = 1;
    if (write(up[1], &c, 1) != 1 || read(down[0], &c, 1) != 1) _exit(2);
    printf("child sees the parent's write: \"%.6s\"\n", q + 200);
    _exit(0);
  }
  char c;
  if (read(up[0], &c, 1) != 1) die("read pipe");
  printf("parent sees the child's writes: \"%.14s\" \"%.9s\"\n", p + 100, p + 4196);
  memcpy(p + 200, "parent", 6);
  if (write(down[1], &c, 1) != 1) die("write pipe");
  int st;
  waitpid(pid, &st, 0);
  printf("child exit status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));

  /* read() and write() against the mapping. */
  memcpy(p + 300, "stored in memory", 16);
  char buf[32] = {0};
  if (pread(fd, buf, 16, 300) != 16) die("pread");
  printf("read() sees the mapping: \"%s\"\n", buf);
  if (pwrite(fd, "by write()", 10, 400) != 10) die("pwrite");
  printf("the mapping sees write(): \"%.10s\"\n", p + 400);

  /* msync, then a fresh descriptor reads the file. */
  memcpy(p + 500, "synced", 6);
  printf("msync MS_SYNC: %s\n", err(msync(p, SIZE, MS_SYNC) ? errno : 0));
  show("fresh open after msync", "shared.dat", 500, 6);
  printf("msync MS_ASYNC|MS_INVALIDATE: %s\n", err(msync(p, SIZE, MS_ASYNC | MS_INVALIDATE) ? errno : 0));
  printf("msync of an unaligned address: %s\n", err(msync(p + 1, 10, MS_SYNC) ? errno : 0));
  printf("msync MS_SYNC|MS_ASYNC: %s\n", err(msync(p, SIZE, MS_SYNC | MS_ASYNC) ? errno : 0));
  printf("msync with an unknown flag: %s\n", err(msync(p, SIZE, 0x100) ? errno : 0));
  printf("msync of length 0: %s\n", err(msync(p, 0, MS_SYNC) ? errno : 0));
  char *hole = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (hole == MAP_FAILED) die("mmap hole");
  munmap(hole + 4096, 4096);
  printf("msync over a hole: %s\n", err(msync(hole, 3 * 4096, MS_SYNC) ? errno : 0));
  munmap(hole, 3 * 4096);

  /* mremap moves the mapping onto the same pages. */
  char *m = mremap(p, SIZE, 2 * SIZE, MREMAP_MAYMOVE);
  if (m == MAP_FAILED) die("mremap");
  p = m;
  memcpy(p + 800, "remapped", 8);
  memset(buf, 0, sizeof buf);
  if (pread(fd, buf, 8, 800) != 8) die("pread");
  printf("read() sees the moved mapping: \"%s\"\n", buf);

  /* A private mapping made after shared writes shows them. */
  char *priv = map(fd, PROT_READ, MAP_PRIVATE);
  printf("private mapping made afterwards: \"%.16s\"\n", priv + 300);
  munmap(priv, SIZE);

  /* munmap then close write back what was never msynced. */
  memcpy(p + 600, "unmapped", 8);
  munmap(p, 2 * SIZE);
  close(fd);
  struct stat sb;
  if (stat("shared.dat", &sb)) die("stat");
  printf("after munmap and close: size %lld\n", (long long)sb.st_size);
  show("content", "shared.dat", 600, 8);
  show("content", "shared.dat", 100, 14);

  /* A process that exits with its mapping written and never unmapped. */
  pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    int cfd = open("shared.dat", O_RDWR);
    if (cfd < 0) _exit(2);
    char *q = map(cfd, PROT_READ | PROT_WRITE, MAP_SHARED);
    close(cfd);
    memcpy(q + 700, "at exit", 7);
    _exit(0);
  }
  waitpid(pid, &st, 0);
  show("after a child exited with its mapping", "shared.dat", 700, 7);
  pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    int cfd = open("shared.dat", O_RDWR);
    if (cfd < 0) _exit(2);
    char *q = map(cfd, PROT_READ | PROT_WRITE, MAP_SHARED);
    memcpy(q + 720, "at SIGKILL", 10);
    raise(SIGKILL);
    _exit(3);
  }
  waitpid(pid, &st, 0);
  printf("killed child: %s\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? "SIGKILL" : "not killed");
  show("after a child was killed with its mapping", "shared.dat", 720, 10);

  /* Past the end after a truncate: SIGBUS; the rest of the last page reads zeros. */
  fd = open("shared.dat", O_RDWR);
  if (fd < 0) die("open");
  p = map(fd, PROT_READ | PROT_WRITE, MAP_SHARED);
  p[4096] = 'x';
  if (ftruncate(fd, 100)) die("ftruncate");
  printf("after ftruncate to 100: byte 50 '%c', byte 200 %d\n", p[50], p[200]);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_bus;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGBUS, &sa, NULL);
  if (sigsetjmp(jump, 1) == 0) {
    volatile char v = p[4096];
    (void)v;
    printf("second page after ftruncate: no signal\n");
  } else {
    printf("second page after ftruncate: SIGBUS %s\n", bus_code == BUS_ADRERR ? "BUS_ADRERR" : "other code");
  }
  munmap(p, SIZE);
  close(fd);
  if (stat("shared.dat", &sb)) die("stat");
  printf("size after ftruncate: %lld\n", (long long)sb.st_size);

  /* A process-shared mutex (futex) and counters in a file mapping, two processes. */
  fd = open("counter.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || ftruncate(fd, SIZE)) die("counter file");
  struct shared_counter {
    pthread_mutex_t lock;
    long locked;
    long atomic;
  } *sc = (struct shared_counter *)map(fd, PROT_READ | PROT_WRITE, MAP_SHARED);
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(&sc->lock, &ma);
  pid = fork();
  if (pid < 0) die("fork");
  for (int i = 0; i < 20000; i++) {
    pthread_mutex_lock(&sc->lock);
    sc->locked++;
    pthread_mutex_unlock(&sc->lock);
    __atomic_fetch_add(&sc->atomic, 1, __ATOMIC_SEQ_CST);
  }
  if (pid == 0) _exit(0);
  waitpid(pid, &st, 0);
  printf("two processes counting in a file mapping: %ld under a shared mutex, %ld atomically\n", sc->locked, sc->atomic);
  munmap(sc, SIZE);
  close(fd);
  unlink("counter.dat");

  /* A read-only descriptor's shared mapping never becomes writable. */
  fd = open("shared.dat", O_RDONLY);
  if (fd < 0) die("open");
  void *w = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  printf("mmap(PROT_WRITE, MAP_SHARED) of a read-only descriptor: %s\n", err(w == MAP_FAILED ? errno : 0));
  p = map(fd, PROT_READ, MAP_SHARED);
  printf("mprotect(PROT_WRITE) of it: %s\n", err(mprotect(p, SIZE, PROT_READ | PROT_WRITE) ? errno : 0));
  munmap(p, SIZE);
  close(fd);
  unlink("shared.dat");
  printf("done\n");
  return 0;
}
