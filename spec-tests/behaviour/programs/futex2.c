/*
 * futex2: the futex2 calls of Linux 6.7 (futex_wake 454, futex_wait 455, futex_requeue 456)
 * as kernel/futex/syscalls.c defines them: FUTEX2_SIZE_* (only U32 is implemented: the
 * others are EINVAL), FUTEX2_PRIVATE, FUTEX2_NUMA (a {value, node} pair aligned to its
 * size, node -1 or a possible node), the mask (0 or wider than the word: EINVAL), absolute
 * timeouts on CLOCK_MONOTONIC or CLOCK_REALTIME, futex_wake's strict count (0 wakes none),
 * futex_requeue's compare of the first word and its two-entry futex_waitv vector.
 *
 * Waits that need a waiter asleep are driven by wakes retried until they report it
 * (bounded), so every printed figure is deterministic.
 */
#include "common.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#define NR_futex_wake 454
#define NR_futex_wait 455
#define NR_futex_requeue 456

#define F2_U8 0x00
#define F2_U16 0x01
#define F2_U32 0x02
#define F2_U64 0x03
#define F2_NUMA 0x04
#define F2_PRIVATE 128

struct waitv {
  uint64_t val, uaddr;
  uint32_t flags, reserved;
};

static long fwake(void *uaddr, unsigned long mask, int nr, unsigned flags) {
  return syscall(NR_futex_wake, uaddr, mask, nr, flags);
}

static long fwait(void *uaddr, unsigned long val, unsigned long mask, unsigned flags, struct timespec *ts, int clock) {
  return syscall(NR_futex_wait, uaddr, val, mask, flags, ts, clock);
}

static long frequeue(struct waitv *w, unsigned flags, int nr_wake, int nr_requeue) {
  return syscall(NR_futex_requeue, w, flags, nr_wake, nr_requeue);
}

/* res formats a result: the count, or the errno name of a -1 return. */
static const char *res(long r) {
  static char buf[8][32];
  static int n;
  char *b = buf[n++ % 8];
  if (r == -1) return errname(errno);
  snprintf(b, 32, "%ld", r);
  return b;
}

static struct timespec in_ms(int clock, long ms) {
  struct timespec t;
  clock_gettime(clock, &t);
  t.tv_nsec += ms * 1000000;
  while (t.tv_nsec >= 1000000000) t.tv_sec++, t.tv_nsec -= 1000000000;
  return t;
}

