/*
 * pod-fdpass: a descriptor of one pod member's file, passed to another member over
 * SCM_RIGHTS, outlives the member it came from (spec-tests/oci/pods.test.ts).
 *
 *   pod-fdpass send NAME FILE DIR   opens FILE and directory DIR, listens on the abstract
 *                                   Unix socket @NAME, sends both descriptors to the
 *                                   first connection, then waits to be killed.
 *   pod-fdpass recv NAME SYNC       connects to @NAME (retrying while it is not there),
 *                                   receives the two descriptors, creates SYNC/got, waits
 *                                   for SYNC/go (the test deletes the sender meanwhile),
 *                                   then reads the file (pread from 0, fstat), lists the
 *                                   directory (getdents64), fstats it and opens its file x
 *                                   (openat), writes what it saw to
 *                                   SYNC/result, closes both, creates SYNC/closed and
 *                                   waits to be killed.
 * Only what is deterministic is written: byte counts, contents, entry counts, errno names.
 */
#include "../../behaviour/programs/common.h"
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  size_t n = strlen(name);
  if (n + 1 > sizeof a->sun_path) exit(2);
  memcpy(a->sun_path + 1, name, n);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static void touch(const char *dir, const char *name) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) exit(3);
  close(fd);
}

static void wait_for(const char *dir, const char *name) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  for (int i = 0; i < 6000; i++) {
    if (access(p, F_OK) == 0) return;
    usleep(20000);
  }
  exit(4);
}

static int do_send(const char *name, const char *file, const char *dir) {
  int fds[2] = { open(file, O_RDONLY), open(dir, O_RDONLY | O_DIRECTORY) };
  if (fds[0] < 0 || fds[1] < 0) return 5;
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a;
  socklen_t len = abstract_addr(&a, name);
  if (s < 0 || bind(s, (struct sockaddr *)&a, len) < 0 || listen(s, 1) < 0) return 6;
  int c = accept(s, NULL, NULL);
  if (c < 0) return 7;
  char byte = 'x';
  struct iovec iov = { &byte, 1 };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof fds)]; } u;
  memset(&u, 0, sizeof u);
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof fds);
  memcpy(CMSG_DATA(h), fds, sizeof fds);
  if (sendmsg(c, &m, 0) != 1) return 8;
  for (;;) pause();
}

static int do_recv(const char *name, const char *sync) {
  struct sockaddr_un a;
  socklen_t len = abstract_addr(&a, name);
  int s = -1;
  for (int i = 0; i < 1000; i++) {
    s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0) return 9;
    if (connect(s, (struct sockaddr *)&a, len) == 0) break;
    close(s);
    s = -1;
    usleep(20000);
  }
  if (s < 0) return 10;
  char byte;
  struct iovec iov = { &byte, 1 };
  union { struct cmsghdr h; char buf[CMSG_SPACE(2 * sizeof(int))]; } u;
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  if (recvmsg(s, &m, 0) != 1) return 11;
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  if (!h || h->cmsg_type != SCM_RIGHTS || h->cmsg_len != CMSG_LEN(2 * sizeof(int))) return 12;
  int fds[2];
  memcpy(fds, CMSG_DATA(h), sizeof fds);
  touch(sync, "got");
  wait_for(sync, "go");

  char out[1024], data[256];
  int n = 0;
  ssize_t r = pread(fds[0], data, sizeof data - 1, 0);
  if (r < 0) {
    n += snprintf(out + n, sizeof out - n, "file: read: %s", errname(errno));
  } else {
    data[r] = 0;
    if (r > 0 && data[r - 1] == '\n') data[r - 1] = 0;
    n += snprintf(out + n, sizeof out - n, "file: read %zd bytes: %s", r, data);
  }
  struct stat st;
  if (fstat(fds[0], &st) < 0) n += snprintf(out + n, sizeof out - n, "; fstat: %s", errname(errno));
  else n += snprintf(out + n, sizeof out - n, "; fstat size %lld", (long long)st.st_size);
  char dents[4096];
  long entries = 0, got;
  while ((got = syscall(SYS_getdents64, fds[1], dents, sizeof dents)) > 0) {
    for (long off = 0; off < got;) {
      unsigned short reclen;
      memcpy(&reclen, dents + off + 16, sizeof reclen);
      off += reclen;
      entries++;
    }
  }
  if (got < 0) n += snprintf(out + n, sizeof out - n, "\ndir: getdents64: %s", errname(errno));
  else n += snprintf(out + n, sizeof out - n, "\ndir: %ld entries", entries);
  if (fstat(fds[1], &st) < 0) n += snprintf(out + n, sizeof out - n, "; fstat: %s", errname(errno));
  else n += snprintf(out + n, sizeof out - n, "; fstat: %s", S_ISDIR(st.st_mode) ? "a directory" : "not a directory");
  int x = openat(fds[1], "x", O_RDONLY);
  if (x < 0) {
    n += snprintf(out + n, sizeof out - n, "; openat x: %s\n", errname(errno));
  } else {
    r = read(x, data, sizeof data - 1);
    n += snprintf(out + n, sizeof out - n, "; openat x: read %zd bytes\n", r);
    close(x);
  }

  char p[512];
  snprintf(p, sizeof p, "%s/result.tmp", sync);
  int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0 || write(fd, out, n) != n) return 13;
  close(fd);
  char q[512];
  snprintf(q, sizeof q, "%s/result", sync);
  if (rename(p, q) < 0) return 14;
  close(fds[0]);
  close(fds[1]);
  touch(sync, "closed");
  for (;;) pause();
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "send") == 0) return do_send(argv[2], argv[3], argv[4]);
  if (argc == 4 && strcmp(argv[1], "recv") == 0) return do_recv(argv[2], argv[3]);
  fprintf(stderr, "usage: pod-fdpass send NAME FILE DIR | recv NAME SYNC\n");
  return 2;
}
