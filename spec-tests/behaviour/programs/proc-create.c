/*
 * proc-create.c: creating a name /proc lacks fails ENOENT, as procfs's lookup of a missing
 * name fails before any write check (no negative dentry): mkdir, mknod, symlink and
 * open(O_CREAT) at the top of /proc, in /proc/sys (read-only in a container) and in
 * /proc/self. An existing name still gives EEXIST.
 */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

static const char *err(int r) {
  return r < 0 ? errname(errno) : "0";
}

int main(void) {
  static const char *dirs[] = {"/proc", "/proc/sys", "/proc/sys/kernel", "/proc/self", NULL};
  for (int i = 0; dirs[i]; i++) {
    char p[256];
    snprintf(p, sizeof(p), "%s/tvisor-probe", dirs[i]);
    say("%s: mkdir %s", dirs[i], err(mkdir(p, 0700)));
    say("%s: mknod fifo %s", dirs[i], err(mknod(p, S_IFIFO | 0600, 0)));
    say("%s: symlink %s", dirs[i], err(symlink("x", p)));
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
    say("%s: open O_CREAT %s", dirs[i], err(fd));
    if (fd >= 0) close(fd);
  }
  say("/proc/sys/kernel: mkdir existing hostname %s", err(mkdir("/proc/sys/kernel/hostname", 0700)));
  return 0;
}
