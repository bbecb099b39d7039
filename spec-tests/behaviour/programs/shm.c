/*
 * shm: POSIX shared memory and memfds. /dev/shm is a tmpfs mount (mode 1777); a file
 * made there with shm_open and mapped MAP_SHARED is one memory for every process mapping
 * it and for read()/write(); a named semaphore (sem_open: a /dev/shm file mapped shared)
 * is posted by a child and taken by its parent; memfd_create makes an anonymous tmpfs
 * file whose /proc/self/fd link is "/memfd:<name> (deleted)", sealable with
 * MFD_ALLOW_SEALING; a 1 GiB ftruncate of a tmpfs file stores nothing (st_blocks 0).
 */
#include "common.h"
#include <fcntl.h>
#include <semaphore.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define PAGE 4096

static sigjmp_buf env;
static volatile sig_atomic_t fault_sig, fault_code;
static void *volatile fault_addr;

static void on_fault(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  fault_sig = sig;
  fault_code = si->si_code;
  fault_addr = si->si_addr;
  siglongjmp(env, 1);
}

/* probe reads one byte at p and reports its value or the fault it took. */
static const char *probe(volatile char *p) {
  static char out[64];
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO;
  check(sigaction(SIGBUS, &sa, NULL) == 0 && sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction");
  if (sigsetjmp(env, 1) == 0) {
    snprintf(out, sizeof out, "reads %d", *p);
    return out;
  }
  if (fault_addr != (void *)p) return "fault at a wrong address";
  snprintf(out, sizeof out, "%s %s", fault_sig == SIGBUS ? "SIGBUS" : fault_sig == SIGSEGV ? "SIGSEGV" : "signal",
           fault_sig == SIGBUS && fault_code == BUS_ADRERR ? "BUS_ADRERR" : "other code");
  return out;
}

static void dev_shm(void) {
  struct stat st;
  check(stat("/dev/shm", &st) == 0, "stat /dev/shm");
  say("/dev/shm: directory %s, mode %o", S_ISDIR(st.st_mode) ? "yes" : "no", st.st_mode & 07777);
  FILE *f = fopen("/proc/mounts", "r");
  check(f != NULL, "open /proc/mounts");
  char line[1024];
  int found = 0;
  while (fgets(line, sizeof line, f)) {
    char dev[256], dir[256], type[64];
    if (sscanf(line, "%255s %255s %63s", dev, dir, type) == 3 && strcmp(dir, "/dev/shm") == 0) found = strcmp(type, "tmpfs") == 0;
  }
  fclose(f);
  say("/dev/shm in /proc/mounts as tmpfs: %s", found ? "yes" : "no");
}

static void shm_between_processes(void) {
  char name[64];
  snprintf(name, sizeof name, "/tvisor-shm-%d", (int)getpid());
  int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
  check(fd >= 0, "shm_open");
  check(ftruncate(fd, 2 * PAGE) == 0, "ftruncate");
  char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  check(p != MAP_FAILED, "mmap shared");
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    // The child maps the object again by name, and also writes through the inherited mapping.
    int cfd = shm_open(name, O_RDWR, 0);
    if (cfd < 0) _exit(2);
    char *q = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
    if (q == MAP_FAILED) _exit(3);
    strcpy(q, "hello from the child's own mapping");
    strcpy(p + PAGE, "and through the inherited one");
    if (pwrite(cfd, "pwritten", 8, 200) != 8) _exit(4);
    _exit(0);
  }
  int status;
  check(waitpid(pid, &status, 0) == pid, "waitpid");
  say("child exit status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  say("parent's mapping: \"%s\" / \"%s\" / \"%.8s\"", p, p + PAGE, p + 200);
  char buf[64] = {0};
  check(pread(fd, buf, 34, 0) == 34, "pread");
  say("read(): \"%s\"", buf);
  check(pwrite(fd, "written by write()", 18, 1000) == 18, "pwrite");
  say("write() seen through the mapping: \"%.18s\"", p + 1000);
  // A private mapping is a copy: its writes do not reach the file.
  char *priv = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  check(priv != MAP_FAILED, "mmap private");
  priv[0] = 'X';
  check(pread(fd, buf, 1, 0) == 1, "pread");
  say("private copy: reads \"%.5s\", file keeps '%c'", priv, buf[0]);
  // Shrinking the file zeroes the rest of its last page, as seen through the mapping.
  p[PAGE + 100] = 'y';
  check(ftruncate(fd, PAGE + 10) == 0, "ftruncate shrink");
  say("after shrinking to %d bytes: byte %d reads %d, byte 5 reads '%c'", PAGE + 10, PAGE + 100, p[PAGE + 100], p[PAGE + 5]);
  struct stat st;
  check(fstat(fd, &st) == 0, "fstat");
  say("size %lld", (long long)st.st_size);
  // A read-only descriptor's shared mapping can never be made writable.
  int ro = shm_open(name, O_RDONLY, 0);
  check(ro >= 0, "shm_open read-only");
  char *r = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
  check(r != MAP_FAILED, "mmap read-only");
  say("mprotect(PROT_WRITE) of a shared mapping of a read-only descriptor: %s", result(mprotect(r, PAGE, PROT_READ | PROT_WRITE)));
  say("mmap(PROT_WRITE, MAP_SHARED) of a read-only descriptor: %s", mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED ? errname(errno) : "mapped");
  char *moved = mremap(r, PAGE, 2 * PAGE, MREMAP_MAYMOVE);
  check(moved != MAP_FAILED, "mremap read-only");
  say("the same after mremap: %s", result(mprotect(moved, 2 * PAGE, PROT_READ | PROT_WRITE)));
  munmap(moved, 2 * PAGE);
  close(ro);
  // Past the end of the file (beyond its last page) a mapping faults: SIGBUS; growing
  // the file again brings back zeros there.
  check(ftruncate(fd, 10) == 0, "ftruncate to 10");
  say("second page after shrinking to 10 bytes: %s", probe(p + PAGE));
  check(ftruncate(fd, 2 * PAGE) == 0, "ftruncate grow");
  say("second page after growing again: %s", probe(p + PAGE));
  munmap(priv, PAGE);
  munmap(p, 2 * PAGE);
  close(fd);
  check(shm_unlink(name) == 0, "shm_unlink");
  say("shm_open after shm_unlink: %s", shm_open(name, O_RDWR, 0) < 0 && errno == ENOENT ? "ENOENT" : "found");
}

static void named_semaphore(void) {
  char name[64];
  snprintf(name, sizeof name, "/tvisor-sem-%d", (int)getpid());
  sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
  check(s != SEM_FAILED, "sem_open");
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    sem_t *c = sem_open(name, 0);
    if (c == SEM_FAILED) _exit(2);
    if (sem_post(c) != 0 || sem_post(c) != 0) _exit(3);
    _exit(0);
  }
  int status, v = -1;
  check(waitpid(pid, &status, 0) == pid, "waitpid");
  say("semaphore child exit status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  check(sem_getvalue(s, &v) == 0, "sem_getvalue");
  say("value after the child's two posts: %d", v);
  check(sem_wait(s) == 0, "sem_wait");
  check(sem_trywait(s) == 0, "sem_trywait");
  say("sem_trywait on zero: %s", sem_trywait(s) < 0 && errno == EAGAIN ? "EAGAIN" : "taken");
  check(sem_close(s) == 0, "sem_close");
  check(sem_unlink(name) == 0, "sem_unlink");
}

static void memfd(void) {
  int fd = memfd_create("tvisor-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  check(fd >= 0, "memfd_create");
  say("memfd close-on-exec: %s", fcntl(fd, F_GETFD) == FD_CLOEXEC ? "yes" : "no");
  check(write(fd, "memfd data", 10) == 10, "write memfd");
  char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  check(p != MAP_FAILED, "mmap memfd");
  say("memfd through the mapping: \"%.10s\"", p);
  memcpy(p, "MEMFD", 5);
  char buf[16] = {0};
  check(pread(fd, buf, 10, 0) == 10, "pread memfd");
  say("memfd read() after a store: \"%s\"", buf);
  char path[64], link[256];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, link, sizeof link - 1);
  check(n > 0, "readlink");
  link[n] = 0;
  say("fd link: %s", link);
  struct stat st;
  check(fstat(fd, &st) == 0, "fstat memfd");
  say("memfd mode %o size %lld", st.st_mode, (long long)st.st_size);
  say("seals: %d", fcntl(fd, F_GET_SEALS));
  check(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0, "F_ADD_SEALS");
  say("seals: %d", fcntl(fd, F_GET_SEALS));
  say("shrink when sealed: %s", ftruncate(fd, 0) < 0 && errno == EPERM ? "EPERM" : "done");
  say("grow when sealed: %s", pwrite(fd, "x", 1, 100000) < 0 && errno == EPERM ? "EPERM" : "done");
  say("write inside when sealed: %zd", pwrite(fd, "m", 1, 0));
  munmap(p, PAGE);
  // F_SEAL_WRITE while a writable shared mapping exists: EBUSY.
  p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  check(p != MAP_FAILED, "mmap memfd again");
  say("F_SEAL_WRITE while mapped writable: %s", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) < 0 && errno == EBUSY ? "EBUSY" : "sealed");
  munmap(p, PAGE);
  check(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SEAL) == 0, "F_SEAL_WRITE");
  say("write when write-sealed: %s", pwrite(fd, "m", 1, 0) < 0 && errno == EPERM ? "EPERM" : "done");
  say("shared writable mmap when write-sealed: %s", mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED && errno == EPERM ? "EPERM" : "mapped");
  say("adding a seal after F_SEAL_SEAL: %s", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) < 0 && errno == EPERM ? "EPERM" : "done");
  close(fd);
  int plain = memfd_create("plain", 0);
  check(plain >= 0, "memfd_create plain");
  say("memfd without MFD_ALLOW_SEALING: seals %d, F_ADD_SEALS %s", fcntl(plain, F_GET_SEALS),
      fcntl(plain, F_ADD_SEALS, F_SEAL_GROW) < 0 && errno == EPERM ? "EPERM" : "done");
  say("memfd close-on-exec without MFD_CLOEXEC: %s", fcntl(plain, F_GETFD) == FD_CLOEXEC ? "yes" : "no");
  close(plain);
  say("memfd_create with an unknown flag: %s", memfd_create("x", 0x1000) < 0 && errno == EINVAL ? "EINVAL" : "made");
}

