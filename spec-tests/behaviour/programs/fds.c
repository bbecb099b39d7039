/*
 * fds: file descriptor table operations.
 *
 * dup (lowest free number, shared offset), dup2 (onto an open fd, onto itself, onto a
 * bad fd), dup3 (O_CLOEXEC, EINVAL for equal fds), fcntl F_DUPFD / F_DUPFD_CLOEXEC
 * (minimum number), F_GETFD/F_SETFD (close-on-exec, checked across a real execve),
 * F_GETFL/F_SETFL (O_APPEND, O_NONBLOCK on a pipe giving EAGAIN), close and EBADF, and
 * stdout redirected with dup2 around a child.
 *   fds DIR          run every check (with a scratch file in DIR, removed at once)
 *   fds probe A B    the re-executed image: reports whether fds A and B are open
 */
#include "common.h"
#include <fcntl.h>

static const char *is_open(int fd) { return fcntl(fd, F_GETFD) == -1 && errno == EBADF ? "closed" : "open"; }

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "probe") == 0) {
    say("after exec: fd %s is %s, fd %s is %s", argv[2], is_open(atoi(argv[2])), argv[3], is_open(atoi(argv[3])));
    return 0;
  }
  if (argc < 2) {
    say("usage: fds DIR");
    return 2;
  }
  check(chdir(argv[1]) == 0, "chdir");
  int p[2];
  check(pipe(p) == 0, "pipe");
  say("pipe fds are the lowest free: %s", p[0] == 3 && p[1] == 4 ? "yes" : "no");

  /* dup gives the lowest free number; the new fd shares the file offset. */
  const char *name = "fds-test.tmp";
  int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0, "open");
  check(unlink(name) == 0, "unlink");
  check(write(fd, "0123456789", 10) == 10, "write");
  close(p[0]);
  int d = dup(fd);
  say("dup after closing fd 3: got %d", d);
  lseek(fd, 2, SEEK_SET);
  char c;
  check(read(d, &c, 1) == 1, "read");
  say("read through the dup after seeking the original: '%c', offset now %lld", c, (long long)lseek(fd, 0, SEEK_CUR));

  /* dup2 onto an open fd closes it first; onto itself is a no-op; a bad source is EBADF. */
  int target = 10;
  check(dup2(p[1], target) == target, "dup2");
  say("dup2 onto fd 10: %s", is_open(target));
  check(dup2(fd, target) == target, "dup2");
  lseek(fd, 4, SEEK_SET);
  check(read(target, &c, 1) == 1, "read");
  say("dup2 replaced fd 10 with the file: read '%c'", c);
  say("dup2(fd, fd): %d", dup2(fd, fd) == fd);
  say("dup2 from a closed fd: %s", result(dup2(50, 51)));
  say("dup3 with equal fds: %s", result(dup3(fd, fd, 0)));
  check(dup3(fd, 11, O_CLOEXEC) == 11, "dup3");
  say("dup3 O_CLOEXEC: FD_CLOEXEC %s", (fcntl(11, F_GETFD) & FD_CLOEXEC) ? "set" : "clear");

  /* F_DUPFD picks the lowest free fd at or above the argument. */
  say("F_DUPFD from 20: %d", fcntl(fd, F_DUPFD, 20));
  say("F_DUPFD from 20 again: %d", fcntl(fd, F_DUPFD, 20));
  int cx = fcntl(fd, F_DUPFD_CLOEXEC, 30);
  say("F_DUPFD_CLOEXEC from 30: %d, FD_CLOEXEC %s", cx, (fcntl(cx, F_GETFD) & FD_CLOEXEC) ? "set" : "clear");
  say("dup flags: FD_CLOEXEC on a plain dup is %s", (fcntl(d, F_GETFD) & FD_CLOEXEC) ? "set" : "clear");

  /* F_SETFD and close-on-exec across execve. */
  check(fcntl(20, F_SETFD, FD_CLOEXEC) == 0, "F_SETFD");
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    char *args[] = {argv[0], "probe", "20", "21", NULL};
    char *env[] = {NULL};
    execve(argv[0], args, env);
    _exit(99);
  }
  int st;
  check(waitpid(pid, &st, 0) == pid, "waitpid");
  say("exec child exit %d", WEXITSTATUS(st));

  /* F_GETFL / F_SETFL: access mode, O_APPEND, O_NONBLOCK. */
  int fl = fcntl(fd, F_GETFL);
  say("F_GETFL: O_RDWR %s, O_APPEND %s", (fl & O_ACCMODE) == O_RDWR ? "yes" : "no", (fl & O_APPEND) ? "yes" : "no");
  check(fcntl(fd, F_SETFL, fl | O_APPEND) == 0, "F_SETFL");
  say("after F_SETFL O_APPEND: O_APPEND %s, shared by the dup: %s", (fcntl(fd, F_GETFL) & O_APPEND) ? "yes" : "no",
      (fcntl(d, F_GETFL) & O_APPEND) ? "yes" : "no");
  lseek(fd, 0, SEEK_SET);
  check(write(fd, "X", 1) == 1, "write");
  say("append write landed at the end: size %lld", (long long)lseek(fd, 0, SEEK_END));
  int q[2];
  check(pipe(q) == 0, "pipe");
  check(fcntl(q[0], F_SETFL, fcntl(q[0], F_GETFL) | O_NONBLOCK) == 0, "F_SETFL");
  say("read on an empty O_NONBLOCK pipe: %s", result(read(q[0], &c, 1)));

  /* close and EBADF. */
  const char *first = result(close(21));
  say("close fd 21: %s, again: %s", first, result(close(21)));
  say("write to a closed fd: %s", result(write(21, "x", 1)));
  say("fcntl on a closed fd: %s", result(fcntl(21, F_GETFL)));

  /* stdout redirected into a pipe around a child, then restored. */
  int r[2];
  check(pipe(r) == 0, "pipe");
  int saved = dup(1);
  check(dup2(r[1], 1) == 1, "dup2");
  close(r[1]);
  pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    say("child writing to its stdout");
    _exit(0);
  }
  check(waitpid(pid, &st, 0) == pid, "waitpid");
  check(dup2(saved, 1) == 1, "dup2");
  close(saved);
  char buf[128];
  ssize_t n = read(r[0], buf, sizeof(buf));
  say("captured from the child's redirected stdout: '%.*s'", (int)(n > 0 ? n - 1 : 0), buf);
  say("done");
  return 0;
}