static void arguments(void) {
  uint32_t w[4] __attribute__((aligned(8))) = {0, 0, 0, 0};
  const unsigned long ANY = 0xffffffffUL;
  say("wake, no waiters: %s", res(fwake(w, ANY, 1, F2_U32 | F2_PRIVATE)));
  say("wake, unknown flag 0x100: %s", res(fwake(w, ANY, 1, F2_U32 | 0x100)));
  say("wake, size U8: %s", res(fwake(w, 0xff, 1, F2_U8 | F2_PRIVATE)));
  say("wake, size U16: %s", res(fwake(w, 0xff, 1, F2_U16 | F2_PRIVATE)));
  say("wake, size U64: %s", res(fwake(w, ANY, 1, F2_U64 | F2_PRIVATE)));
  say("wake, mask 0: %s", res(fwake(w, 0, 1, F2_U32 | F2_PRIVATE)));
  say("wake, mask wider than 32 bits: %s", res(fwake(w, 1UL << 32, 1, F2_U32 | F2_PRIVATE)));
  say("wake, misaligned: %s", res(fwake((char *)w + 2, ANY, 1, F2_U32 | F2_PRIVATE)));
  say("wake, shared, unmapped: %s", res(fwake((void *)4096, ANY, 1, F2_U32)));
  say("wait, word differs: %s", res(fwait(w, 1, ANY, F2_U32 | F2_PRIVATE, NULL, 0)));
  say("wait, value wider than 32 bits: %s", res(fwait(w, 1UL << 32, ANY, F2_U32 | F2_PRIVATE, NULL, 0)));
  say("wait, mask 0: %s", res(fwait(w, 0, 0, F2_U32 | F2_PRIVATE, NULL, 0)));
  say("wait, mask wider than 32 bits: %s", res(fwait(w, 0, 1UL << 32, F2_U32 | F2_PRIVATE, NULL, 0)));
  say("wait, size U64: %s", res(fwait(w, 0, ANY, F2_U64 | F2_PRIVATE, NULL, 0)));
  say("wait, misaligned: %s", res(fwait((char *)w + 1, 0, ANY, F2_U32 | F2_PRIVATE, NULL, 0)));
  say("wait, unmapped: %s", res(fwait((void *)4096, 0, ANY, F2_U32 | F2_PRIVATE, NULL, 0)));
  struct timespec t = in_ms(CLOCK_MONOTONIC, 10);
  say("wait, monotonic deadline: %s", res(fwait(w, 0, ANY, F2_U32 | F2_PRIVATE, &t, CLOCK_MONOTONIC)));
  t = in_ms(CLOCK_REALTIME, 10);
  say("wait, realtime deadline: %s", res(fwait(w, 0, ANY, F2_U32 | F2_PRIVATE, &t, CLOCK_REALTIME)));
  struct timespec past = {1, 0};
  say("wait, deadline passed: %s", res(fwait(w, 0, ANY, F2_U32 | F2_PRIVATE, &past, CLOCK_MONOTONIC)));
  say("wait, clock BOOTTIME: %s", res(fwait(w, 0, ANY, F2_U32 | F2_PRIVATE, &past, CLOCK_BOOTTIME)));
  struct timespec bad = {0, 1000000000};
  say("wait, tv_nsec 1e9: %s", res(fwait(w, 0, ANY, F2_U32 | F2_PRIVATE, &bad, CLOCK_MONOTONIC)));
  say("wait, timeout unmapped: %s", res(fwait(w, 0, ANY, F2_U32 | F2_PRIVATE, (struct timespec *)4096, CLOCK_MONOTONIC)));
  /* FUTEX2_NUMA: the word is followed by a node word, the pair aligned to 8 bytes. */
  w[1] = (uint32_t)-1;
  say("numa wait, node -1, word differs: %s", res(fwait(w, 1, ANY, F2_U32 | F2_PRIVATE | F2_NUMA, NULL, 0)));
  say("  node word after it: %d", (int)w[1]);
  w[1] = (uint32_t)-1;
  say("numa wake, node -1: %s", res(fwake(w, ANY, 1, F2_U32 | F2_PRIVATE | F2_NUMA)));
  say("  node word after it: %d", (int)w[1]);
  w[1] = (uint32_t)-1;
  t = in_ms(CLOCK_MONOTONIC, 1);
  say("numa wait, node -1, times out: %s", res(fwait(w, 0, ANY, F2_U32 | F2_PRIVATE | F2_NUMA, &t, CLOCK_MONOTONIC)));
  say("  node word after it: %d", (int)w[1]);
  w[1] = (uint32_t)-2;
  say("numa wake, node -2: %s", res(fwake(w, ANY, 1, F2_U32 | F2_PRIVATE | F2_NUMA)));
  w[1] = (uint32_t)-1;
  say("numa wake, shared, node -1: %s", res(fwake(w, ANY, 1, F2_U32 | F2_NUMA)));
  say("  node word after it: %d", (int)w[1]);
  w[1] = 0;
  say("numa wake, node 0: %s", res(fwake(w, ANY, 1, F2_U32 | F2_PRIVATE | F2_NUMA)));
  w[1] = 1 << 20;
  say("numa wake, node 1<<20: %s", res(fwake(w, ANY, 1, F2_U32 | F2_PRIVATE | F2_NUMA)));
  w[3] = (uint32_t)-1;
  say("numa wake, pair not 8-aligned: %s", res(fwake(&w[1], ANY, 1, F2_U32 | F2_PRIVATE | F2_NUMA)));
}

static uint32_t word_a, word_b;
static long results[4];

static void *wait_a_mask1(void *arg) {
  results[(intptr_t)arg] = fwait(&word_a, 0, 1, F2_U32 | F2_PRIVATE, NULL, 0);
  return NULL;
}

static void *wait_a(void *arg) {
  results[(intptr_t)arg] = fwait(&word_a, 0, 0xffffffffUL, F2_U32 | F2_PRIVATE, NULL, 0);
  return NULL;
}

