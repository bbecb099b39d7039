/*
 * bench-io: file I/O throughput, for `make bench-io`.
 *   bench-io DIR MIB
 * In DIR (made if missing) it writes a file of MIB MiB sequentially in 4 KiB blocks, reads it back in 4 KiB
 * blocks, does the same in 1 MiB blocks, then makes MIB * 64 reads of 4 KiB at random
 * 4 KiB-aligned offsets (a fixed sequence), and removes the file. Each line is
 * `<op> <MB/s> MB/s` (MB = 10^6 bytes), timed from the open to the close; nothing else is
 * printed on stdout (errors go to stderr and the exit status is 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "bench-io: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void report(const char *op, double bytes, double seconds) {
  printf("%s %.1f MB/s\n", op, bytes / seconds / 1e6);
}

/* sequential writes (write != 0) or reads the whole file in blocks of `block` bytes. */
static void sequential(const char *path, const char *op, long total, long block, int write_it, char *buf) {
  double t0 = now();
  int fd = write_it ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : open(path, O_RDONLY);
  if (fd < 0) die("open");
  for (long done = 0; done < total;) {
    ssize_t n = write_it ? write(fd, buf, block) : read(fd, buf, block);
    if (n <= 0) die(write_it ? "write" : "read");
    done += n;
  }
  if (close(fd)) die("close");
  report(op, (double)total, now() - t0);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: bench-io DIR MIB\n");
    return 1;
  }
  long mib = atol(argv[2]);
  if (mib <= 0) {
    fprintf(stderr, "bench-io: MIB must be positive\n");
    return 1;
  }
  if (mkdir(argv[1], 0755) && errno != EEXIST) die("mkdir");
  char path[4096];
  snprintf(path, sizeof path, "%s/bench-io.dat", argv[1]);
  long total = mib << 20;
  char *buf = malloc(1 << 20);
  if (!buf) die("malloc");
  memset(buf, 'b', 1 << 20);
  sequential(path, "write-4k", total, 4096, 1, buf);
  sequential(path, "read-4k", total, 4096, 0, buf);
  sequential(path, "write-1m", total, 1 << 20, 1, buf);
  sequential(path, "read-1m", total, 1 << 20, 0, buf);
  long reads = mib * 64, blocks = total / 4096;
  unsigned long x = 88172645463325252UL;
  double t0 = now();
  int fd = open(path, O_RDONLY);
  if (fd < 0) die("open");
  for (long i = 0; i < reads; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if (pread(fd, buf, 4096, (off_t)(x % (unsigned long)blocks) * 4096) != 4096) die("pread");
  }
  close(fd);
  report("randread-4k", (double)reads * 4096, now() - t0);
  if (unlink(path)) die("unlink");
  return 0;
}
