/*
 * rlimits: resource limits that are enforced, not only stored. RLIMIT_NOFILE (EMFILE,
 * dup2 beyond it), RLIMIT_FSIZE (short write at the limit, then SIGXFSZ and EFBIG;
 * ftruncate; the default action kills, without a core bit under RLIMIT_CORE 0),
 * RLIMIT_AS and RLIMIT_DATA (mmap and brk ENOMEM), RLIMIT_STACK (reported, inherited
 * across fork and exec), and, as an unprivileged user (setuid 65534 in a child),
 * RLIMIT_NPROC (fork EAGAIN) and the nice rules of setpriority (EACCES to lower without
 * RLIMIT_NICE, EPERM on another user's process, ESRCH). Argument `stack` (or `dir` with a
 * writable directory) selects what the exec'd child does.
 */
#include "common.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>

static volatile sig_atomic_t xfsz;
static void on_xfsz(int s) { (void)s; xfsz++; }

/* deep uses about `kib` KiB of stack, recursing 1 KiB at a time. */
static unsigned long deep(int kib) {
  volatile char frame[1000];
  frame[0] = (char)kib;
  frame[999] = 1;
  if (kib <= 1) return frame[0] + frame[999];
  return deep(kib - 1) + frame[999];
}

static void lim(int res, rlim_t soft, const char *what) {
  struct rlimit rl;
  if (getrlimit(res, &rl) != 0) fail("getrlimit");
  rl.rlim_cur = soft;
  if (soft != RLIM_INFINITY && rl.rlim_max != RLIM_INFINITY && soft > rl.rlim_max) rl.rlim_cur = rl.rlim_max;
  if (setrlimit(res, &rl) != 0) fail(what);
}

static void nofile(void) {
  pid_t p = fork();
  if (p < 0) fail("fork");
  if (p == 0) {
    lim(RLIMIT_NOFILE, 16, "setrlimit NOFILE");
    int last = -1, e = 0;
    for (int i = 0; i < 32; i++) {
      int fd = open("/dev/null", O_RDONLY);
      if (fd < 0) {
        e = errno;
        break;
      }
      last = fd;
    }
    say("NOFILE 16: highest fd opened %d, then %s", last, errname(e));
    int r = dup2(0, 16);
    say("dup2 to fd 16: %d %s", r, errname(r < 0 ? errno : 0));
    _exit(0);
  }
  int st;
  waitpid(p, &st, 0);
}

static void fsize(const char *dir) {
  char path[512];
  snprintf(path, sizeof path, "%s/rlimits-fsize", dir);
  int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
  if (fd < 0) fail("open fsize file");
  char buf[8192];
  memset(buf, 'x', sizeof buf);
  signal(SIGXFSZ, SIG_IGN);
  lim(RLIMIT_FSIZE, 4096, "setrlimit FSIZE");
  ssize_t r = write(fd, buf, 4000);
  say("FSIZE 4096, ignored SIGXFSZ: write 4000: %zd", r);
  r = write(fd, buf, 200);
  say("write 200 more: %zd (short, up to the limit)", r);
  r = write(fd, buf, 1);
  say("write at the limit: %zd %s", r, errname(r < 0 ? errno : 0));
  r = pwrite(fd, buf, 10, 5000);
  say("pwrite past the limit: %zd %s", r, errname(r < 0 ? errno : 0));
  int t = ftruncate(fd, 8192);
  say("ftruncate past the limit: %d %s", t, errname(t < 0 ? errno : 0));
  t = ftruncate(fd, 100);
  say("ftruncate within: %d", t);
  /* copy_file_range and fallocate are held to the limit too. */
  char src[512];
  snprintf(src, sizeof src, "%s/rlimits-fsize-src", dir);
  int sfd = open(src, O_CREAT | O_TRUNC | O_RDWR, 0600);
  if (sfd < 0 || write(sfd, buf, 4000) != 4000) fail("source file");
  loff_t in = 0, out = 2000;
  r = copy_file_range(sfd, &in, fd, &out, 4000, 0);
  say("copy_file_range of 4000 at 2000: %zd (short, up to the limit)", r);
  in = 0;
  out = 4096;
  r = copy_file_range(sfd, &in, fd, &out, 10, 0);
  say("copy_file_range at the limit: %zd %s", r, errname(r < 0 ? errno : 0));
  t = fallocate(fd, 0, 0, 8192);
  say("fallocate past the limit: %d %s", t, errname(t < 0 ? errno : 0));
  t = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 8192);
  say("fallocate KEEP_SIZE past the limit: %d %s", t, errname(t < 0 ? errno : 0));
  close(sfd);
  unlink(src);
  t = ftruncate(fd, 100);
  struct sigaction sa = {0};
  sa.sa_handler = on_xfsz;
  sigaction(SIGXFSZ, &sa, NULL);
  r = pwrite(fd, buf, 1, 4096);
  say("with a handler: pwrite at the limit: %zd %s, SIGXFSZ caught %d", r, errname(r < 0 ? errno : 0), (int)xfsz);
  pid_t p = fork();
  if (p < 0) fail("fork");
  if (p == 0) {
    signal(SIGXFSZ, SIG_DFL);
    lim(RLIMIT_CORE, 0, "setrlimit CORE");
    if (pwrite(fd, buf, 1, 4096) < 0) _exit(9);
    _exit(0);
  }
  int st;
  waitpid(p, &st, 0);
  say("default action: child %s %s, core bit %d", WIFSIGNALED(st) ? "killed by" : "exited",
      WIFSIGNALED(st) ? (WTERMSIG(st) == SIGXFSZ ? "SIGXFSZ" : "?") : "?", WIFSIGNALED(st) ? (WCOREDUMP(st) ? 1 : 0) : -1);
  lim(RLIMIT_FSIZE, RLIM_INFINITY, "setrlimit FSIZE back");
  signal(SIGXFSZ, SIG_DFL);
  close(fd);
  unlink(path);
}

