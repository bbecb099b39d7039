/*
 * futex: how futex(2) keys, wakes, requeues and times out, and robust and PI mutexes whose
 * owner dies.
 *
 * Waits that would need to know a waiter is already asleep are driven by loops that retry
 * a wake until it reports the waiter (bounded), so every printed figure is deterministic.
 */
#include "common.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

static long futex(uint32_t *uaddr, int op, uint32_t val, const void *timeout_or_val2, uint32_t *uaddr2, uint32_t val3) {
  return syscall(SYS_futex, uaddr, op, val, timeout_or_val2, uaddr2, val3);
}

/* err formats a futex result: the count, or the errno name of a -1 return. */
static const char *err(long r, char *buf, size_t len) {
  if (r == -1) return errname(errno);
  snprintf(buf, len, "%ld", r);
  return buf;
}

static void *shared_page(void) {
  void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  check(p != MAP_FAILED, "mmap shared");
  return p;
}

/* wake_until wakes the word (op) until it reports one waiter, at most 5 s; returns 1 on success. */
static int wake_until(uint32_t *w, int op) {
  for (int i = 0; i < 5000; i++) {
    if (futex(w, op, 1, NULL, NULL, 0) == 1) return 1;
    usleep(1000);
  }
  return 0;
}

static void across_fork(void) {
  char buf[64];
  uint32_t *w = shared_page();
  /* A shared futex in MAP_SHARED memory: the child's wait is the parent's wake. */
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    struct timespec ts = {10, 0};
    _exit(futex(w, FUTEX_WAIT, 0, &ts, NULL, 0) == 0 ? 0 : 1);
  }
  int woke = wake_until(w, FUTEX_WAKE);
  int st;
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("shared futex across fork: woken %d, child %s", woke, describe_status(st, buf, sizeof(buf)));

  /* FUTEX_PRIVATE_FLAG keys by address space: the parent's wakes never reach the child. */
  p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    struct timespec ts = {0, 300 * 1000 * 1000};
    long r = futex(w, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
    _exit(r == -1 && errno == ETIMEDOUT ? 0 : 1);
  }
  long total = 0;
  for (int i = 0; i < 50; i++) {
    total += futex(w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    usleep(2000);
  }
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("private futex across fork: woken %ld, child %s (0: timed out)", total, describe_status(st, buf, sizeof(buf)));
  munmap(w, 4096);
}

static void timeouts(void) {
  char buf[32];
  uint32_t w = 0;
  struct timespec rel = {0, 10 * 1000 * 1000}, abs;
  say("wait, word differs: %s", err(futex(&w, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0), buf, sizeof(buf)));
  say("wait, relative 10 ms: %s", err(futex(&w, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0), buf, sizeof(buf)));
  clock_gettime(CLOCK_MONOTONIC, &abs);
  abs.tv_nsec += 10 * 1000 * 1000;
  if (abs.tv_nsec >= 1000000000) abs.tv_sec++, abs.tv_nsec -= 1000000000;
  say("wait_bitset, monotonic deadline: %s", err(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY), buf, sizeof(buf)));
  clock_gettime(CLOCK_REALTIME, &abs);
  abs.tv_nsec += 10 * 1000 * 1000;
  if (abs.tv_nsec >= 1000000000) abs.tv_sec++, abs.tv_nsec -= 1000000000;
  say("wait_bitset, realtime deadline: %s",
      err(futex(&w, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY), buf, sizeof(buf)));
  struct timespec past = {1, 0};
  say("wait_bitset, deadline passed: %s", err(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 0, &past, NULL, FUTEX_BITSET_MATCH_ANY), buf, sizeof(buf)));
  struct timespec bad = {0, 1000000000};
  say("wait, tv_nsec 1e9: %s", err(futex(&w, FUTEX_WAIT_PRIVATE, 0, &bad, NULL, 0), buf, sizeof(buf)));
  say("wait_bitset, bitset 0: %s", err(futex(&w, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, 0), buf, sizeof(buf)));
  say("wake_bitset, bitset 0: %s", err(futex(&w, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0), buf, sizeof(buf)));
  say("wake, realtime flag: %s", err(futex(&w, FUTEX_WAKE_PRIVATE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0), buf, sizeof(buf)));
  say("wait, misaligned: %s", err(futex((uint32_t *)((char *)&w + 1), FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0), buf, sizeof(buf)));
  say("unknown op 99: %s", err(futex(&w, 99, 0, NULL, NULL, 0), buf, sizeof(buf)));
}

