/*
 * fifo: the open rules of fifo(7) on a FIFO in the directory given as argv[1] (tmpfs or
 * a bind mount): a blocking reader waits for a writer and a blocking writer for a reader
 * (whichever comes first), O_WRONLY|O_NONBLOCK without a reader is ENXIO, O_RDONLY|
 * O_NONBLOCK opens at once and reads end of file, O_RDWR never waits, a signal ends a
 * waiting open with EINTR and leaves no reader behind, data left when every end closed
 * is gone, and fstat of an open FIFO shows the FIFO's own inode.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *err(int e) {
  switch (e) {
  case 0: return "ok";
  case ENXIO: return "ENXIO";
  case EINTR: return "EINTR";
  case EAGAIN: return "EAGAIN";
  case EPIPE: return "EPIPE";
  default: return strerror(e);
  }
}

static void on_alarm(int sig) { (void)sig; }

/* reader opens the FIFO blocking and prints what it reads until end of file. */
static void reader(const char *path, const char *who) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) { printf("%s: open: %s\n", who, err(errno)); exit(1); }
  char buf[64];
  size_t got = 0;
  ssize_t n;
  while ((n = read(fd, buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)n;
  buf[got] = 0;
  printf("%s read \"%s\" then %s\n", who, buf, n == 0 ? "end of file" : err(errno));
  close(fd);
}

/* writer opens the FIFO blocking and writes msg. */
static void writer(const char *path, const char *msg) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) { printf("writer: open: %s\n", err(errno)); exit(1); }
  if (write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg)) printf("writer: write: %s\n", err(errno));
  close(fd);
}

static void wait_child(void) {
  int st;
  wait(&st);
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  setvbuf(stdout, NULL, _IONBF, 0);
  char path[4096];
  snprintf(path, sizeof path, "%s/fifo", argv[1]);
  if (mkfifo(path, 0600) != 0) { printf("mkfifo: %s\n", err(errno)); return 1; }

  /* The reader comes first: it waits in open until the writer opens. */
  pid_t p = fork();
  if (p == 0) { reader(path, "early reader"); _exit(0); }
  usleep(200000);
  writer(path, "first");
  wait_child();

  /* The writer comes first: it waits in open until the reader opens. */
  p = fork();
  if (p == 0) { writer(path, "second"); _exit(0); }
  usleep(200000);
  reader(path, "late reader");
  wait_child();

  int fd = open(path, O_WRONLY | O_NONBLOCK);
  printf("O_WRONLY|O_NONBLOCK without a reader: %s\n", fd < 0 ? err(errno) : "opened");
  if (fd >= 0) close(fd);

  fd = open(path, O_RDONLY | O_NONBLOCK);
  printf("O_RDONLY|O_NONBLOCK without a writer: %s\n", fd < 0 ? err(errno) : "opened");
  if (fd >= 0) {
    char c;
    ssize_t n = read(fd, &c, 1);
    printf("  read: %s\n", n == 0 ? "end of file" : n < 0 ? err(errno) : "data");
    struct pollfd pfd = {fd, POLLIN, 0};
    int r = poll(&pfd, 1, 0);
    printf("  poll: %d, revents%s%s\n", r, pfd.revents & POLLHUP ? " POLLHUP" : "", pfd.revents & POLLIN ? " POLLIN" : "");
    int w = open(path, O_WRONLY | O_NONBLOCK);
    printf("  a writer now opens: %s\n", w < 0 ? err(errno) : "ok");
    close(w);
    r = poll(&pfd, 1, 0);
    printf("  poll after the writer closed: %d, revents%s\n", r, pfd.revents & POLLHUP ? " POLLHUP" : "");
    close(fd);
  }

  fd = open(path, O_RDWR);
  printf("O_RDWR: %s\n", fd < 0 ? err(errno) : "opened without waiting");
  if (fd >= 0) {
    write(fd, "left", 4);
    close(fd);
  }
  fd = open(path, O_RDONLY | O_NONBLOCK);
  if (fd >= 0) {
    char buf[8];
    ssize_t n = read(fd, buf, sizeof buf);
    printf("data left when every end closed: %s\n", n == 0 ? "gone" : n > 0 ? "still there" : err(errno));
    close(fd);
  }

  /* A signal ends a waiting open (no SA_RESTART): EINTR, and no reader is left. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  alarm(1);
  fd = open(path, O_RDONLY);
  printf("blocking open interrupted by SIGALRM: %s\n", fd < 0 ? err(errno) : "opened");
  if (fd >= 0) close(fd);
  fd = open(path, O_WRONLY | O_NONBLOCK);
  printf("then O_WRONLY|O_NONBLOCK: %s\n", fd < 0 ? err(errno) : "opened (a reader was left behind)");
  if (fd >= 0) close(fd);

  /* With SA_RESTART the open goes on waiting after the handler and meets its writer. */
  sa.sa_flags = SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);
  p = fork();
  if (p == 0) { usleep(1500000); writer(path, "restarted"); _exit(0); }
  alarm(1);
  reader(path, "restarted reader");
  wait_child();

  /* fstat of an open FIFO is the FIFO's inode. */
  struct stat byname, byfd;
  stat(path, &byname);
  fd = open(path, O_RDWR);
  fstat(fd, &byfd);
  printf("fstat: %s, same inode as stat: %s\n", S_ISFIFO(byfd.st_mode) ? "FIFO" : "not a FIFO",
         byfd.st_ino == byname.st_ino && byfd.st_dev == byname.st_dev ? "yes" : "no");
  close(fd);
  unlink(path);

  /* An anonymous pipe reopened through /proc/self/fd never waits (bash's <(...) does it
   * after the writer may have gone) and a write-only reopen without a reader opens. */
  int pfd[2];
  pipe(pfd);
  write(pfd[1], "gone", 4);
  close(pfd[1]);
  char name[64];
  snprintf(name, sizeof name, "/proc/self/fd/%d", pfd[0]);
  fd = open(name, O_RDONLY);
  if (fd >= 0) {
    char buf[8] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    ssize_t m = read(fd, buf, sizeof buf - 1);
    printf("reopened pipe without a writer: read %zd then %zd\n", n, m);
    close(fd);
  } else {
    printf("reopened pipe without a writer: %s\n", err(errno));
  }
  close(pfd[0]);
  pipe(pfd);
  close(pfd[0]);
  snprintf(name, sizeof name, "/proc/self/fd/%d", pfd[1]);
  fd = open(name, O_WRONLY | O_NONBLOCK);
  printf("pipe's write end reopened O_NONBLOCK without a reader: %s\n", fd < 0 ? err(errno) : "opened");
  if (fd >= 0) close(fd);
  close(pfd[1]);
  printf("done\n");
  return 0;
}
