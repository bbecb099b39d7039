/*
 * mmap: anonymous memory.
 *
 * mmap of private and shared anonymous memory (zero-filled, readable, writable), fork
 * semantics (private pages are copy-on-write, shared pages are shared), mprotect to
 * read-only and to none (a write or read faults with SIGSEGV SEGV_ACCERR, caught and
 * recovered with siglongjmp), munmap (then SEGV_MAPERR), partial munmap of the middle
 * page, MAP_FIXED over an existing mapping, mremap growth, brk, a thread-stack style
 * PROT_NONE reservation opened by mprotect, and the EINVAL cases.
 */
#include "common.h"
#include <setjmp.h>
#include <stdint.h>
#include <sys/mman.h>

static sigjmp_buf env;
static volatile sig_atomic_t fault_code;
static void *volatile fault_addr;

static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  fault_code = si->si_code;
  fault_addr = si->si_addr;
  siglongjmp(env, 1);
}

/* probe performs one read or write at p and reports "ok" or the fault it took. */
static const char *probe(volatile char *p, int write) {
  if (sigsetjmp(env, 1) == 0) {
    if (write)
      *p = 'w';
    else
      (void)*p;
    return "ok";
  }
  if (fault_addr != (void *)p) return "SIGSEGV at a wrong address";
  return fault_code == SEGV_ACCERR ? "SIGSEGV SEGV_ACCERR" : fault_code == SEGV_MAPERR ? "SIGSEGV SEGV_MAPERR" : "SIGSEGV other";
}

int main(void) {
  long page = sysconf(_SC_PAGESIZE);
  say("page size: %ld", page);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  check(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction");

  /* Private anonymous memory: zero-filled, then written. */
  size_t len = 16 * (size_t)page;
  unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(m != MAP_FAILED, "mmap");
  size_t nonzero = 0;
  for (size_t i = 0; i < len; i++) nonzero += m[i] != 0;
  say("fresh private mapping: %zu non-zero bytes, page aligned: %s", nonzero, ((uintptr_t)m % (uintptr_t)page) == 0 ? "yes" : "no");
  for (size_t i = 0; i < len; i++) m[i] = (unsigned char)(i * 13);
  size_t sum = 0;
  for (size_t i = 0; i < len; i++) sum += m[i];
  say("after writing: byte sum %zu", sum);

  /* fork: private pages are copied, shared pages are shared. */
  int *shared = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  check(shared != MAP_FAILED, "mmap shared");
  *shared = 1;
  m[0] = 1;
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    *shared = 2;
    m[0] = 2;
    _exit(0);
  }
  int st;
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("after the child wrote 2: shared page holds %d, private page holds %d", *shared, m[0]);

  /* mprotect: read-only, then none, then back. */
  check(mprotect(m, (size_t)page, PROT_READ) == 0, "mprotect");
  say("read-only page: read %s, write %s", probe((char *)m, 0), probe((char *)m, 1));
  check(mprotect(m, (size_t)page, PROT_NONE) == 0, "mprotect");
  say("PROT_NONE page: read %s, write %s", probe((char *)m, 0), probe((char *)m, 1));
  check(mprotect(m, (size_t)page, PROT_READ | PROT_WRITE) == 0, "mprotect");
  say("read-write again: write %s, value kept: %s", probe((char *)m + 1, 1), m[2] == (unsigned char)(2 * 13) ? "yes" : "no");

  /* munmap of the middle page: neighbours stay, the hole faults. */
  check(munmap(m + 4 * page, (size_t)page) == 0, "munmap");
  say("hole after munmap: read %s; neighbours: %s %s", probe((char *)m + 4 * page, 0), probe((char *)m + 3 * page, 0),
      probe((char *)m + 5 * page, 0));

  /* MAP_FIXED replaces the pages in place with fresh zero pages. */
  void *f = mmap(m + 8 * page, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  say("MAP_FIXED at the requested address: %s, content zeroed: %s", f == m + 8 * page ? "yes" : "no", m[8 * page + 5] == 0 ? "yes" : "no");

  /* mremap: grow a mapping (it may move); old content stays. */
  unsigned char *r = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(r != MAP_FAILED, "mmap");
  memset(r, 'x', (size_t)page);
  unsigned char *g = mremap(r, (size_t)page, 4 * (size_t)page, MREMAP_MAYMOVE);
  check(g != MAP_FAILED, "mremap");
  say("mremap to 4 pages: old byte %c, new bytes zero: %s", g[page - 1], g[3 * page] == 0 ? "yes" : "no");
  check(munmap(g, 4 * (size_t)page) == 0, "munmap");

  /* Unmapping everything makes the whole range fault with SEGV_MAPERR. */
  check(munmap(m, len) == 0, "munmap");
  say("after munmap of the whole range: read %s", probe((char *)m + page, 0));

  /* brk: the heap grows and the memory is usable. */
  void *cur = sbrk(0);
  check(sbrk(8 * page) == cur, "sbrk");
  memset(cur, 1, 8 * (size_t)page);
  say("sbrk of 8 pages: usable, break moved by %ld pages", (long)(((char *)sbrk(0) - (char *)cur) / page));

  /* A thread stack as glibc makes one: a PROT_NONE reservation never touched, then
   * opened up with mprotect except for a guard page at the bottom. */
  size_t stack = 2048 * (size_t)page;
  char *tstack = mmap(NULL, stack, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  check(tstack != MAP_FAILED, "mmap stack");
  check(mprotect(tstack + page, stack - page, PROT_READ | PROT_WRITE) == 0, "mprotect stack");
  tstack[stack - 1] = 7;
  say("untouched PROT_NONE reservation opened by mprotect: top byte %d, guard page: %s", tstack[stack - 1], probe(tstack, 0));
  check(munmap(tstack, stack) == 0, "munmap stack");

  /* Error cases. */
  errno = 0;
  void *bad = mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  say("mmap of length 0: %s %s", bad == MAP_FAILED ? "MAP_FAILED" : "mapped", errname(errno));
  errno = 0;
  int rc = munmap((char *)m + 1, (size_t)page);
  say("munmap of an unaligned address: %d %s", rc, errname(errno));
  errno = 0;
  rc = mprotect((char *)m + 1, (size_t)page, PROT_READ);
  say("mprotect of an unaligned address: %d %s", rc, errname(errno));
  say("done");
  return 0;
}
