/*
 * mmops: the VMA operations beyond mmap/munmap/mprotect: mremap (grow in place or moved,
 * MREMAP_FIXED, MREMAP_DONTUNMAP, shrink, a shared mapping moved, the error cases),
 * madvise (DONTNEED on private and shared memory, REMOVE, DONTFORK seen by a child,
 * hints, the error cases), mincore before and after touching, and mlock/mlock2/mlockall
 * under a lowered RLIMIT_MEMLOCK without CAP_IPC_LOCK (VmLck in /proc/self/status).
 */
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#define PG 4096UL

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif

static char *map(size_t len, int prot, int flags) {
  char *p = mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);
  check(p != MAP_FAILED, "mmap");
  return p;
}

/* pattern tells whether the n pages at p hold the byte (i + seed) at page i's start and end. */
static int pattern(const char *p, size_t n, int seed) {
  for (size_t i = 0; i < n; i++)
    if (p[i * PG] != (char)(i + seed) || p[i * PG + PG - 1] != (char)(i + seed)) return 0;
  return 1;
}

static void fill(char *p, size_t n, int seed) {
  for (size_t i = 0; i < n; i++) p[i * PG] = p[i * PG + PG - 1] = (char)(i + seed);
}

static int zeros(const char *p, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (p[i]) return 0;
  return 1;
}

/* resident counts the pages mincore reports resident in [p, p + n pages). */
static int resident(void *p, size_t n) {
  unsigned char v[256];
  check(n <= sizeof(v), "mincore vector");
  check(mincore(p, n * PG, v) == 0, "mincore");
  int r = 0;
  for (size_t i = 0; i < n; i++) r += v[i] & 1;
  return r;
}

static const char *err(long rc) { return rc == -1 ? errname(errno) : "0"; }

/* child_status runs fn in a child and describes how it ended. */
static const char *child_status(void (*fn)(void *), void *arg) {
  static char buf[64];
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    fn(arg);
    _exit(0);
  }
  int st;
  check(waitpid(pid, &st, 0) == pid, "waitpid");
  if (WIFSIGNALED(st)) snprintf(buf, sizeof(buf), "killed by %s", sigabbrev_np(WTERMSIG(st)));
  else snprintf(buf, sizeof(buf), "exit %d", WEXITSTATUS(st));
  return buf;
}


