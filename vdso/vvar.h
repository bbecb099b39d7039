/*
 * vvar.h: the layout of the vDSO's data page ([vvar]), which the sentry writes
 * (sentry/kernel/vdso-clock.ts, VVAR_* offsets: keep both in step) and every process maps
 * read-only one page below the vDSO's text.
 *
 * A reader takes `seq`; an odd value means the sentry is writing: read again. It reads
 * the fields, then `seq` again; a change means a write came between: read again. Times
 * are nanoseconds; a clock served here reads base + ((tsc - tsc_base) * mult >> shift),
 * the very formula (and the same integers) by which the sentry answers the trapped
 * clock_gettime, so both agree to the nanosecond.
 */
#ifndef TVISOR_VVAR_H
#define TVISOR_VVAR_H

#include <stdint.h>

/* VVAR_MODE_SYSCALL: every clock falls back to the real syscall (the TSC is unusable). */
#define VVAR_MODE_SYSCALL 0
/* VVAR_MODE_TSC: the clocks below are computed from rdtsc. */
#define VVAR_MODE_TSC 1

struct vvar_data {
  volatile uint32_t seq;       /* 0: seqcount, odd while the sentry writes */
  volatile uint32_t mode;      /* 4: VVAR_MODE_* */
  volatile uint64_t tsc_base;  /* 8: the TSC at which the bases below hold */
  volatile uint64_t mult;      /* 16: ns = (tsc delta * mult) >> shift */
  volatile uint32_t shift;     /* 24 */
  volatile uint32_t pad;       /* 28 */
  volatile int64_t mono_base;  /* 32: CLOCK_MONOTONIC (= BOOTTIME, MONOTONIC_RAW) at tsc_base */
  volatile int64_t real_base;  /* 40: CLOCK_REALTIME (= TAI) at tsc_base */
};

#endif