static void sparse(void) {
  char name[64];
  snprintf(name, sizeof name, "/dev/shm/tvisor-sparse-%d", (int)getpid());
  int fd = open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
  check(fd >= 0, "open sparse");
  unlink(name);
  check(ftruncate(fd, 1LL << 30) == 0, "ftruncate 1 GiB");
  struct stat st;
  check(fstat(fd, &st) == 0, "fstat");
  say("1 GiB sparse file: size %lld, blocks %lld", (long long)st.st_size, (long long)st.st_blocks);
  check(pwrite(fd, "x", 1, 512LL << 20) == 1, "pwrite middle");
  check(fstat(fd, &st) == 0, "fstat");
  say("after one byte written: blocks %lld", (long long)st.st_blocks);
  char c = 1;
  check(pread(fd, &c, 1, 100LL << 20) == 1, "pread hole");
  say("a hole reads %d", c);
  char *p = mmap(NULL, 1LL << 30, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  check(p != MAP_FAILED, "mmap 1 GiB");
  say("through a 1 GiB mapping: '%c' at 512 MiB, %d at 900 MiB", p[512LL << 20], p[900LL << 20]);
  check(fstat(fd, &st) == 0, "fstat");
  say("after reading a hole through the mapping: blocks > 8: %s", st.st_blocks > 8 ? "yes" : "no");
  munmap(p, 1LL << 30);
  char *q = mmap(NULL, 1LL << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  check(q != MAP_FAILED, "mmap 1 GiB private");
  say("through a 1 GiB private mapping: '%c' at 512 MiB, %d at 700 MiB", q[512LL << 20], q[700LL << 20]);
  munmap(q, 1LL << 30);
  close(fd);
}

int main(void) {
  dev_shm();
  shm_between_processes();
  named_semaphore();
  memfd();
  sparse();
  say("done");
  return 0;
}
