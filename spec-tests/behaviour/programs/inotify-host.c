/*
 * inotify-host DIR CTL N0 N1 ...: watches DIR (a bind mount the host changes) and its
 * file DIR/f by itself (events print "dir" or "file" for the watch) and, for
 * each step i, reads events until Ni have come, prints them (mask names, name, whether
 * a move's cookies pair up), then what stat says of the names involved, and creates
 * CTL/ack<i> so that the host makes the next change (CTL/ready first: the watch is on).
 * One host change at a time, so the output is deterministic. Then the program changes
 * the directory itself and, after a second, prints every event queued: each once (a
 * sandbox that also heard its own changes back from the host would print them twice).
 * Then it writes a file through a MAP_SHARED mapping and msyncs it, which Linux does not
 * report (inotify(7)): only the file's creation, truncation, close and removal come
 * (a sandbox that writes the mapping back to the host must not hear that back either).
 * Last, a second instance watches DIR and DIR/r for IN_OPEN, IN_ACCESS and
 * IN_CLOSE_NOWRITE, and the program creates CTL/reading: a host process then reads
 * DIR/r (cat), whose events come on both watches as for a reader in the same mount
 * namespace; then the program reads DIR/r itself: its own events come once each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct { unsigned bit; const char *name; } BITS[] = {
  { IN_ACCESS, "ACCESS" }, { IN_MODIFY, "MODIFY" }, { IN_ATTRIB, "ATTRIB" }, { IN_CLOSE_WRITE, "CLOSE_WRITE" },
  { IN_CLOSE_NOWRITE, "CLOSE_NOWRITE" }, { IN_OPEN, "OPEN" }, { IN_MOVED_FROM, "MOVED_FROM" }, { IN_MOVED_TO, "MOVED_TO" },
  { IN_CREATE, "CREATE" }, { IN_DELETE, "DELETE" }, { IN_DELETE_SELF, "DELETE_SELF" }, { IN_MOVE_SELF, "MOVE_SELF" },
  { IN_IGNORED, "IGNORED" }, { IN_Q_OVERFLOW, "Q_OVERFLOW" }, { IN_ISDIR, "ISDIR" },
};

static void touch(const char *ctl, const char *name) {
  char p[4096];
  snprintf(p, sizeof p, "%s/%s", ctl, name);
  int fd = open(p, O_CREAT | O_WRONLY, 0644);
  if (fd < 0) { printf("cannot create %s: %s\n", p, strerror(errno)); exit(1); }
  close(fd);
}

/* printEvent prints one event; `cookie` keeps a move's first cookie to pair the second. */
static int fileWd = -1;

static void printEvent(const struct inotify_event *e, int wd, unsigned *cookie) {
  char masks[256] = "";
  for (size_t i = 0; i < sizeof BITS / sizeof BITS[0]; i++) {
    if (!(e->mask & BITS[i].bit)) continue;
    if (masks[0]) strcat(masks, "|");
    strcat(masks, BITS[i].name);
  }
  const char *pairing = "";
  if (e->mask & IN_MOVED_FROM) { *cookie = e->cookie; pairing = *cookie ? " cookie set" : " cookie 0"; }
  if (e->mask & IN_MOVED_TO) pairing = e->cookie && e->cookie == *cookie ? " cookie pairs" : " cookie differs";
  printf("  %s %s %s%s\n", e->wd == wd ? "dir" : e->wd == fileWd ? "file" : "other", masks, e->len ? e->name : "-", pairing);
}

static void describe(const char *dir, const char *name) {
  char p[4096];
  struct stat st;
  snprintf(p, sizeof p, "%s/%s", dir, name);
  if (stat(p, &st) < 0) printf("  stat %s: %s\n", name, strerror(errno));
  else printf("  stat %s: %s size %lld mode %o\n", name, S_ISDIR(st.st_mode) ? "dir" : "file", (long long)st.st_size, st.st_mode & 07777);
}

/* readEvents reads and prints events of fd (blocking) until `want` have come. */
static void readEvents(int fd, int wd, int want, char *buf, size_t size) {
  unsigned cookie = 0;
  for (int got = 0; got < want;) {
    ssize_t n = read(fd, buf, size);
    if (n <= 0) { printf("read: %s\n", n < 0 ? strerror(errno) : "end"); exit(1); }
    for (int o = 0; o < n; got++) {
      struct inotify_event *e = (struct inotify_event *)(buf + o);
      o += (int)sizeof *e + (int)e->len;
      printEvent(e, wd, &cookie);
    }
  }
}

