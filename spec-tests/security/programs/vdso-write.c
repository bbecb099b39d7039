/*
 * vdso-write.c: one process cannot change another's vDSO or its clock data. The vDSO's
 * text and data page are shared by every process of a tvisor sandbox (one copy in the
 * memory file); Linux shares them too, copying the text on write. A child tries every
 * way it has to write them: a plain store into [vdso] and [vvar] (SIGSEGV), mprotect to
 * writable and a store (Linux copies the page for the child alone; tvisor refuses the
 * mprotect), an mremap of each to a new place and a store there, and MAP_FIXED over them
 * with its own bytes. Then the parent's [vdso] must hold the bytes it had, and its clock
 * must still agree with the syscall. Only those outcomes are printed (how each attempt
 * ended differs between kernels and is not).
 */
#define _GNU_SOURCE
#include "../../behaviour/programs/common.h"
#include <setjmp.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

static sigjmp_buf jump;
static void on_segv(int sig) { siglongjmp(jump, sig); }

/* poke stores a byte at p; it returns 1 when the store did not fault. */
static int poke(volatile unsigned char *p) {
  if (sigsetjmp(jump, 1) != 0) return 0;
  *p ^= 0xff;
  return 1;
}

/* region finds the maps line named `name` (or, with a NULL name, the one holding *start): its start and length. */
static int region(const char *name, uintptr_t *start, size_t *len) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return 0;
  char line[512];
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    unsigned long a, b;
    if (sscanf(line, "%lx-%lx", &a, &b) != 2) continue;
    if (name ? strstr(line, name) != NULL : a <= *start && *start < b) {
      *start = a;
      *len = b - a;
      found = 1;
    }
  }
  fclose(f);
  return found;
}

static int64_t ns(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

int main(void) {
  uintptr_t text, data;
  size_t text_len, data_len;
  /* The image is where AT_SYSINFO_EHDR says (gVisor's maps do not name it [vdso]). */
  text = getauxval(AT_SYSINFO_EHDR);
  check(text != 0 && region(NULL, &text, &text_len) && region("[vvar]", &data, &data_len), "find the vDSO and [vvar]");
  unsigned char *before = malloc(text_len);
  check(before != NULL, "malloc");
  memcpy(before, (void *)text, text_len);

  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    struct sigaction sa = {.sa_handler = on_segv};
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    for (size_t off = 0; off < text_len; off += 512) poke((unsigned char *)text + off);
    poke((unsigned char *)data);
    if (mprotect((void *)text, text_len, PROT_READ | PROT_WRITE | PROT_EXEC) == 0)
      for (size_t off = 0; off < text_len; off += 512) poke((unsigned char *)text + off);
    if (mprotect((void *)data, 4096, PROT_READ | PROT_WRITE) == 0) poke((unsigned char *)data);
    void *moved = mremap((void *)text, text_len, text_len, MREMAP_MAYMOVE);
    if (moved != MAP_FAILED) {
      poke(moved);
      if (mprotect(moved, text_len, PROT_READ | PROT_WRITE) == 0) poke(moved);
    }
    moved = mremap((void *)data, 4096, 4096, MREMAP_MAYMOVE);
    if (moved != MAP_FAILED) {
      poke(moved);
      if (mprotect(moved, 4096, PROT_READ | PROT_WRITE) == 0) poke(moved);
    }
    void *over = mmap((void *)text, text_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (over != MAP_FAILED) memset(over, 0xcc, text_len);
    _exit(0);
  }
  int st;
  check(waitpid(pid, &st, 0) == pid, "waitpid");
  say("child exited: %s", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
  say("parent's [vdso] bytes unchanged: %s", memcmp(before, (void *)text, text_len) == 0 ? "yes" : "no");
  int ok = 1;
  for (int i = 0; i < 100; i++) {
    struct timespec a, s, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &s);
    clock_gettime(CLOCK_MONOTONIC, &b);
    ok &= ns(a) <= ns(s) && ns(s) <= ns(b);
  }
  say("parent's clock still agrees with the syscall: %s", ok ? "yes" : "no");
  return 0;
}