static uint32_t word_a, word_b;
static long results[4];

static void *wait_a(void *arg) {
  results[(intptr_t)arg] = futex(&word_a, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
  return NULL;
}

static void *wait_bitset_1(void *arg) {
  (void)arg;
  results[0] = futex(&word_a, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, 1);
  return NULL;
}

static void *wait_b(void *arg) {
  results[(intptr_t)arg] = futex(&word_b, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
  return NULL;
}

static void bitsets(void) {
  pthread_t th;
  word_a = 0;
  check(pthread_create(&th, NULL, wait_bitset_1, NULL) == 0, "pthread_create");
  long mismatched = 0;
  int woke = 0;
  for (int i = 0; i < 5000 && !woke; i++) {
    mismatched += futex(&word_a, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 2);
    woke = futex(&word_a, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 3) == 1;
    if (!woke) usleep(1000);
  }
  pthread_join(th, NULL);
  say("bitset: wakes with bitset 2 woke %ld; bitset 3 woke the bitset-1 waiter: %s, its wait returned %ld", mismatched, woke ? "yes" : "no", results[0]);
}

static void requeues(void) {
  char buf[32];
  pthread_t th[3];
  word_a = 0, word_b = 0;
  for (intptr_t i = 0; i < 3; i++) check(pthread_create(&th[i], NULL, wait_a, (void *)i) == 0, "pthread_create");
  /* Move the three waiters of A to B, as they fall asleep. */
  long moved = 0;
  for (int i = 0; i < 5000 && moved < 3; i++) {
    long r = futex(&word_a, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)(uintptr_t)3, &word_b, 0);
    check(r >= 0, "cmp_requeue");
    moved += r;
    if (moved < 3) usleep(1000);
  }
  say("cmp_requeue: moved %ld waiters from A to B", moved);
  say("cmp_requeue, A differs from val3: %s", err(futex(&word_a, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)(uintptr_t)3, &word_b, 7), buf, sizeof(buf)));
  say("cmp_requeue, negative count: %s", err(futex(&word_a, FUTEX_CMP_REQUEUE_PRIVATE, -1, (void *)(uintptr_t)3, &word_b, 0), buf, sizeof(buf)));
  say("wake A: %s", err(futex(&word_a, FUTEX_WAKE_PRIVATE, 3, NULL, NULL, 0), buf, sizeof(buf)));
  say("requeue B to A, wake 1, move 1: %s", err(futex(&word_b, FUTEX_REQUEUE_PRIVATE, 1, (void *)(uintptr_t)1, &word_a, 0), buf, sizeof(buf)));
  say("wake B: %s", err(futex(&word_b, FUTEX_WAKE_PRIVATE, 3, NULL, NULL, 0), buf, sizeof(buf)));
  say("wake A: %s", err(futex(&word_a, FUTEX_WAKE_PRIVATE, 3, NULL, NULL, 0), buf, sizeof(buf)));
  for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
  say("requeued waiters returned: %ld %ld %ld", results[0], results[1], results[2]);
}

