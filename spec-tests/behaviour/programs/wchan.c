/*
 * wchan.c: /proc/self/wchan of the running reader is "0" (no wait channel: Linux shows a
 * symbol only for a sleeping task), without a newline, for the process and its thread.
 */
#include "common.h"
#include <fcntl.h>

static void show(const char *label, const char *path) {
  char buf[128];
  int fd = open(path, O_RDONLY);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
  if (fd >= 0) close(fd);
  if (n < 0) {
    say("%s: %s", label, errname(errno));
    return;
  }
  buf[n] = 0;
  say("%s: \"%s\" (%zd bytes)", label, buf, n);
}

int main(void) {
  char path[64];
  show("/proc/self/wchan", "/proc/self/wchan");
  snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", getpid());
  show("/proc/self/task/<tid>/wchan", path);
  return 0;
}
