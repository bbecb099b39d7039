/*
 * rss: what /proc/<pid>/status counts as resident (VmRSS, RssAnon, RssFile, RssShmem) and
 * statm's shared pages, as a process maps and touches a 64 MiB file (MAP_SHARED), 32 MiB
 * of shared anonymous memory and 32 MiB of private memory, forks (the child counts the
 * pages it shares copy-on-write, and the shared ones once it has touched them), and
 * unmaps them again. Figures are printed as relations (grew by at least, back to within
 * 1 MiB of), which hold whatever the page granularity of the counting; smaps_rollup's
 * Rss agrees with VmRSS, and its Pss halves what a fork shares copy-on-write.
 *   rss DIR
 * Prints deterministic lines only.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>

#define MIB (1L << 20)
#define PG 4096L
#define FILE_SIZE (64 * MIB)
#define SHM_SIZE (32 * MIB)
#define ANON_SIZE (32 * MIB)

/* Rss holds the resident figures of /proc/self/status, statm's shared pages and smaps_rollup's Rss and Pss_Anon, in kB. */
struct rss {
  long vm, anon, file, shmem, statm_shared, rollup_rss, pss_anon;
};

static long field(const char *text, const char *name) {
  const char *p = strstr(text, name);
  check(p != NULL, name);
  return atol(p + strlen(name));
}

static struct rss now(void) {
  static char buf[8192];
  struct rss r;
  int fd = open("/proc/self/status", O_RDONLY);
  check(fd >= 0, "open status");
  ssize_t n = read(fd, buf, sizeof buf - 1);
  check(n > 0, "read status");
  buf[n] = 0;
  close(fd);
  r.vm = field(buf, "VmRSS:");
  r.anon = field(buf, "RssAnon:");
  r.file = field(buf, "RssFile:");
  r.shmem = field(buf, "RssShmem:");
  fd = open("/proc/self/statm", O_RDONLY);
  check(fd >= 0, "open statm");
  n = read(fd, buf, sizeof buf - 1);
  check(n > 0, "read statm");
  buf[n] = 0;
  close(fd);
  long size, resident, shared;
  check(sscanf(buf, "%ld %ld %ld", &size, &resident, &shared) == 3, "parse statm");
  r.statm_shared = shared * (PG / 1024);
  fd = open("/proc/self/smaps_rollup", O_RDONLY);
  check(fd >= 0, "open smaps_rollup");
  n = read(fd, buf, sizeof buf - 1);
  check(n > 0, "read smaps_rollup");
  buf[n] = 0;
  close(fd);
  r.rollup_rss = field(buf, "\nRss:");
  r.pss_anon = field(buf, "\nPss_Anon:");
  return r;
}

static const char *yes(int b) {
  return b ? "yes" : "no";
}

/* touch reads (or writes) one byte of every page of [m, m+size) and returns their sum. */
static long touch(volatile unsigned char *m, long size, int store) {
  long sum = 0;
  for (long at = 0; at < size; at += PG) {
    if (store) m[at] = (unsigned char)(at >> 12);
    sum += m[at];
  }
  return sum;
}

int main(int argc, char **argv) {
  check(argc == 2, "usage: rss DIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/rss.dat", argv[1]);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0, "open");
  static unsigned char block[MIB];
  memset(block, 'r', sizeof block);
  for (long at = 0; at < FILE_SIZE; at += MIB) check(write(fd, block, MIB) == MIB, "write");

  struct rss base = now();
  say("VmRSS is RssAnon + RssFile + RssShmem: %s", yes(base.vm == base.anon + base.file + base.shmem));

  unsigned char *file = mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
  check(file != MAP_FAILED, "mmap file");
  check(touch(file, FILE_SIZE, 0) == 'r' * (FILE_SIZE / PG), "file bytes");
  struct rss f = now();
  say("file mapping touched: RssFile grew by at least 64 MiB: %s", yes(f.file - base.file >= FILE_SIZE / 1024));
  say("file mapping touched: VmRSS grew by at least 64 MiB: %s", yes(f.vm - base.vm >= FILE_SIZE / 1024));
  say("file mapping touched: statm shared grew by at least 64 MiB: %s", yes(f.statm_shared - base.statm_shared >= FILE_SIZE / 1024));

  unsigned char *shm = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  check(shm != MAP_FAILED, "mmap shared");
  touch(shm, SHM_SIZE, 1);
  struct rss s = now();
  say("shared anonymous memory touched: RssShmem grew by at least 32 MiB: %s", yes(s.shmem - f.shmem >= SHM_SIZE / 1024));

  unsigned char *anon = mmap(NULL, ANON_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(anon != MAP_FAILED, "mmap private");
  touch(anon, ANON_SIZE, 1);
  struct rss a = now();
  say("private memory touched: RssAnon grew by at least 32 MiB: %s", yes(a.anon - s.anon >= ANON_SIZE / 1024));
  say("VmRSS is RssAnon + RssFile + RssShmem: %s", yes(a.vm == a.anon + a.file + a.shmem));
  say("smaps_rollup Rss within 1 MiB of VmRSS: %s", yes(labs(a.rollup_rss - a.vm) <= 1024));

  pid_t child = fork();
  check(child >= 0, "fork");
  if (child == 0) {
    struct rss c = now();
    say("child, before touching anything: RssAnon at least the parent's 32 MiB of private memory: %s", yes(c.anon >= ANON_SIZE / 1024));
    say("child: Pss_Anon at most RssAnon - 16 MiB (shared copy-on-write with the parent): %s", yes(c.pss_anon <= c.anon - ANON_SIZE / 2048));
    touch(file, FILE_SIZE, 0);
    touch(shm, SHM_SIZE, 0);
    c = now();
    say("child, after reading the shared mappings: RssFile at least 64 MiB: %s, RssShmem at least 32 MiB: %s",
        yes(c.file >= FILE_SIZE / 1024), yes(c.shmem >= SHM_SIZE / 1024));
    say("child: VmRSS at least 128 MiB: %s", yes(c.vm >= (FILE_SIZE + SHM_SIZE + ANON_SIZE) / 1024));
    _exit(0);
  }
  int status;
  check(waitpid(child, &status, 0) == child, "waitpid");
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status");

  check(munmap(file, FILE_SIZE) == 0, "munmap file");
  check(munmap(shm, SHM_SIZE) == 0, "munmap shared");
  check(munmap(anon, ANON_SIZE) == 0, "munmap private");
  struct rss e = now();
  say("all unmapped: RssFile back to within 1 MiB: %s, RssShmem: %s, RssAnon: %s",
      yes(e.file <= base.file + 1024), yes(e.shmem <= base.shmem + 1024), yes(e.anon <= base.anon + 1024));
  close(fd);
  check(unlink(path) == 0, "unlink");
  say("done");
  return 0;
}
