/*
 * fileops: one file operation per argument, each printed as "<op> <result>" where the
 * result is "ok" (or what the operation reads) or the errno's name. Used by
 * spec-tests/security/files.test.ts under runc and tvisor with the same bundle.
 *
 *   trunc-ro,PATH       open(PATH, O_RDONLY|O_TRUNC)
 *   noatime,PATH        open(PATH, O_RDONLY|O_NOATIME)
 *   creat,PATH,MODE     open(PATH, O_WRONLY|O_CREAT|O_EXCL, MODE) (octal; umask 0)
 *   write,PATH,TEXT     open(PATH, O_WRONLY|O_TRUNC), write TEXT
 *   link,OLD,NEW        link(OLD, NEW)
 *   unlink,PATH         unlink(PATH)
 *   chown,PATH,UID,GID  chown(PATH, UID, GID)
 *   chmod,PATH,MODE     chmod(PATH, MODE) (octal)
 *   stat,PATH           prints "uid gid mode(octal)"
 *   read,PATH           open(PATH, O_RDONLY), prints the first line read
 *   list,DIR            opendir(DIR), prints the number of entries besides . and ..
 *   exec,PATH           runs PATH (no arguments) in a child, "ok" when it exits 0
 *   setfl-noatime,PATH  open(PATH, O_RDONLY), fcntl(F_SETFL, O_NOATIME)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void result(const char *op, int r) {
  if (r < 0) printf("%s %s\n", op, strerrorname_np(errno));
  else printf("%s ok\n", op);
}

static int openclose(const char *path, int flags, mode_t mode) {
  int fd = open(path, flags, mode);
  if (fd >= 0) close(fd);
  return fd;
}

static void readline(const char *op, const char *path) {
  char buf[256];
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    result(op, -1);
    return;
  }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) {
    result(op, -1);
    return;
  }
  buf[n] = 0;
  buf[strcspn(buf, "\n")] = 0;
  printf("%s %s\n", op, buf);
}

static void list(const char *op, const char *path) {
  DIR *d = opendir(path);
  if (!d) {
    result(op, -1);
    return;
  }
  int n = 0;
  errno = 0;
  for (struct dirent *e; (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
  int err = errno;
  closedir(d);
  if (err) {
    errno = err;
    result(op, -1);
  } else {
    printf("%s %d\n", op, n);
  }
}

static void run(const char *op, const char *path) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    result(op, -1);
    return;
  }
  if (pid == 0) {
    char *args[] = {(char *)path, NULL};
    execv(path, args);
    result(op, -1);
    fflush(stdout);
    _exit(127);
  }
  int status;
  if (waitpid(pid, &status, 0) < 0) result(op, -1);
  else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) result(op, 0);
  else if (!WIFEXITED(status) || WEXITSTATUS(status) != 127) printf("%s status %d\n", op, status);
}

static int setfl(const char *path, int flags) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  int r = fcntl(fd, F_SETFL, flags);
  int err = errno;
  close(fd);
  errno = err;
  return r;
}

int main(int argc, char **argv) {
  umask(0);
  for (int i = 1; i < argc; i++) {
    char *f[5] = {0};
    char *save = NULL;
    int n = 0;
    for (char *t = strtok_r(argv[i], ",", &save); t && n < 5; t = strtok_r(NULL, ",", &save)) f[n++] = t;
    const char *op = f[0];
    if (!strcmp(op, "trunc-ro") && n == 2) result(op, openclose(f[1], O_RDONLY | O_TRUNC, 0));
    else if (!strcmp(op, "noatime") && n == 2) result(op, openclose(f[1], O_RDONLY | O_NOATIME, 0));
    else if (!strcmp(op, "creat") && n == 3) result(op, openclose(f[1], O_WRONLY | O_CREAT | O_EXCL, strtoul(f[2], NULL, 8)));
    else if (!strcmp(op, "write") && n == 3) {
      int fd = open(f[1], O_WRONLY | O_TRUNC);
      if (fd >= 0) {
        ssize_t w = write(fd, f[2], strlen(f[2]));
        close(fd);
        result(op, w < 0 ? -1 : 0);
      } else {
        result(op, -1);
      }
    } else if (!strcmp(op, "link") && n == 3) result(op, link(f[1], f[2]));
    else if (!strcmp(op, "unlink") && n == 2) result(op, unlink(f[1]));
    else if (!strcmp(op, "chown") && n == 4) result(op, chown(f[1], atoi(f[2]), atoi(f[3])));
    else if (!strcmp(op, "chmod") && n == 3) result(op, chmod(f[1], strtoul(f[2], NULL, 8)));
    else if (!strcmp(op, "stat") && n == 2) {
      struct stat st;
      if (lstat(f[1], &st) < 0) result(op, -1);
      else printf("%s %u %u %o\n", op, st.st_uid, st.st_gid, st.st_mode & 07777);
    } else if (!strcmp(op, "read") && n == 2) readline(op, f[1]);
    else if (!strcmp(op, "list") && n == 2) list(op, f[1]);
    else if (!strcmp(op, "exec") && n == 2) run(op, f[1]);
    else if (!strcmp(op, "setfl-noatime") && n == 2) result(op, setfl(f[1], O_NOATIME));
    else {
      printf("%s BADARG\n", op);
    }
  }
  return 0;
}
