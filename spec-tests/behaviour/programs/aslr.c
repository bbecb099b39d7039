/*
 * aslr.c: address-space layout randomization. The program re-executes itself (a
 * static PIE) three times and compares where each run found its stack, an anonymous
 * mmap, the program break, its own text, the interpreter (AT_BASE; none for a static
 * PIE: 0 every run) and the vDSO: with randomization each differs between runs; after
 * personality(ADDR_NO_RANDOMIZE), which exec keeps, every run agrees.
 */
#include "common.h"
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/personality.h>

#define RUNS 3
#define FIELDS 6
static const char *names[FIELDS] = {"stack", "mmap", "brk", "text", "interpreter", "vdso"};

/* report prints this run's addresses on one line. */
static int report(void) {
  int local = 0;
  void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(m != MAP_FAILED, "mmap");
  say("%lx %lx %lx %lx %lx %lx", (unsigned long)(uintptr_t)&local, (unsigned long)(uintptr_t)m, (unsigned long)(uintptr_t)sbrk(0),
      (unsigned long)(uintptr_t)&report, getauxval(AT_BASE), getauxval(AT_SYSINFO_EHDR));
  return 0;
}

/* run re-executes this program with "report" and reads back its addresses. */
static void run(const char *self, unsigned long out[FIELDS]) {
  int p[2];
  check(pipe(p) == 0, "pipe");
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    dup2(p[1], 1);
    execl(self, self, "report", (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  char buf[256];
  ssize_t n = 0, r;
  while ((r = read(p[0], buf + n, sizeof buf - 1 - (size_t)n)) > 0) n += r;
  close(p[0]);
  buf[n > 0 ? n : 0] = 0;
  int st;
  check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "report run");
  check(sscanf(buf, "%lx %lx %lx %lx %lx %lx", &out[0], &out[1], &out[2], &out[3], &out[4], &out[5]) == FIELDS, "parse report");
}

/* compare runs RUNS times and prints, per address, whether all runs agree. */
static void compare(const char *self, const char *what) {
  unsigned long a[RUNS][FIELDS];
  for (int i = 0; i < RUNS; i++) run(self, a[i]);
  for (int f = 0; f < FIELDS; f++) {
    int same = 1;
    for (int i = 1; i < RUNS; i++) same &= a[i][f] == a[0][f];
    say("%s: %s %s", what, names[f], a[0][f] == 0 ? "none" : same ? "same in every run" : "differs between runs");
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "report") == 0) return report();
  const char *self = "/proc/self/exe";
  int persona = personality(0xffffffff);
  say("persona at start: ADDR_NO_RANDOMIZE %s", persona & ADDR_NO_RANDOMIZE ? "set" : "clear");
  compare(self, "randomized");
  int old = personality(ADDR_NO_RANDOMIZE);
  say("personality(ADDR_NO_RANDOMIZE) returned the old persona: %s", old == persona ? "yes" : "no");
  say("personality(0xffffffff) now: %#x", personality(0xffffffff));
  compare(self, "ADDR_NO_RANDOMIZE");
  check(personality(PER_LINUX) == ADDR_NO_RANDOMIZE, "personality back");
  say("done");
  return 0;
}
