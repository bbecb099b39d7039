/*
 * fdinfo-anon.c: what /proc/self/fdinfo/N adds for a timerfd (clockid, ticks, settime
 * flags, it_value, it_interval) and an inotify descriptor (one "inotify wd:" line per
 * watch with the inode, the device and the mask), printed where deterministic: an armed
 * timer's time left is checked against its bounds, and a watch's ino and sdev against
 * stat(2) of the watched file (sdev in the kernel's internal encoding, major << 20 |
 * minor). Takes the scratch directory as argv[1].
 */
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <time.h>

/* fdinfo reads /proc/self/fdinfo/fd into buf. */
static void fdinfo(int fd, char *buf, size_t len) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
  int f = open(path, O_RDONLY);
  ssize_t n = f < 0 ? -1 : read(f, buf, len - 1);
  if (f >= 0) close(f);
  if (n < 0) {
    say("FAIL read %s: %s", path, errname(errno));
    exit(1);
  }
  buf[n] = 0;
}

/* timer prints the timerfd lines of fd's fdinfo; it_value is shown as is only when
 * disarmed, else as whether its seconds lie within [lo, hi]. */
static void timer(const char *what, int fd, long lo, long hi) {
  char buf[2048];
  fdinfo(fd, buf, sizeof(buf));
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    unsigned long long s, ns;
    if (sscanf(line, "it_value: (%llu, %llu)", &s, &ns) == 2 && (s || ns)) {
      say("%s: it_value seconds within [%ld, %ld]: %s", what, lo, hi, (long)s >= lo && (long)s <= hi ? "yes" : "no");
    } else if (!strncmp(line, "clockid:", 8) || !strncmp(line, "ticks:", 6) || !strncmp(line, "settime flags:", 14) ||
               !strncmp(line, "it_value:", 9) || !strncmp(line, "it_interval:", 12)) {
      say("%s: %s", what, line);
    }
  }
}

/* watches prints the inotify lines of fd's fdinfo up to the mask, and whether each
 * line's ino and sdev are those of the file its wd watches. */
static void watches(int fd, const int *wds, const struct stat *sts, int n) {
  char buf[4096];
  fdinfo(fd, buf, sizeof(buf));
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    unsigned wd, sdev, mask;
    unsigned long ino;
    if (sscanf(line, "inotify wd:%x ino:%lx sdev:%x mask:%x", &wd, &ino, &sdev, &mask) != 4) continue;
    const struct stat *st = NULL;
    for (int i = 0; i < n; i++) if (wds[i] == (int)wd) st = &sts[i];
    unsigned want = st ? (major(st->st_dev) << 20) | minor(st->st_dev) : 0;
    say("inotify wd:%x mask:%x ino %s sdev %s%s", wd, mask, st && st->st_ino == ino ? "matches" : "differs",
        st && want == sdev ? "matches" : "differs", strstr(line, " ignored_mask:0") ? " ignored_mask:0" : "");
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    say("FAIL usage: fdinfo-anon DIR");
    return 1;
  }
  int t = timerfd_create(CLOCK_MONOTONIC, 0);
  timer("new monotonic", t, 0, 0);
  struct itimerspec one = {{0, 0}, {0, 1}};
  timerfd_settime(t, 0, &one, NULL);
  struct pollfd p = {t, POLLIN, 0};
  poll(&p, 1, 5000);
  timer("expired once", t, 0, 0);
  struct itimerspec every = {{5, 250}, {100, 0}};
  timerfd_settime(t, 0, &every, NULL);
  timer("armed for 100 s", t, 98, 100);

  int r = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct itimerspec at = {{0, 0}, {now.tv_sec + 1000, 0}};
  timerfd_settime(r, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &at, NULL);
  timer("realtime absolute", r, 998, 1000);

  char dir[512], file[600];
  snprintf(dir, sizeof(dir), "%s/watched", argv[1]);
  snprintf(file, sizeof(file), "%s/file", dir);
  mkdir(dir, 0755);
  close(open(file, O_CREAT | O_WRONLY, 0644));
  struct stat sts[2];
  stat(dir, &sts[0]);
  stat(file, &sts[1]);
  int in = inotify_init1(0);
  int wds[2];
  wds[0] = inotify_add_watch(in, dir, IN_CREATE | IN_DELETE);
  wds[1] = inotify_add_watch(in, file, IN_MODIFY | IN_ONESHOT | IN_EXCL_UNLINK);
  say("wds %d %d; the same directory again with IN_MASK_ADD: %d", wds[0], wds[1], inotify_add_watch(in, dir, IN_MASK_ADD | IN_MOVED_TO | IN_ONLYDIR));
  watches(in, wds, sts, 2);
  inotify_rm_watch(in, wds[1]);
  say("after removing wd %d:", wds[1]);
  watches(in, wds, sts, 2);
  return 0;
}