static void wake_ops(void) {
  char buf[32];
  static const struct { const char *name; int op, oparg, cmp, cmparg; } ops[] = {
    {"SET 5, EQ 3", FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 3},
    {"ADD 2, NE 5", FUTEX_OP_ADD, 2, FUTEX_OP_CMP_NE, 5},
    {"OR 8, LT 7", FUTEX_OP_OR, 8, FUTEX_OP_CMP_LT, 7},
    {"ANDN 1, LE 15", FUTEX_OP_ANDN, 1, FUTEX_OP_CMP_LE, 15},
    {"XOR 0xff, GT 100", FUTEX_OP_XOR, 0xff, FUTEX_OP_CMP_GT, 100},
    {"ADD -300, GE -1", FUTEX_OP_ADD, -300, FUTEX_OP_CMP_GE, -1},
    {"SET 1<<4 (shift), EQ -59", FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 4, FUTEX_OP_CMP_EQ, -59},
  };
  word_b = 3;
  for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
    uint32_t enc = FUTEX_OP(ops[i].op, ops[i].oparg, ops[i].cmp, ops[i].cmparg);
    long r = futex(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, (void *)(uintptr_t)1, &word_b, enc);
    say("wake_op %s: %s, word now %d", ops[i].name, err(r, buf, sizeof(buf)), (int)word_b);
  }
  say("wake_op, unknown op 7: %s", err(futex(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, (void *)(uintptr_t)1, &word_b, 7u << 28), buf, sizeof(buf)));
  say("wake_op, unknown cmp 9: %s", err(futex(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, (void *)(uintptr_t)1, &word_b, 9u << 24), buf, sizeof(buf)));

  /* One waiter on each word: the comparison decides whether B's is woken too. */
  pthread_t ta, tb;
  word_a = 0, word_b = 0;
  check(pthread_create(&ta, NULL, wait_a, (void *)0) == 0, "pthread_create");
  check(pthread_create(&tb, NULL, wait_b, (void *)1) == 0, "pthread_create");
  long total = 0;
  uint32_t keep_b_zero = FUTEX_OP(FUTEX_OP_OR, 0, FUTEX_OP_CMP_EQ, 0);
  for (int i = 0; i < 5000 && total < 2; i++) {
    total += futex(&word_a, FUTEX_WAKE_OP_PRIVATE, 1, (void *)(uintptr_t)1, &word_b, keep_b_zero);
    if (total < 2) usleep(1000);
  }
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  say("wake_op with waiters on both words: woke %ld, waits returned %ld %ld", total, results[0], results[1]);
}

/* futex_waitv's word flags (Linux 5.16 uapi; older headers lack them). */
#define WAITV_SIZE_U32 2
#define WAITV_PRIVATE 128

struct waitv {
  uint64_t val, uaddr;
  uint32_t flags, reserved;
};

static long futex_waitv(struct waitv *w, unsigned n, unsigned flags, struct timespec *ts, int clock) {
  return syscall(SYS_futex_waitv, w, n, flags, ts, clock);
}

static void *wait_v(void *arg) {
  struct waitv *w = arg;
  results[0] = futex_waitv(w, 2, 0, NULL, 0);
  return NULL;
}

static void waitvs(void) {
  char buf[32];
  struct waitv w[2] = {{0, (uintptr_t)&word_a, WAITV_SIZE_U32 | WAITV_PRIVATE, 0}, {0, (uintptr_t)&word_b, WAITV_SIZE_U32 | WAITV_PRIVATE, 0}};
  word_a = 0, word_b = 1;
  say("futex_waitv, second word differs: %s", err(futex_waitv(w, 2, 0, NULL, 0), buf, sizeof(buf)));
  word_b = 0;
  struct timespec abs;
  clock_gettime(CLOCK_MONOTONIC, &abs);
  abs.tv_nsec += 10 * 1000 * 1000;
  if (abs.tv_nsec >= 1000000000) abs.tv_sec++, abs.tv_nsec -= 1000000000;
  say("futex_waitv, monotonic deadline: %s", err(futex_waitv(w, 2, 0, &abs, CLOCK_MONOTONIC), buf, sizeof(buf)));
  say("futex_waitv, clock BOOTTIME: %s", err(futex_waitv(w, 2, 0, &abs, CLOCK_BOOTTIME), buf, sizeof(buf)));
  w[1].flags = WAITV_PRIVATE;
  say("futex_waitv, no size flag: %s", err(futex_waitv(w, 2, 0, NULL, 0), buf, sizeof(buf)));
  w[1].flags = WAITV_SIZE_U32 | WAITV_PRIVATE;
  say("futex_waitv, 0 words: %s", err(futex_waitv(w, 0, 0, NULL, 0), buf, sizeof(buf)));
  pthread_t th;
  check(pthread_create(&th, NULL, wait_v, w) == 0, "pthread_create");
  int woke = wake_until(&word_b, FUTEX_WAKE_PRIVATE);
  pthread_join(th, NULL);
  say("futex_waitv woken through the second word: %s, returned %ld", woke ? "yes" : "no", results[0]);
}

