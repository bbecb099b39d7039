/*
 * bench-syscalls: per-operation cost of common system calls, for `make bench-syscalls`.
 *
 * Each operation is calibrated (batches doubled until one takes 10 ms), then timed over
 * ROUNDS rounds that together last about the time budget; the median round is reported,
 * one line per operation, `<op> <microseconds> us`, with nanosecond precision (a figure
 * that is not a time says its unit instead: `<op> <value> KiB`). Nothing
 * else is printed on stdout (errors go to stderr and the exit status is 1).
 *   bench-syscalls [-t SECONDS_PER_OP] [OP...]    (default 0.3 s, every op)
 *   bench-syscalls -w DIR                          (the cold walk only)
 * The cold walk, `walk-10k-cold`, stats each of 10,000 files DIR/dN/fM (N = M / 100, M
 * from 0 to 9999, made beforehand by the caller and never looked up in this container)
 * once, and reports the mean time per stat: a cold lookup, not calibrated or repeated.
 * clock_gettime reads CLOCK_MONOTONIC through glibc (the vDSO's where the kernel gives one).
 * futex-pingpong is a round trip between two processes over a futex word in MAP_SHARED
 * memory (each side wakes the other once). fork+wait-256m is fork+wait of a process with
 * 256 MiB of private memory touched (made on its first run), whose child writes one page
 * before it exits: what copy-on-write saves. mmap-private-x4 is 4 processes forked at
 * once, each mapping the same 16 MiB file MAP_PRIVATE (as ld.so maps a library) and
 * reading a byte of every page, waited for: the time per round of 4; mmap-private-x4-mem
 * (not timed, in KiB) is the memory the system's /proc/meminfo shows taken (MemTotal -
 * MemFree) while 4 such processes hold their mappings, against before they were forked:
 * what sharing the file's pages saves. The file, bench-map.dat in the working directory,
 * is made on first use and removed at the end.
 * Files read: /etc/passwd (open+close, stat) and /bin/busybox (pread of 4 KiB; flock
 * lock+unlock on the same descriptor), both present in the benchmark's rootfs and on the
 * host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { ROUNDS = 5, MIN_ITERS = 5 };

static const char *small_file = "/etc/passwd";
static const char *big_file = "/bin/busybox";
static int big_fd = -1;
static int ping[2], pong[2];
static pid_t echo_pid = -1;
/* futex_word is a MAP_SHARED word that two processes hand back and forth (futex-pingpong). */
static uint32_t *futex_word;
static pid_t futex_peer = -1;

static void die(const char *what) {
  fprintf(stderr, "bench-syscalls: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void op_getppid(long n) {
  for (long i = 0; i < n; i++) getppid();
}

/* op_clock_gettime reads CLOCK_MONOTONIC through glibc: through the vDSO where there is one. */
static void op_clock_gettime(long n) {
  struct timespec ts;
  for (long i = 0; i < n; i++)
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) die("clock_gettime");
}

static void op_open_close(long n) {
  for (long i = 0; i < n; i++) {
    int fd = open(small_file, O_RDONLY);
    if (fd < 0) die("open");
    close(fd);
  }
}

static void op_pread(long n) {
  static char buf[4096];
  for (long i = 0; i < n; i++)
    if (pread(big_fd, buf, sizeof(buf), 4096) != (ssize_t)sizeof(buf)) die("pread");
}

static void op_stat(long n) {
  struct stat st;
  for (long i = 0; i < n; i++)
    if (stat(small_file, &st) != 0) die("stat");
}

/* op_flock takes and drops an exclusive flock on an open file (no other holder). */
static void op_flock(long n) {
  for (long i = 0; i < n; i++)
    if (flock(big_fd, LOCK_EX) != 0 || flock(big_fd, LOCK_UN) != 0) die("flock");
}

static void op_fork_wait(long n) {
  for (long i = 0; i < n; i++) {
    pid_t p = fork();
    if (p < 0) die("fork");
    if (p == 0) _exit(0);
    int st;
    if (waitpid(p, &st, 0) != p) die("waitpid");
  }
}

enum { MAP_BYTES = 16 << 20, MAPPERS = 4 };
static const char *map_path = "bench-map.dat";
static int map_fd = -1;

