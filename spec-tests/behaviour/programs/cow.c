/*
 * cow: fork gives the child a private copy of its parent's memory, whatever shares pages
 * underneath until one side writes (copy-on-write). The parent touches 64 MiB, forks
 * children that each write a different page and check that the rest is unchanged; a child
 * forks a grandchild; vfork and posix_spawn still share or replace memory; a MAP_PRIVATE
 * file mapping, a signal frame on a fresh alternate stack and a read(2) into a buffer are
 * all stores into pages shared since the fork. With the argument "exit7": exit 7.
 */
#include "common.h"
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/mman.h>

extern char **environ;

#define PAGE 4096
#define BIG (64UL << 20)
#define PAGES (BIG / PAGE)
#define CHILDREN 4

static unsigned char *big;

/* word is the value the parent stores at the start of page i. */
static uint64_t word(size_t i) { return 0x9e3779b97f4a7c15ULL * (i + 1); }

/* changed counts the pages of big whose first word is not the parent's, except `skip`. */
static size_t changed(size_t skip) {
  size_t n = 0;
  for (size_t i = 0; i < PAGES; i++)
    if (i != skip && *(uint64_t *)(big + i * PAGE) != word(i)) n++;
  return n;
}

/* wait_exit waits for pid and returns its exit code (or 128 + signal). */
static int wait_exit(pid_t pid) {
  int st;
  check(waitpid(pid, &st, 0) == pid, "waitpid");
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void children_write_pages(void) {
  pid_t pids[CHILDREN];
  for (int k = 0; k < CHILDREN; k++) {
    pids[k] = fork();
    check(pids[k] >= 0, "fork");
    if (pids[k] == 0) {
      size_t mine = (size_t)k * 4099 + 7;
      *(uint64_t *)(big + mine * PAGE) = 1000 + k;
      _exit(changed(mine) == 0 && *(uint64_t *)(big + mine * PAGE) == (uint64_t)(1000 + k) ? 0 : 1);
    }
  }
  int ok = 0;
  for (int k = 0; k < CHILDREN; k++) ok += wait_exit(pids[k]) == 0;
  say("%d children each wrote one page: %d saw the rest unchanged", CHILDREN, ok);
  say("the parent's 64 MiB after them: %zu pages changed", changed(PAGES));
}

static void grandchild(void) {
  unsigned char *a = big + 100 * PAGE, *b = big + 200 * PAGE;
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    a[8] = 'c'; /* before the second fork: the grandchild sees it */
    pid_t g = fork();
    if (g < 0) _exit(9);
    if (g == 0) {
      b[8] = 'g';
      _exit(a[8] == 'c' ? 0 : 1);
    }
    a[9] = 'C'; /* after: the grandchild does not */
    int code = wait_exit(g);
    _exit(code == 0 && b[8] != 'g' && a[9] == 'C' ? 0 : 2 + code);
  }
  say("child forks a grandchild: exit %d", wait_exit(c));
  say("  parent sees neither: %s", a[8] != 'c' && a[9] != 'C' && b[8] != 'g' ? "yes" : "no");
}

static volatile int vfork_seen;

static void vfork_and_spawn(void) {
  big[3 * PAGE + 16] = 'p';
  pid_t c = vfork();
  check(c >= 0, "vfork");
  if (c == 0) {
    vfork_seen = 5;
    big[3 * PAGE + 16] = 'v';
    _exit(4);
  }
  int code = wait_exit(c);
  say("vfork child (after forks): exit %d, the parent sees its writes: %s", code, vfork_seen == 5 && big[3 * PAGE + 16] == 'v' ? "yes" : "no");
  pid_t p;
  char *self[] = {"/prog", "exit7", NULL};
  int r = posix_spawn(&p, "/proc/self/exe", NULL, NULL, self, environ);
  say("posix_spawn of itself: %s", errname(r));
  if (r == 0) say("  spawned child: exit %d", wait_exit(p));
}

static void private_file(void) {
  int fd = open("/proc/self/exe", O_RDONLY);
  check(fd >= 0, "open /proc/self/exe");
  unsigned char orig[2 * PAGE];
  check(pread(fd, orig, sizeof(orig), 0) == (ssize_t)sizeof(orig), "pread");
  unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  check(m != MAP_FAILED, "mmap");
  m[100] = 'P';
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    m[0] = 'C';
    m[PAGE + 1] = 'C';
    unsigned char now[4];
    if (pread(fd, now, 4, 0) != 4) _exit(9);
    _exit(m[100] == 'P' && m[0] == 'C' && memcmp(now, orig, 4) == 0 ? 0 : 1);
  }
  int code = wait_exit(c);
  say("MAP_PRIVATE file mapping, child writes: exit %d; parent keeps its copy: %s", code,
      m[100] == 'P' && m[0] == orig[0] && m[PAGE + 1] == orig[PAGE + 1] ? "yes" : "no");
  munmap(m, 2 * PAGE);
  close(fd);
}

static volatile sig_atomic_t handled;
static void on_usr1(int sig) {
  (void)sig;
  handled++;
}

static void signal_frame(void) {
  /* A fresh alternate stack, filled by the parent: the child's signal frame is the first store into it. */
  size_t len = 256 * 1024;
  unsigned char *alt = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(alt != MAP_FAILED, "mmap");
  memset(alt, 0x5a, len);
  stack_t ss = {.ss_sp = alt, .ss_size = len};
  check(sigaltstack(&ss, NULL) == 0, "sigaltstack");
  struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_ONSTACK};
  check(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    raise(SIGUSR1);
    _exit(handled == 1 ? 0 : 1);
  }
  int code = wait_exit(c);
  size_t dirty = 0;
  for (size_t i = 0; i < len; i++) dirty += alt[i] != 0x5a;
  say("signal right after fork, frame on the alternate stack: child exit %d, parent's stack bytes changed: %zu", code, dirty);
  ss.ss_flags = SS_DISABLE;
  check(sigaltstack(&ss, NULL) == 0, "sigaltstack off");
  signal(SIGUSR1, SIG_DFL);
  munmap(alt, len);
}

static void read_into(void) {
  size_t len = 128 * 1024;
  unsigned char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(buf != MAP_FAILED, "mmap");
  memset(buf, 'P', len);
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    int fds[2];
    if (pipe(fds) != 0) _exit(9);
    if (write(fds[1], "from the pipe", 13) != 13) _exit(9);
    /* The kernel's copy-out is the first store into these pages in the child. */
    if (read(fds[0], buf + 70000, 13) != 13) _exit(9);
    _exit(memcmp(buf + 70000, "from the pipe", 13) == 0 && buf[69999] == 'P' ? 0 : 1);
  }
  int code = wait_exit(c);
  size_t dirty = 0;
  for (size_t i = 0; i < len; i++) dirty += buf[i] != 'P';
  say("read() into a buffer shared since the fork: child exit %d, parent's bytes changed: %zu", code, dirty);
  munmap(buf, len);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "exit7") == 0) return 7;
  big = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(big != MAP_FAILED, "mmap 64 MiB");
  for (size_t i = 0; i < PAGES; i++) *(uint64_t *)(big + i * PAGE) = word(i);
  children_write_pages();
  grandchild();
  vfork_and_spawn();
  private_file();
  signal_frame();
  read_into();
  say("the parent's 64 MiB at the end: %zu pages changed", changed(3));
  say("done");
  return 0;
}