/* A robust mutex whose owner dies: the next locker gets EOWNERDEAD. */
static void robust(int pi) {
  pthread_mutex_t *m = shared_page();
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  if (pi) pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
  check(pthread_mutex_init(m, &a) == 0, "pthread_mutex_init");
  int fds[2];
  check(pipe(fds) == 0, "pipe");
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    if (pthread_mutex_lock(m) != 0) _exit(2);
    check(write(fds[1], "x", 1) == 1, "write");
    usleep(100 * 1000);
    _exit(0); /* dies holding the mutex */
  }
  char c;
  check(read(fds[0], &c, 1) == 1, "read");
  /* The parent now sleeps in the lock until the child's exit releases it. */
  int r = pthread_mutex_lock(m);
  say("%srobust mutex, owner process died: lock %s", pi ? "PI " : "", errname(r));
  if (r == EOWNERDEAD) {
    int c1 = pthread_mutex_consistent(m);
    int u1 = pthread_mutex_unlock(m);
    int l2 = pthread_mutex_lock(m);
    int t2 = pthread_mutex_trylock(m);
    int u2 = pthread_mutex_unlock(m);
    say("  consistent: %s, unlock: %s, lock again: %s, trylock by owner: %s, unlock: %s", errname(c1), errname(u1), errname(l2), errname(t2), errname(u2));
  }
  int st;
  check(waitpid(p, &st, 0) == p, "waitpid");
  close(fds[0]);
  close(fds[1]);
  munmap(m, 4096);
}

static pthread_mutex_t thread_mutex;

static void *lock_and_exit(void *arg) {
  (void)arg;
  pthread_mutex_lock(&thread_mutex);
  return NULL; /* exits holding it */
}

static void robust_thread(void) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  check(pthread_mutex_init(&thread_mutex, &a) == 0, "pthread_mutex_init");
  pthread_t th;
  check(pthread_create(&th, NULL, lock_and_exit, NULL) == 0, "pthread_create");
  pthread_join(th, NULL);
  say("robust mutex, owner thread exited: lock %s", errname(pthread_mutex_lock(&thread_mutex)));
}

static void pi_raw(void) {
  char buf[32];
  uint32_t w = 0;
  long r = futex(&w, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  say("lock_pi on 0: %s, owner is me: %s", err(r, buf, sizeof(buf)), w == (uint32_t)gettid() ? "yes" : "no");
  say("lock_pi again: %s", err(futex(&w, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), buf, sizeof(buf)));
  say("trylock_pi again: %s", err(futex(&w, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0), buf, sizeof(buf)));
  r = futex(&w, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  say("unlock_pi: %s, word %u", err(r, buf, sizeof(buf)), w);
  say("unlock_pi, not owner: %s", err(futex(&w, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), buf, sizeof(buf)));
  w = FUTEX_OWNER_DIED;
  r = futex(&w, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
  say("trylock_pi on OWNER_DIED: %s, owner died kept: %s", err(r, buf, sizeof(buf)), (w & FUTEX_OWNER_DIED) ? "yes" : "no");
}

/* With the argument "pi-robust" only the PI robust mutex case runs (gVisor 2022 hangs in it). */
int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "pi-robust") == 0) {
    robust(1);
    say("done");
    return 0;
  }
  across_fork();
  timeouts();
  bitsets();
  requeues();
  wake_ops();
  waitvs();
  robust(0);
  robust_thread();
  pi_raw();
  say("done");
  return 0;
}