/* drain waits a second, then prints every event queued on fd (made non-blocking). */
static void drain(int fd, int wd, char *buf, size_t size) {
  sleep(1);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  unsigned cookie = 0;
  for (;;) {
    ssize_t n = read(fd, buf, size);
    if (n <= 0) break;
    for (int o = 0; o < n;) {
      struct inotify_event *e = (struct inotify_event *)(buf + o);
      o += (int)sizeof *e + (int)e->len;
      printEvent(e, wd, &cookie);
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: inotify-host DIR CTL N...\n"); return 2; }
  setvbuf(stdout, NULL, _IOLBF, 0);
  alarm(60); /* a missing event ends the run rather than hanging it */
  int fd = inotify_init1(IN_CLOEXEC);
  unsigned mask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF;
  int wd = inotify_add_watch(fd, argv[1], mask);
  printf("watch: %s\n", wd > 0 ? "ok" : strerror(errno));
  if (wd <= 0) return 1;
  char fpath[4096];
  snprintf(fpath, sizeof fpath, "%s/f", argv[1]);
  fileWd = inotify_add_watch(fd, fpath, mask);
  printf("file watch: %s\n", fileWd > 0 && fileWd != wd ? "ok" : strerror(errno));
  touch(argv[2], "ready");
  char buf[64 * 1024] __attribute__((aligned(8)));
  int have = 0, at = 0;
  for (int step = 0; step < argc - 3; step++) {
    int want = atoi(argv[3 + step]);
    unsigned cookie = 0;
    char names[8][256];
    int nnames = 0;
    printf("step %d:\n", step);
    for (int got = 0; got < want; got++) {
      if (at >= have) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) { printf("read: %s\n", n < 0 ? strerror(errno) : "end"); return 1; }
        have = (int)n;
        at = 0;
      }
      struct inotify_event *e = (struct inotify_event *)(buf + at);
      at += (int)sizeof *e + (int)e->len;
      printEvent(e, wd, &cookie);
      if (e->len && nnames < 8) snprintf(names[nnames++], sizeof names[0], "%s", e->name);
    }
    if (at < have) printf("  and more events than expected\n");
    for (int i = 0; i < nnames; i++) {
      int seen = 0;
      for (int j = 0; j < i; j++) seen |= !strcmp(names[i], names[j]);
      if (!seen) describe(argv[1], names[i]);
    }
    char ack[32];
    snprintf(ack, sizeof ack, "ack%d", step);
    touch(argv[2], ack);
  }
  /* The program's own changes, reported once. */
  printf("own changes:\n");
  char p[4096], q[4096];
  snprintf(p, sizeof p, "%s/mine", argv[1]);
  snprintf(q, sizeof q, "%s/mine2", argv[1]);
  int f = open(p, O_CREAT | O_WRONLY, 0644);
  if (f < 0 || write(f, "x", 1) != 1 || ftruncate(f, 4) < 0 || close(f) < 0) printf("  write mine: %s\n", strerror(errno));
  if (rename(p, q) < 0 || chmod(q, 0600) < 0 || unlink(q) < 0) printf("  rename, chmod, unlink: %s\n", strerror(errno));
  drain(fd, wd, buf, sizeof buf);
  /* A shared mapping's writes, written back by msync and munmap: never reported. */
  printf("mapping:\n");
  snprintf(p, sizeof p, "%s/mapped", argv[1]);
  int m = open(p, O_CREAT | O_RDWR, 0644);
  if (m < 0 || ftruncate(m, 4096) < 0) { printf("  create: %s\n", strerror(errno)); return 1; }
  /* Read now: an unread event identical to the last one queued would merge with it. */
  drain(fd, wd, buf, sizeof buf);
  printf("msync:\n");
  char *a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
  if (a == MAP_FAILED) { printf("  mmap: %s\n", strerror(errno)); return 1; }
  memcpy(a, "mapped\n", 7);
  if (msync(a, 4096, MS_SYNC) < 0) printf("  msync: %s\n", strerror(errno));
  drain(fd, wd, buf, sizeof buf); /* a write-back's echo would have come by now */
  printf("unmapped:\n");
  if (munmap(a, 4096) < 0 || close(m) < 0 || unlink(p) < 0) printf("  munmap, close, unlink: %s\n", strerror(errno));
  drain(fd, wd, buf, sizeof buf);
  /* A host process reads DIR/r (cat: open, read, close): 3 events on each watch. */
  printf("host reads:\n");
  int rfd = inotify_init1(IN_CLOEXEC);
  unsigned rmask = IN_OPEN | IN_ACCESS | IN_CLOSE_NOWRITE;
  int dwd = inotify_add_watch(rfd, argv[1], rmask);
  snprintf(p, sizeof p, "%s/r", argv[1]);
  fileWd = inotify_add_watch(rfd, p, rmask);
  if (dwd <= 0 || fileWd <= 0) { printf("  watch: %s\n", strerror(errno)); return 1; }
  touch(argv[2], "reading");
  readEvents(rfd, dwd, 6, buf, sizeof buf);
  drain(rfd, dwd, buf, sizeof buf); /* nothing more: the gofer's own opens are not heard */
  /* The program reads DIR/r itself: each event once (not again from the host). */
  printf("own reads:\n");
  int r = open(p, O_RDONLY);
  if (r < 0) { printf("  open r: %s\n", strerror(errno)); return 1; }
  char data[64];
  while (read(r, data, sizeof data) > 0) {}
  close(r);
  drain(rfd, dwd, buf, sizeof buf);
  printf("done\n");
  return 0;
}