static void *wait_a_legacy(void *arg) {
  results[(intptr_t)arg] = syscall(SYS_futex, &word_a, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
  return NULL;
}

/* wake_until retries futex_wake(mask) until it reports a waiter (at most 5 s): 1 when it did. */
static int wake_until(uint32_t *w, unsigned long mask, unsigned flags) {
  for (int i = 0; i < 5000; i++) {
    if (fwake(w, mask, 1, flags) == 1) return 1;
    usleep(1000);
  }
  return 0;
}

static void masks_and_counts(void) {
  pthread_t th;
  word_a = 0;
  check(pthread_create(&th, NULL, wait_a_mask1, (void *)0) == 0, "pthread_create");
  long mismatched = 0;
  int woke = 0;
  for (int i = 0; i < 5000 && !woke; i++) {
    mismatched += fwake(&word_a, 2, 1, F2_U32 | F2_PRIVATE);
    /* futex_wake's count is strict: 0 wakes nobody (FUTEX_WAKE wakes one). */
    mismatched += fwake(&word_a, 1, 0, F2_U32 | F2_PRIVATE);
    woke = fwake(&word_a, 3, 1, F2_U32 | F2_PRIVATE) == 1;
    if (!woke) usleep(1000);
  }
  pthread_join(th, NULL);
  say("mask: wakes with mask 2 or count 0 woke %ld; mask 3 woke the mask-1 waiter: %s, its wait returned %ld", mismatched, woke ? "yes" : "no", results[0]);

  /* futex2 and futex(2) meet on the same word. */
  check(pthread_create(&th, NULL, wait_a, (void *)0) == 0, "pthread_create");
  woke = 0;
  for (int i = 0; i < 5000 && !woke; i++) {
    woke = syscall(SYS_futex, &word_a, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 1;
    if (!woke) usleep(1000);
  }
  pthread_join(th, NULL);
  say("futex_wait woken by FUTEX_WAKE: %s, returned %ld", woke ? "yes" : "no", results[0]);
  check(pthread_create(&th, NULL, wait_a_legacy, (void *)0) == 0, "pthread_create");
  woke = wake_until(&word_a, 0xffffffffUL, F2_U32 | F2_PRIVATE);
  pthread_join(th, NULL);
  say("FUTEX_WAIT woken by futex_wake: %s, returned %ld", woke ? "yes" : "no", results[0]);
}

static void across_fork(void) {
  char buf[64];
  uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  check(w != MAP_FAILED, "mmap shared");
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    struct timespec t = in_ms(CLOCK_MONOTONIC, 10000);
    _exit(fwait(w, 0, 0xffffffffUL, F2_U32, &t, CLOCK_MONOTONIC) == 0 ? 0 : 1);
  }
  int woke = wake_until(w, 0xffffffffUL, F2_U32);
  int st;
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("shared futex_wait across fork: woken %d, child %s", woke, describe_status(st, buf, sizeof(buf)));

  p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    struct timespec t = in_ms(CLOCK_MONOTONIC, 300);
    long r = fwait(w, 0, 0xffffffffUL, F2_U32 | F2_PRIVATE, &t, CLOCK_MONOTONIC);
    _exit(r == -1 && errno == ETIMEDOUT ? 0 : 1);
  }
  long total = 0;
  for (int i = 0; i < 50; i++) {
    total += fwake(w, 0xffffffffUL, 1, F2_U32 | F2_PRIVATE);
    usleep(2000);
  }
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("private futex_wait across fork: woken %ld, child %s (0: timed out)", total, describe_status(st, buf, sizeof(buf)));
  munmap(w, 4096);
}

static void requeues(void) {
  pthread_t th[3];
  word_a = 0, word_b = 0;
  struct waitv v[2] = {{0, (uintptr_t)&word_a, F2_U32 | F2_PRIVATE, 0}, {0, (uintptr_t)&word_b, F2_U32 | F2_PRIVATE, 0}};
  say("requeue, flags 1: %s", res(frequeue(v, 1, 1, 1)));
  say("requeue, no vector: %s", res(frequeue(NULL, 0, 1, 1)));
  say("requeue, vector unmapped: %s", res(frequeue((struct waitv *)4096, 0, 1, 1)));
  say("requeue, negative count: %s", res(frequeue(v, 0, -1, 1)));
  v[0].val = 1;
  say("requeue, first word differs: %s", res(frequeue(v, 0, 1, 1)));
  v[0].val = 1UL << 32;
  say("requeue, value wider than 32 bits: %s", res(frequeue(v, 0, 1, 1)));
  v[0].val = 0;
  v[1].reserved = 1;
  say("requeue, reserved set: %s", res(frequeue(v, 0, 1, 1)));
  v[1].reserved = 0;
  v[1].flags = F2_U16 | F2_PRIVATE;
  say("requeue, second size U16: %s", res(frequeue(v, 0, 1, 1)));
  v[1].flags = F2_U32 | F2_PRIVATE;
  say("requeue, no waiters: %s", res(frequeue(v, 0, 1, 1)));

  for (intptr_t i = 0; i < 3; i++) check(pthread_create(&th[i], NULL, wait_a, (void *)i) == 0, "pthread_create");
  /* Wake none and move the three waiters of A to B as they fall asleep. */
  long moved = 0;
  for (int i = 0; i < 5000 && moved < 3; i++) {
    long r = frequeue(v, 0, 0, 3);
    check(r >= 0, "futex_requeue");
    moved += r;
    if (moved < 3) usleep(1000);
  }
  say("requeue: moved %ld waiters from A to B", moved);
  say("wake A: %s", res(fwake(&word_a, 0xffffffffUL, 3, F2_U32 | F2_PRIVATE)));
  /* From B: wake one, move one back to A. */
  struct waitv back[2] = {{0, (uintptr_t)&word_b, F2_U32 | F2_PRIVATE, 0}, {0, (uintptr_t)&word_a, F2_U32 | F2_PRIVATE, 0}};
  say("requeue B to A, wake 1, move 1: %s", res(frequeue(back, 0, 1, 1)));
  say("wake B: %s", res(fwake(&word_b, 0xffffffffUL, 3, F2_U32 | F2_PRIVATE)));
  say("wake A: %s", res(fwake(&word_a, 0xffffffffUL, 3, F2_U32 | F2_PRIVATE)));
  for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
  say("requeued waiters returned: %ld %ld %ld", results[0], results[1], results[2]);
}

int main(void) {
  arguments();
  masks_and_counts();
  across_fork();
  requeues();
  say("done");
  return 0;
}
