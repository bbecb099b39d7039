/*
 * smaps: /proc/self/smaps against what holds on any Linux: each entry's header is the
 * process's /proc/self/maps line for that VMA, in the same order; the VMAs' Rss add up to
 * smaps_rollup's Rss; a touched 4 MiB private anonymous mapping shows Size, Rss and
 * Anonymous of 4096 kB, and in a child forked after, which shares its pages copy-on-write,
 * half that Pss and all of it Shared_Dirty; a 64 KiB mlocked mapping shows Locked 64 kB
 * and `lo` in its VmFlags, the other not.
 *   smaps
 * Prints deterministic lines only.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>

#define KIB 1024L
#define MIB (1L << 20)
#define PG 4096L
#define BIG (4 * MIB)
#define LOCKED (64 * KIB)

static char smaps[512 * 1024], maps[128 * 1024], rollup[8192];

/* slurp reads a whole file into buf (NUL-terminated). */
static void slurp(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY);
  check(fd >= 0, path);
  size_t n = 0;
  for (ssize_t r; (r = read(fd, buf + n, size - 1 - n)) > 0;) n += (size_t)r;
  check(n < size - 1, "buffer too small");
  buf[n] = 0;
  close(fd);
}

/* header tells whether a smaps line heads an entry (an address range, not "Name: value"). */
static int header(const char *line) {
  const char *sp = strchr(line, ' '), *colon = strchr(line, ':');
  return !colon || (sp && sp < colon);
}

/* field returns the value of `name` (e.g. "Rss:") in the entry of smaps starting at addr. */
static long field(unsigned long addr, const char *name) {
  char key[32];
  snprintf(key, sizeof key, "%08lx-", addr);
  char *e = NULL;
  for (char *line = smaps; *line;) {
    if (strncmp(line, key, strlen(key)) == 0) {
      e = line;
      break;
    }
    char *nl = strchr(line, '\n');
    if (!nl) break;
    line = nl + 1;
  }
  check(e != NULL, "no smaps entry at the address");
  for (char *line = strchr(e, '\n') + 1; *line && !header(line);) {
    if (strncmp(line, name, strlen(name)) == 0) {
      if (strcmp(name, "VmFlags:") == 0) return strstr(line, " lo ") != NULL && strstr(line, " lo ") < strchr(line, '\n');
      return atol(line + strlen(name));
    }
    char *nl = strchr(line, '\n');
    if (!nl) break;
    line = nl + 1;
  }
  check(0, name);
  return 0;
}

/* guarded maps len bytes of private anonymous memory between two PROT_NONE pages, so that it is a VMA of its own. */
static unsigned char *guarded(long len) {
  unsigned char *p = mmap(NULL, len + 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(p != MAP_FAILED, "mmap");
  check(mprotect(p + PG, len, PROT_READ | PROT_WRITE) == 0, "mprotect");
  return p + PG;
}

static const char *yes(int b) { return b ? "yes" : "no"; }

int main(void) {
  // The buffers are resident before anything is measured: reading into them must not change the figures.
  memset(smaps, 1, sizeof smaps);
  memset(maps, 1, sizeof maps);
  memset(rollup, 1, sizeof rollup);
  unsigned char *big = guarded(BIG), *small = guarded(LOCKED);
  for (long at = 0; at < BIG; at += PG) big[at] = 1;
  for (long at = 0; at < LOCKED; at += PG) small[at] = 2;
  check(mlock(small, LOCKED) == 0, "mlock");

  slurp("/proc/self/maps", maps, sizeof maps);
  slurp("/proc/self/smaps", smaps, sizeof smaps);
  slurp("/proc/self/smaps_rollup", rollup, sizeof rollup);
  // The headers, in order, are the maps lines; the entries' Rss add up to the rollup's.
  int same = 1;
  long rss = 0;
  char *m = maps;
  for (char *line = smaps; *line;) {
    char *nl = strchr(line, '\n');
    check(nl != NULL, "smaps line");
    if (header(line)) {
      char *mnl = strchr(m, '\n');
      if (!mnl || mnl - m != nl - line || strncmp(m, line, (size_t)(nl - line)) != 0) same = 0;
      m = mnl ? mnl + 1 : m + strlen(m);
    } else if (strncmp(line, "Rss:", 4) == 0) rss += atol(line + 4);
    line = nl + 1;
  }
  say("smaps headers are the maps lines, in order: %s", yes(same && *m == 0));
  char *r = strstr(rollup, "\nRss:");
  check(r != NULL, "rollup Rss");
  say("the VMAs' Rss add up to smaps_rollup's Rss: %s", yes(rss == atol(r + 5)));
  say("4 MiB touched: Size %ld kB, Rss %ld kB, Anonymous %ld kB, Pss %ld kB, lo %s", field((unsigned long)big, "Size:"),
      field((unsigned long)big, "Rss:"), field((unsigned long)big, "Anonymous:"), field((unsigned long)big, "Pss:"),
      yes(field((unsigned long)big, "VmFlags:")));
  say("64 KiB mlocked: Size %ld kB, Rss %ld kB, Locked %ld kB, lo %s", field((unsigned long)small, "Size:"),
      field((unsigned long)small, "Rss:"), field((unsigned long)small, "Locked:"), yes(field((unsigned long)small, "VmFlags:")));

  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    slurp("/proc/self/smaps", smaps, sizeof smaps);
    say("child: 4 MiB shared copy-on-write: Rss %ld kB, Pss %ld kB, Shared_Dirty %ld kB, Private_Dirty %ld kB",
        field((unsigned long)big, "Rss:"), field((unsigned long)big, "Pss:"), field((unsigned long)big, "Shared_Dirty:"),
        field((unsigned long)big, "Private_Dirty:"));
    _exit(0);
  }
  int status;
  check(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child");
  // Written again by the parent: its own copy, all private.
  for (long at = 0; at < BIG; at += PG) big[at] = 3;
  slurp("/proc/self/smaps", smaps, sizeof smaps);
  say("parent after writing it: Pss %ld kB, Private_Dirty %ld kB", field((unsigned long)big, "Pss:"), field((unsigned long)big, "Private_Dirty:"));
  return 0;
}