/* map_ready makes the file of mmap-private-x4 (MAP_BYTES of non-zero bytes) on first use. */
static void map_ready(void) {
  if (map_fd >= 0) return;
  map_fd = open(map_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (map_fd < 0) die(map_path);
  static char block[1 << 20];
  memset(block, 'm', sizeof(block));
  for (long at = 0; at < MAP_BYTES; at += (long)sizeof(block))
    if (write(map_fd, block, sizeof(block)) != (ssize_t)sizeof(block)) die("write bench-map.dat");
}

/* map_touch maps the file MAP_PRIVATE read-only and reads a byte of every page; it fails the child unless all read right. */
static void map_touch(void) {
  const char *m = mmap(NULL, MAP_BYTES, PROT_READ, MAP_PRIVATE, map_fd, 0);
  if (m == MAP_FAILED) die("mmap bench-map.dat");
  long sum = 0;
  for (long off = 0; off < MAP_BYTES; off += 4096) sum += m[off];
  if (sum != 'm' * (long)(MAP_BYTES / 4096)) _exit(2);
}

/* reap waits for `count` children and fails unless each exited 0. */
static void reap(int count) {
  for (int k = 0; k < count; k++) {
    int st;
    if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) die("mapper child");
  }
}

static void op_mmap_private_x4(long n) {
  map_ready();
  for (long i = 0; i < n; i++) {
    for (int k = 0; k < MAPPERS; k++) {
      pid_t p = fork();
      if (p < 0) die("fork");
      if (p == 0) {
        map_touch();
        _exit(0);
      }
    }
    reap(MAPPERS);
  }
}

/* mem_taken_kib is MemTotal - MemFree from /proc/meminfo, in KiB. */
static long mem_taken_kib(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  if (!f) die("/proc/meminfo");
  char line[256];
  long total = -1, free_ = -1;
  while (fgets(line, sizeof(line), f)) {
    sscanf(line, "MemTotal: %ld kB", &total);
    sscanf(line, "MemFree: %ld kB", &free_);
  }
  fclose(f);
  if (total < 0 || free_ < 0) die("/proc/meminfo: no MemTotal or MemFree");
  return total - free_;
}

/* mmap_private_x4_mem returns the KiB taken while MAPPERS processes hold the file mapped and touched. */
static double mmap_private_x4_mem(void) {
  map_ready();
  int ready[2], go[2];
  if (pipe(ready) != 0 || pipe(go) != 0) die("pipe");
  long before = mem_taken_kib();
  for (int k = 0; k < MAPPERS; k++) {
    pid_t p = fork();
    if (p < 0) die("fork");
    if (p == 0) {
      close(go[1]);
      map_touch();
      char c = 'r';
      if (write(ready[1], &c, 1) != 1) _exit(3);
      (void)read(go[0], &c, 1); /* until the parent closes go */
      _exit(0);
    }
  }
  close(ready[1]);
  close(go[0]);
  char c;
  for (int k = 0; k < MAPPERS; k++)
    if (read(ready[0], &c, 1) != 1) die("mapper ready");
  long after = mem_taken_kib();
  close(go[1]);
  close(ready[0]);
  reap(MAPPERS);
  return after > before ? (double)(after - before) : 0;
}

enum { BIG_BYTES = 256 << 20 };
/* big is the 256 MiB of fork+wait-256m, every page touched. */
static char *big;

