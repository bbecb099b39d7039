/*
 * vdso.c: tvisor's vDSO, the shared object mapped into every process at exec
 * (AT_SYSINFO_EHDR), so that the clocks read most often do not trap into the sentry.
 *
 * Served from the data page (vvar.h) when the sentry found the TSC usable (constant and
 * nonstop): CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
 * CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME and CLOCK_TAI (the sentry's clock_gettime gives
 * these the same values, see sentry/kernel/timekeeper.ts), gettimeofday without a time
 * zone, and time. Everything else (CPU-time clocks, the alarm clocks, bad ids, a time
 * zone, getcpu, clock_getres of any clock, every call when the TSC is unusable) makes
 * the real syscall instruction, which the sentry traps and answers as from anywhere
 * else. Each function returns what the syscall returns (-errno on failure), as Linux's
 * vDSO does: glibc and Go expect that.
 *
 * Freestanding: no libc, no relocations, no writable data; built by vdso/module.mk.
 */
#include <stddef.h>
#include <stdint.h>
#include "vvar.h"

struct timespec_k { int64_t tv_sec; int64_t tv_nsec; };
struct timeval_k { int64_t tv_sec; int64_t tv_usec; };

/* vvar is the data page, one page below the text (vdso.lds places the symbol). */
extern const struct vvar_data vvar __attribute__((visibility("hidden")));

#define NR_GETTIMEOFDAY 96
#define NR_TIME 201
#define NR_CLOCK_GETTIME 228
#define NR_CLOCK_GETRES 229
#define NR_GETCPU 309

static inline long sys3(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

static inline uint64_t rdtsc_ordered(void) {
  uint32_t lo, hi;
  /* lfence: the TSC is read after the seqcount load, not speculated before it. */
  __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
  return ((uint64_t)hi << 32) | lo;
}

/* kind returns 1 for the monotonic clocks served here, 2 for the realtime ones, 0 otherwise. */
static inline int kind(long clock) {
  switch (clock) {
    case 1: case 4: case 6: case 7: return 1;   /* MONOTONIC, MONOTONIC_RAW, MONOTONIC_COARSE, BOOTTIME */
    case 0: case 5: case 11: return 2;          /* REALTIME, REALTIME_COARSE, TAI */
    default: return 0;
  }
}

/* read_ns reads a served clock into *ns; 0 when the data page says to use the syscall. */
static inline int read_ns(int k, int64_t *ns) {
  const struct vvar_data *v = &vvar;
  for (;;) {
    uint32_t seq = v->seq;
    if (seq & 1) {
      __asm__ volatile("pause");
      continue;
    }
    __asm__ volatile("" ::: "memory");
    if (v->mode != VVAR_MODE_TSC) return 0;
    uint64_t tsc = rdtsc_ordered();
    uint64_t base_tsc = v->tsc_base, mult = v->mult;
    uint32_t shift = v->shift;
    int64_t base = k == 1 ? v->mono_base : v->real_base;
    __asm__ volatile("" ::: "memory");
    if (v->seq != seq) continue;
    /* A TSC read just before tsc_base (another CPU) counts as tsc_base: never earlier. */
    uint64_t delta = tsc > base_tsc ? tsc - base_tsc : 0;
    *ns = base + (int64_t)(((unsigned __int128)delta * mult) >> shift);
    return 1;
  }
}

int __vdso_clock_gettime(long clock, struct timespec_k *ts) {
  int64_t ns;
  int k = kind(clock);
  if (k == 0 || !read_ns(k, &ns)) return (int)sys3(NR_CLOCK_GETTIME, clock, (long)ts, 0);
  ts->tv_sec = ns / 1000000000;
  ts->tv_nsec = ns % 1000000000;
  return 0;
}

int __vdso_gettimeofday(struct timeval_k *tv, void *tz) {
  int64_t ns;
  if (tz != NULL || !read_ns(2, &ns)) return (int)sys3(NR_GETTIMEOFDAY, (long)tv, (long)tz, 0);
  if (tv != NULL) {
    tv->tv_sec = ns / 1000000000;
    tv->tv_usec = (ns % 1000000000) / 1000;
  }
  return 0;
}

long __vdso_time(long *t) {
  int64_t ns;
  if (!read_ns(2, &ns)) return sys3(NR_TIME, (long)t, 0, 0);
  long sec = ns / 1000000000;
  if (t != NULL) *t = sec;
  return sec;
}

int __vdso_clock_getres(long clock, struct timespec_k *res) {
  return (int)sys3(NR_CLOCK_GETRES, clock, (long)res, 0);
}

long __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache) {
  return sys3(NR_GETCPU, (long)cpu, (long)node, (long)cache);
}

int clock_gettime(long, struct timespec_k *) __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct timeval_k *, void *) __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
int clock_getres(long, struct timespec_k *) __attribute__((weak, alias("__vdso_clock_getres")));
long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