static void test_mremap(void) {
  /* Grow with MAYMOVE: the bytes follow, the new tail reads zeros. */
  char *a = map(4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  fill(a, 4, 1);
  char *b = mremap(a, 4 * PG, 64 * PG, MREMAP_MAYMOVE);
  check(b != MAP_FAILED, "mremap grow");
  say("mremap grow to 64 pages: bytes kept %s, tail zero %s", pattern(b, 4, 1) ? "yes" : "no", zeros(b + 4 * PG, 60 * PG) ? "yes" : "no");
  /* Shrink in place: same address, the cut pages are gone. */
  char *c = mremap(b, 64 * PG, 16 * PG, 0);
  say("mremap shrink: same address %s, cut page mapped: %s", c == b ? "yes" : "no", err(msync(b + 32 * PG, PG, MS_ASYNC)));
  /* MREMAP_FIXED into a reserved hole: the old range goes away. */
  char *hole = map(64 * PG, PROT_NONE, MAP_PRIVATE);
  char *d = mremap(c, 16 * PG, 16 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, hole + 16 * PG);
  say("mremap FIXED: at the target %s, bytes kept %s, old range: %s", d == hole + 16 * PG ? "yes" : "no", pattern(d, 4, 1) ? "yes" : "no",
      err(msync(c, PG, MS_ASYNC)));
  /* A 64 KiB aligned move of 64 touched pages (the chunks can move whole). */
  char *big = map(128 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  char *al = (char *)(((uintptr_t)big + 65535) & ~(uintptr_t)65535);
  fill(al, 32, 7);
  char *dst = map(256 * PG, PROT_NONE, MAP_PRIVATE);
  char *dal = (char *)(((uintptr_t)dst + 65535) & ~(uintptr_t)65535);
  char *m = mremap(al, 32 * PG, 32 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dal);
  say("mremap FIXED, 64 KiB aligned: bytes kept %s, neighbours intact %s", m == dal && pattern(m, 32, 7) ? "yes" : "no",
      zeros(big, (size_t)(al - big)) && zeros(al + 32 * PG, (size_t)(big + 128 * PG - al - 32 * PG)) ? "yes" : "no");
  /* MREMAP_DONTUNMAP: the old range stays mapped and reads zeros. */
  char *e = map(16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  fill(e, 16, 3);
  char *f = mremap(e, 16 * PG, 16 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
  check(f != MAP_FAILED, "mremap DONTUNMAP");
  say("mremap DONTUNMAP: moved %s, bytes kept %s, old range mapped and zero %s", f != e ? "yes" : "no", pattern(f, 16, 3) ? "yes" : "no",
      zeros(e, 16 * PG) ? "yes" : "no");
  e[5] = 9;
  say("  the old range is fresh memory: write ok, new copy unchanged %s", pattern(f, 16, 3) ? "yes" : "no");
  /* A shared mapping moved stays shared with a child. */
  char *s = map(4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED);
  s[0] = 1;
  char *s2 = mremap(s, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, hole + 40 * PG);
  check(s2 != MAP_FAILED, "mremap shared");
  pid_t pid = fork();
  if (pid == 0) {
    s2[0] = 42;
    s2[3 * PG] = 43;
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  say("mremap of a shared mapping: still shared %s", s2[0] == 42 && s2[3 * PG] == 43 ? "yes" : "no");
  /* The error cases. */
  errno = 0;
  say("mremap errors: FIXED without MAYMOVE %s, DONTUNMAP without MAYMOVE %s, DONTUNMAP resizing %s",
      err((long)mremap(f, 16 * PG, 16 * PG, MREMAP_FIXED, hole)), err((long)mremap(f, 16 * PG, 16 * PG, MREMAP_DONTUNMAP, NULL)),
      err((long)mremap(f, 16 * PG, 32 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL)));
  char *gone = map(PG, PROT_READ, MAP_PRIVATE);
  munmap(gone, PG);
  say("  unaligned %s, unmapped %s, zero length %s, overlapping FIXED %s, unknown flag %s", err((long)mremap(f + 1, PG, PG, 0)),
      err((long)mremap(gone, PG, 2 * PG, MREMAP_MAYMOVE)), err((long)mremap(f, 16 * PG, 0, 0)),
      err((long)mremap(f, 16 * PG, 16 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, f + 4 * PG)), err((long)mremap(f, PG, PG, 64)));
  char *fence = map(2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  munmap(fence + PG, PG);
  check(mmap(fence + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED, "fence");
  say("  growing against a neighbour without MAYMOVE %s", err((long)mremap(fence, PG, 2 * PG, 0)));
}

static void touch_dontfork(void *p) {
  _exit(*(volatile char *)p == 5 ? 0 : 1);
}

static void test_madvise(void) {
  char *p = map(32 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  fill(p, 32, 1);
  check(madvise(p + 4 * PG, 20 * PG, MADV_DONTNEED) == 0, "DONTNEED");
  say("MADV_DONTNEED private: range zero %s, neighbours kept %s", zeros(p + 4 * PG, 20 * PG) ? "yes" : "no",
      pattern(p, 4, 1) && pattern(p + 24 * PG, 8, 25) ? "yes" : "no");
  fill(p, 32, 2);
  say("  written again: %s", pattern(p, 32, 2) ? "yes" : "no");
  /* After a fork the child's DONTNEED leaves the parent's pages. */
  pid_t pid = fork();
  if (pid == 0) {
    madvise(p, 32 * PG, MADV_DONTNEED);
    _exit(zeros(p, 32 * PG) ? 0 : 1);
  }
  int st;
  waitpid(pid, &st, 0);
  say("  in a child after fork: child reads zeros %s, parent keeps its bytes %s", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no",
      pattern(p, 32, 2) ? "yes" : "no");
  /* Shared: only this process's mapping goes; the memory keeps the bytes. */
  char *s = map(8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED);
  fill(s, 8, 4);
  check(madvise(s, 8 * PG, MADV_DONTNEED) == 0, "DONTNEED shared");
  say("MADV_DONTNEED shared: bytes kept %s", pattern(s, 8, 4) ? "yes" : "no");
  check(madvise(s + 2 * PG, 2 * PG, MADV_REMOVE) == 0, "REMOVE");
  say("MADV_REMOVE shared: hole zero %s, rest kept %s", zeros(s + 2 * PG, 2 * PG) ? "yes" : "no",
      pattern(s, 2, 4) && pattern(s + 4 * PG, 4, 8) ? "yes" : "no");
  say("  MADV_REMOVE on private anonymous memory: %s", err(madvise(p, PG, MADV_REMOVE)));
  /* MADV_FREE: the bytes may stay until memory is short (Linux) or go at once (here): only the result is printed. */
  char *scratch = map(4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  scratch[0] = 1;
  say("MADV_FREE: %s", err(madvise(scratch, 4 * PG, MADV_FREE)));
  /* DONTFORK: the child does not get the range; DOFORK gives it back. */
  char *d = map(4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  d[PG] = 5;
  check(madvise(d, 4 * PG, MADV_DONTFORK) == 0, "DONTFORK");
  say("MADV_DONTFORK: child touching the range: %s; parent still reads it %s", child_status(touch_dontfork, d + PG), d[PG] == 5 ? "yes" : "no");
  check(madvise(d, 4 * PG, MADV_DOFORK) == 0, "DOFORK");
  say("MADV_DOFORK: child touching the range: %s", child_status(touch_dontfork, d + PG));
  int hints[] = {MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP};
  int ok = 0;
  for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) ok += madvise(p, 32 * PG, hints[i]) == 0;
  say("hints accepted: %d of 8, bytes kept %s", ok, pattern(p, 32, 2) ? "yes" : "no");
  char *gone = map(PG, PROT_READ, MAP_PRIVATE);
  munmap(gone, PG);
  say("madvise errors: unknown advice %s, unaligned %s, unmapped %s, zero length %s", err(madvise(p, PG, 999)), err(madvise(p + 1, PG, MADV_NORMAL)),
      err(madvise(gone, PG, MADV_DONTNEED)), err(madvise(gone, 0, MADV_DONTNEED)));
}

static void test_mincore(void) {
  char *p = map(32 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  say("mincore of a fresh mapping: %d resident", resident(p, 32));
  p[0] = 1;
  unsigned char v[32];
  check(mincore(p, 32 * PG, v) == 0, "mincore");
  say("after touching page 0: page 0 %d, page 31 %d", v[0] & 1, v[31] & 1);
  madvise(p, 32 * PG, MADV_DONTNEED);
  say("after MADV_DONTNEED: %d resident", resident(p, 32));
  char *gone = map(PG, PROT_READ, MAP_PRIVATE);
  munmap(gone, PG);
  say("mincore errors: unaligned %s, unmapped %s, bad vector %s", err(mincore(p + 1, PG, v)), err(mincore(gone, PG, v)),
      err(mincore(p, PG, (unsigned char *)8)));
}

/* vmlck reads VmLck (kB) from /proc/self/status. */
static long vmlck(void) {
  char buf[4096];
  int fd = open("/proc/self/status", O_RDONLY);
  check(fd >= 0, "open status");
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  check(n > 0, "read status");
  buf[n] = 0;
  char *l = strstr(buf, "VmLck:");
  return l ? strtol(l + 6, NULL, 10) : -1;
}

static void mlock_child(void *arg) {
  (void)arg;
  /* Without CAP_IPC_LOCK RLIMIT_MEMLOCK applies (root has it natively). */
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  check(syscall(SYS_capget, &h, d) == 0, "capget");
  d[0].effective &= ~(1u << CAP_IPC_LOCK);
  check(syscall(SYS_capset, &h, d) == 0, "capset");
  struct rlimit rl = {16 * PG, 16 * PG};
  check(setrlimit(RLIMIT_MEMLOCK, &rl) == 0, "setrlimit");
  char *p = map(32 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  /* Each call in its own statement: the order matters (arguments have none). */
  const char *r1 = err(mlock(p, 8 * PG));
  say("mlock of 8 pages: %s, resident %d, VmLck %ld kB", r1, resident(p, 8), vmlck());
  const char *r2 = err(mlock(p + 8 * PG, 8 * PG));
  const char *r3 = err(mlock(p + 16 * PG, PG));
  say("mlock of 8 more: %s, 1 more past the limit: %s", r2, r3);
  const char *r4 = err(mlock(p, 16 * PG));
  say("relocking a locked range: %s, VmLck %ld kB", r4, vmlck());
  const char *r5 = err(munlock(p, 4 * PG));
  long l5 = vmlck();
  const char *r6 = err(syscall(SYS_mlock2, p + 20 * PG, 4 * PG, MLOCK_ONFAULT));
  const char *r7 = err(syscall(SYS_mlock2, p, PG, 2));
  say("munlock of 4: %s, VmLck %ld kB, mlock2 ONFAULT of 4: %s, bad flags %s, VmLck %ld kB", r5, l5, r6, r7, vmlck());
  say("MADV_DONTNEED on locked pages: %s", err(madvise(p + 8 * PG, PG, MADV_DONTNEED)));
  const char *r8 = err(mlockall(MCL_CURRENT));
  const char *r9 = err(munlockall());
  say("mlockall(MCL_CURRENT) past the limit: %s, munlockall: %s, VmLck %ld kB", r8, r9, vmlck());
  const char *f1 = err(mlockall(MCL_FUTURE));
  char *q = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  long lq = vmlck();
  int rq = q == MAP_FAILED ? -1 : resident(q, 4);
  void *q2 = mmap(NULL, 32 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  const char *f2 = q2 == MAP_FAILED ? errname(errno) : "mapped";
  const char *f3 = err(munlockall());
  void *q3 = mmap(NULL, 32 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  say("mlockall(MCL_FUTURE): %s; a later 4-page mmap: VmLck %ld kB, resident %d; a 32-page one: %s; munlockall %s, then: %s, VmLck %ld kB",
      f1, lq, rq, f2, f3, q3 == MAP_FAILED ? errname(errno) : "mapped", vmlck());
  char *gone = map(PG, PROT_READ, MAP_PRIVATE);
  munmap(gone, PG);
  say("mlock of an unmapped page: %s", err(mlock(gone, PG)));
  check(mlock(p, 4 * PG) == 0, "mlock before fork");
  pid_t pid = fork();
  if (pid == 0) _exit(vmlck() == 0 ? 0 : 1);
  int st;
  waitpid(pid, &st, 0);
  say("a fork's child inherits no locks: %s", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
  rl.rlim_cur = rl.rlim_max = 0;
  check(setrlimit(RLIMIT_MEMLOCK, &rl) == 0, "setrlimit 0");
  const char *r10 = err(mlock(p + 28 * PG, PG));
  say("with RLIMIT_MEMLOCK 0: mlock %s, mlockall %s", r10, err(mlockall(MCL_CURRENT)));
}

int main(void) {
  test_mremap();
  test_madvise();
  test_mincore();
  say("mlock child: %s", child_status(mlock_child, NULL));
  say("done");
  return 0;
}
