/*
 * pod-watch DIR NAME OUT: a pod member that watches a directory of its bind mount with
 * inotify while it is deleted (spec-tests/oci/pods.test.ts: under tvisor the gofer
 * watches the host directory and the sentry listens on the member's 9P connection for
 * the host's events). It adds an IN_CREATE watch on DIR and writes "ready" to OUT (or
 * what failed, as an errno name); the test then creates DIR/NAME on the host, and it
 * writes "host event" to OUT once the event naming it arrives ("no host event" after
 * 10 s), and then waits to be killed with the watch in place. OUT is replaced by a
 * rename, so that a reader never sees it half written.
 */
#include "../../behaviour/programs/common.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>

static void say_to(const char *out, const char *text) {
  char tmp[512];
  snprintf(tmp, sizeof tmp, "%s.tmp", out);
  int fd = open(tmp, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0 || write(fd, text, strlen(text)) < 0) exit(3);
  close(fd);
  if (rename(tmp, out) < 0) exit(3);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: pod-watch DIR NAME OUT\n");
    return 2;
  }
  const char *name = argv[2], *out = argv[3];
  int in = inotify_init1(IN_NONBLOCK);
  if (in < 0 || inotify_add_watch(in, argv[1], IN_CREATE) < 0) {
    char text[128];
    snprintf(text, sizeof text, "not watched: %s\n", errname(errno));
    say_to(out, text);
    for (;;) pause();
  }
  say_to(out, "ready\n");
  const char *verdict = "no host event\n";
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (int waited = 0; waited < 100 && strcmp(verdict, "host event\n") != 0; waited++) {
    struct pollfd p = { in, POLLIN, 0 };
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = read(in, buf, sizeof buf);
    for (ssize_t off = 0; n > 0 && off < n;) {
      struct inotify_event *e = (struct inotify_event *)(buf + off);
      if (e->len > 0 && strcmp(e->name, name) == 0) verdict = "host event\n";
      off += (ssize_t)(sizeof *e + e->len);
    }
  }
  say_to(out, verdict);
  for (;;) pause();
}