static void op_fork_wait_256m(long n) {
  if (!big) {
    big = mmap(NULL, BIG_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (big == MAP_FAILED) die("mmap 256 MiB");
    for (long off = 0; off < BIG_BYTES; off += 4096) big[off] = (char)off | 1;
  }
  for (long i = 0; i < n; i++) {
    pid_t p = fork();
    if (p < 0) die("fork");
    if (p == 0) {
      big[(i % (BIG_BYTES / 4096)) * 4096] = 0;
      _exit(0);
    }
    int st;
    if (waitpid(p, &st, 0) != p) die("waitpid");
  }
}

static void op_pipe_pingpong(long n) {
  char c = 'x';
  for (long i = 0; i < n; i++) {
    if (write(ping[1], &c, 1) != 1) die("write");
    if (read(pong[0], &c, 1) != 1) die("read");
  }
}

static void futex_call(int op, uint32_t val) {
  syscall(SYS_futex, futex_word, op, val, NULL, NULL, 0);
}

/* op_futex_pingpong: set the shared word to 1 and wake the peer, which sets it to 2 and wakes us back. */
static void op_futex_pingpong(long n) {
  for (long i = 0; i < n; i++) {
    __atomic_store_n(futex_word, 1, __ATOMIC_SEQ_CST);
    futex_call(FUTEX_WAKE, 1);
    while (__atomic_load_n(futex_word, __ATOMIC_SEQ_CST) != 2) futex_call(FUTEX_WAIT, 1);
  }
}

/* start_futex_peer forks the other side of futex-pingpong; the word set to 3 ends it. */
static void start_futex_peer(void) {
  futex_word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (futex_word == MAP_FAILED) die("mmap");
  futex_peer = fork();
  if (futex_peer < 0) die("fork");
  if (futex_peer == 0) {
    for (;;) {
      uint32_t v = __atomic_load_n(futex_word, __ATOMIC_SEQ_CST);
      if (v == 3) _exit(0);
      if (v == 1) {
        __atomic_store_n(futex_word, 2, __ATOMIC_SEQ_CST);
        futex_call(FUTEX_WAKE, 1);
      } else {
        futex_call(FUTEX_WAIT, v);
      }
    }
  }
}

static void stop_futex_peer(void) {
  __atomic_store_n(futex_word, 3, __ATOMIC_SEQ_CST);
  futex_call(FUTEX_WAKE, 1);
  int st;
  waitpid(futex_peer, &st, 0);
}

/* start_echo forks the peer of the ping-pong: it answers each byte it reads. */
static void start_echo(void) {
  if (pipe(ping) != 0 || pipe(pong) != 0) die("pipe");
  echo_pid = fork();
  if (echo_pid < 0) die("fork");
  if (echo_pid == 0) {
    close(ping[1]);
    close(pong[0]);
    char c;
    while (read(ping[0], &c, 1) == 1)
      if (write(pong[1], &c, 1) != 1) _exit(1);
    _exit(0);
  }
  close(ping[0]);
  close(pong[1]);
}

static void stop_echo(void) {
  close(ping[1]);
  close(pong[0]);
  int st;
  waitpid(echo_pid, &st, 0);
}

enum { WALK_FILES = 10000, WALK_PER_DIR = 100 };

/* walk_cold stats each file of the cold walk once and returns the mean seconds per stat. */
static double walk_cold(const char *dir) {
  char p[4096];
  struct stat st;
  double t0 = now();
  for (int i = 0; i < WALK_FILES; i++) {
    snprintf(p, sizeof(p), "%s/d%d/f%d", dir, i / WALK_PER_DIR, i);
    if (stat(p, &st) != 0) die(p);
  }
  return (now() - t0) / WALK_FILES;
}

struct op {
  const char *name;
  void (*run)(long);
};

static const struct op ops[] = {
    {"getppid", op_getppid},     {"open+close", op_open_close}, {"pread-4k", op_pread},
    {"stat", op_stat},           {"fork+wait", op_fork_wait},   {"fork+wait-256m", op_fork_wait_256m},
    {"pipe-pingpong", op_pipe_pingpong}, {"flock", op_flock},   {"futex-pingpong", op_futex_pingpong},
    {"clock_gettime", op_clock_gettime}, {"mmap-private-x4", op_mmap_private_x4},
};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* measure returns the median per-operation time in seconds. */
static double measure(const struct op *op, double budget) {
  long n = 1;
  double t;
  for (;;) {
    double t0 = now();
    op->run(n);
    t = now() - t0;
    if (t >= 0.01 || n >= (1L << 30)) break;
    n *= 2;
  }
  long iters = (long)(budget / ROUNDS / (t / (double)n));
  if (iters < MIN_ITERS) iters = MIN_ITERS;
  double per[ROUNDS];
  for (int r = 0; r < ROUNDS; r++) {
    double t0 = now();
    op->run(iters);
    per[r] = (now() - t0) / (double)iters;
  }
  qsort(per, ROUNDS, sizeof(per[0]), cmp_double);
  return per[ROUNDS / 2];
}

/* wanted tells whether op `name` is to run: every op without names, else those named. */
static int wanted(const char *name, int first, int argc, char **argv) {
  if (first >= argc) return 1;
  for (int a = first; a < argc; a++)
    if (strcmp(argv[a], name) == 0) return 1;
  return 0;
}

int main(int argc, char **argv) {
  double budget = 0.3;
  int first = 1;
  if (argc == 3 && strcmp(argv[1], "-w") == 0) {
    printf("walk-10k-cold %.3f us\n", walk_cold(argv[2]) * 1e6);
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "-t") == 0) {
    budget = atof(argv[2]);
    first = 3;
  }
  big_fd = open(big_file, O_RDONLY);
  if (big_fd < 0) die(big_file);
  /* The futex peer only when its op is asked for: a kernel whose futexes do not wake
   * across processes (a baseline build) would leave it waiting for good. */
  int futex = wanted("futex-pingpong", first, argc, argv);
  if (futex) start_futex_peer(); /* first: the echo peer's pipes must not leak into it */
  start_echo();
  for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
    if (!wanted(ops[i].name, first, argc, argv)) continue;
    double s = measure(&ops[i], budget);
    printf("%s %.3f us\n", ops[i].name, s * 1e6);
    fflush(stdout);
  }
  if (wanted("mmap-private-x4-mem", first, argc, argv)) printf("mmap-private-x4-mem %.3f KiB\n", mmap_private_x4_mem());
  stop_echo();
  if (futex) stop_futex_peer();
  if (map_fd >= 0) unlink(map_path);
  return 0;
}