static void vm(void) {
  pid_t p = fork();
  if (p < 0) fail("fork");
  if (p == 0) {
    lim(RLIMIT_AS, 512UL << 20, "setrlimit AS");
    void *m = mmap(NULL, 1UL << 30, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    say("AS 512 MiB: mmap 1 GiB: %s", m == MAP_FAILED ? errname(errno) : "mapped");
    m = mmap(NULL, 16UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    say("mmap 16 MiB: %s", m == MAP_FAILED ? errname(errno) : "mapped");
    void *cur = sbrk(0);
    void *b = sbrk(1L << 30);
    say("sbrk 1 GiB: %s, break unchanged: %s", b == (void *)-1 ? errname(errno) : "grown", sbrk(0) == cur ? "yes" : "no");
    lim(RLIMIT_AS, RLIM_INFINITY, "setrlimit AS back");
    lim(RLIMIT_DATA, 64UL << 20, "setrlimit DATA");
    m = mmap(NULL, 128UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    say("DATA 64 MiB: private writable mmap 128 MiB: %s", m == MAP_FAILED ? errname(errno) : "mapped");
    m = mmap(NULL, 128UL << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    say("read-only mmap 128 MiB: %s", m == MAP_FAILED ? errname(errno) : "mapped");
    _exit(0);
  }
  int st;
  waitpid(p, &st, 0);
}

static void stack(const char *self) {
  lim(RLIMIT_STACK, 16UL << 20, "setrlimit STACK");
  struct rlimit rl;
  getrlimit(RLIMIT_STACK, &rl);
  say("STACK set to 16 MiB: getrlimit %lu MiB", (unsigned long)(rl.rlim_cur >> 20));
  pid_t p = fork();
  if (p < 0) fail("fork");
  if (p == 0) {
    execl(self, self, "stack", (char *)NULL);
    _exit(127);
  }
  int st;
  waitpid(p, &st, 0);
  say("exec'd child exit: %d", WEXITSTATUS(st));
  lim(RLIMIT_STACK, 8UL << 20, "setrlimit STACK back");
  /* Under the 8 MiB default the same depth overflows the stack: SIGSEGV. */
  p = fork();
  if (p < 0) fail("fork");
  if (p == 0) {
    lim(RLIMIT_CORE, 0, "setrlimit CORE");
    execl(self, self, "deep", (char *)NULL);
    _exit(127);
  }
  waitpid(p, &st, 0);
  say("12 MiB deep under STACK 8 MiB: %s", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "survived");
}

static void unprivileged(void) {
  pid_t parent = getpid();
  pid_t p = fork();
  if (p < 0) fail("fork");
  if (p == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) fail("setuid 65534");
    int r = setpriority(PRIO_PROCESS, 0, 10);
    errno = 0;
    int prio = getpriority(PRIO_PROCESS, 0);
    say("as uid 65534: setpriority(10): %d, getpriority: %d", r, prio);
    r = setpriority(PRIO_PROCESS, 0, 15);
    say("raise nice to 15: %d", r);
    r = setpriority(PRIO_PROCESS, 0, 5);
    say("lower nice to 5 (RLIMIT_NICE 0): %d %s", r, errname(r < 0 ? errno : 0));
    r = setpriority(PRIO_PROCESS, parent, 19);
    say("setpriority of root's process: %d %s", r, errname(r < 0 ? errno : 0));
    errno = 0;
    r = getpriority(PRIO_PROCESS, 999999);
    say("getpriority of no process: %d %s", r, errname(errno));
    r = setpriority(7, 0, 0);
    say("setpriority(which 7): %d %s", r, errname(r < 0 ? errno : 0));
    pid_t c = fork();
    if (c == 0) {
      errno = 0;
      say("forked child inherits nice: %d", getpriority(PRIO_PROCESS, 0));
      _exit(0);
    }
    waitpid(c, NULL, 0);

    lim(RLIMIT_NPROC, 1, "setrlimit NPROC");
    c = fork();
    if (c == 0) _exit(0);
    say("NPROC 1 as uid 65534: fork: %s", c < 0 ? errname(errno) : "forked");
    if (c > 0) waitpid(c, NULL, 0);
    _exit(0);
  }
  int st;
  waitpid(p, &st, 0);
  say("unprivileged child exit: %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "stack") == 0) {
    struct rlimit rl;
    getrlimit(RLIMIT_STACK, &rl);
    say("exec'd child sees STACK %lu MiB", (unsigned long)(rl.rlim_cur >> 20));
    /* The stack may grow to the limit: 12 MiB of it is fine under 16 MiB. */
    say("12 MiB deep on the stack: sum %lu", deep(12 << 10));
    return 0;
  }
  if (argc > 1 && strcmp(argv[1], "deep") == 0) {
    deep(12 << 10);
    return 0;
  }
  nofile();
  fsize(argc > 1 ? argv[1] : "/tmp");
  vm();
  stack(argv[0]);
  unprivileged();
  say("done");
  return 0;
}
