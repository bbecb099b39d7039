/*
 * fdfiles: files that name open file descriptions and /proc's view of processes.
 * Opening /proc/self/fd/N and /dev/fd/N of a pipe (a new reader or writer of the same
 * pipe), of a deleted file (it still opens), of a socket and an eventfd, of another
 * user's process (CAP_SYS_PTRACE needed); the readlink forms; the fd directory
 * following the table; fdinfo's position and flags; a zombie's state in /proc/<pid>/stat
 * and its disappearance once reaped; /proc/self/task with two threads; posix_fadvise's
 * answers; splice, tee, vmsplice, copy_file_range and sendfile with and without
 * offsets; fallocate's modes; inotify events for changes in a watched directory.
 * Usage: fdfiles <scratch dir>.
 */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/capability.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static char path[4096];

/* fdpath formats /proc/self/fd/N (or another prefix) into `path`. */
static const char *fdpath(const char *prefix, int fd) {
  snprintf(path, sizeof(path), "%s/%d", prefix, fd);
  return path;
}

static void pipes(void) {
  int p[2];
  check(pipe(p) == 0, "pipe");
  check(write(p[1], "hello", 5) == 5, "write");
  int r = open(fdpath("/proc/self/fd", p[0]), O_RDONLY);
  check(r >= 0, "open /proc/self/fd of the read end");
  char buf[16] = {0};
  check(read(r, buf, sizeof(buf)) == 5, "read the reopened read end");
  say("reopened read end reads: '%s', is a new fd: %s", buf, r != p[0] ? "yes" : "no");
  int w = open(fdpath("/dev/fd", p[1]), O_WRONLY);
  check(w >= 0, "open /dev/fd of the write end");
  check(write(w, "world", 5) == 5, "write the reopened write end");
  memset(buf, 0, sizeof(buf));
  check(read(p[0], buf, sizeof(buf)) == 5, "read");
  say("written through /dev/fd, read from the pipe: '%s'", buf);
  say("F_GETFL access of the reopened ends: %d %d", fcntl(r, F_GETFL) & O_ACCMODE, fcntl(w, F_GETFL) & O_ACCMODE);

  char link[256] = {0}, want[64];
  struct stat st, viaPath;
  check(fstat(p[0], &st) == 0, "fstat");
  check(readlink(fdpath("/proc/self/fd", p[0]), link, sizeof(link) - 1) > 0, "readlink");
  snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)st.st_ino);
  say("readlink of a pipe is pipe:[ino]: %s", strcmp(link, want) == 0 ? "yes" : link);
  check(stat(fdpath("/proc/self/fd", p[0]), &viaPath) == 0, "stat through the link");
  say("stat through the link: fifo %s, same inode %s", S_ISFIFO(viaPath.st_mode) ? "yes" : "no", viaPath.st_ino == st.st_ino ? "yes" : "no");
  check(lstat(fdpath("/proc/self/fd", p[0]), &viaPath) == 0, "lstat");
  say("lstat of the link: symlink %s", S_ISLNK(viaPath.st_mode) ? "yes" : "no");
  say("open with O_NOFOLLOW: %s", result(open(fdpath("/proc/self/fd", p[0]), O_RDONLY | O_NOFOLLOW)));

  /* Closing every writer: the reopened reader sees end of file. */
  close(p[1]);
  close(w);
  say("read after the writers closed: %d", (int)read(r, buf, sizeof(buf)));
  say("lstat of a closed fd's link: %s", result(lstat(fdpath("/proc/self/fd", p[1]), &viaPath)));
  close(p[0]);
  close(r);
}

static void deleted(const char *dir) {
  char name[4096];
  snprintf(name, sizeof(name), "%s/fdfiles-deleted", dir);
  int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0, "create");
  check(write(fd, "kept data", 9) == 9, "write");
  check(unlink(name) == 0, "unlink");
  char link[4096] = {0};
  check(readlink(fdpath("/proc/self/fd", fd), link, sizeof(link) - 1) > 0, "readlink");
  const char *suffix = " (deleted)";
  size_t n = strlen(link), s = strlen(suffix);
  say("readlink of a deleted file ends with ' (deleted)': %s", n > s && strcmp(link + n - s, suffix) == 0 ? "yes" : "no");
  int r = open(fdpath("/proc/self/fd", fd), O_RDONLY);
  check(r >= 0, "reopen the deleted file");
  char buf[16] = {0};
  say("reopened deleted file reads from offset 0: '%.*s'", (int)read(r, buf, sizeof(buf)), buf);
  say("the original offset is still 9: %s", lseek(fd, 0, SEEK_CUR) == 9 ? "yes" : "no");
  close(r);
  close(fd);
}

static void anonymous(void) {
  int sv[2];
  check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  char link[256] = {0};
  check(readlink(fdpath("/proc/self/fd", sv[0]), link, sizeof(link) - 1) > 0, "readlink");
  say("readlink of a socket starts with socket:[: %s", strncmp(link, "socket:[", 8) == 0 ? "yes" : "no");
  say("open of a socket's link: %s", result(open(fdpath("/proc/self/fd", sv[0]), O_RDWR)));
  close(sv[0]);
  close(sv[1]);
  int e = eventfd(0, 0);
  check(e >= 0, "eventfd");
  memset(link, 0, sizeof(link));
  check(readlink(fdpath("/proc/self/fd", e), link, sizeof(link) - 1) > 0, "readlink");
  say("readlink of an eventfd: %s", link);
  say("open of an eventfd's link: %s", result(open(fdpath("/proc/self/fd", e), O_RDWR)));
  close(e);
}

/* fdinfoLines prints the pos and flags lines of /proc/self/fdinfo/N. */
static void fdinfoLines(const char *what, int fd) {
  char buf[1024] = {0};
  int f = open(fdpath("/proc/self/fdinfo", fd), O_RDONLY);
  check(f >= 0, "open fdinfo");
  check(read(f, buf, sizeof(buf) - 1) > 0, "read fdinfo");
  close(f);
  char *pos = strstr(buf, "pos:"), *flags = strstr(buf, "flags:");
  if (!pos || !flags || !strchr(pos, '\n') || !strchr(flags, '\n')) {
    say("fdinfo of %s: no pos and flags lines", what);
    return;
  }
  *strchr(pos, '\n') = 0;
  *strchr(flags, '\n') = 0;
  say("fdinfo of %s: %s, %s", what, pos, flags);
}

static void fdinfo(const char *dir) {
  char name[4096];
  snprintf(name, sizeof(name), "%s/fdfiles-fdinfo", dir);
  int fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0600);
  check(fd >= 0, "create");
  check(write(fd, "12345", 5) == 5, "write");
  fdinfoLines("a file", fd);
  int p[2];
  check(pipe2(p, O_NONBLOCK) == 0, "pipe2");
  fdinfoLines("a pipe's read end", p[0]);
  close(p[0]);
  close(p[1]);
  struct stat st;
  say("fdinfo of a closed fd: %s", result(stat(fdpath("/proc/self/fdinfo", p[0]), &st)));
  close(fd);
  unlink(name);
}

/* setPtraceCap raises or drops CAP_SYS_PTRACE in the effective set and returns whether
 * it was there before (-1 with errno on failure). */
static int setPtraceCap(int on) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) != 0) return -1;
  int had = (d[0].effective >> CAP_SYS_PTRACE) & 1;
  if (on) d[0].effective |= 1u << CAP_SYS_PTRACE;
  else d[0].effective &= ~(1u << CAP_SYS_PTRACE);
  return syscall(SYS_capset, &h, d) == 0 ? had : -1;
}

/* otherUser: another user's descriptors, through /proc/<pid>/fd, need CAP_SYS_PTRACE. */
static void otherUser(void) {
  int ready[2], hold[2];
  check(pipe(ready) == 0 && pipe(hold) == 0, "pipe");
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    close(ready[0]);
    close(hold[1]);
    if (setresgid(1000, 1000, 1000) != 0 || setresuid(1000, 1000, 1000) != 0) _exit(2);
    int fd = open("/dev/null", O_RDONLY);
    char c = (char)fd;
    if (write(ready[1], &c, 1) != 1) _exit(3);
    if (read(hold[0], &c, 1) < 0) _exit(4);
    _exit(0);
  }
  close(ready[1]);
  close(hold[0]);
  char c;
  check(read(ready[0], &c, 1) == 1, "read ready");
  char file[64], link[256];
  snprintf(file, sizeof(file), "/proc/%d/fd/%d", pid, c);
  int had = setPtraceCap(0);
  check(had >= 0, "capset");
  say("another user's fd link without CAP_SYS_PTRACE: open %s, readlink %s", result(open(file, O_RDONLY)), result(readlink(file, link, sizeof(link))));
  if (had) check(setPtraceCap(1) >= 0, "capset");
  close(hold[1]);
  close(ready[0]);
  int status;
  check(waitpid(pid, &status, 0) == pid, "waitpid");
  say("the other user's process ended with status %d", WEXITSTATUS(status));
}

static int listed(const char *dir, const char *name) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int found = 0;
  struct dirent *de;
  while ((de = readdir(d))) found |= strcmp(de->d_name, name) == 0;
  closedir(d);
  return found;
}

static void table(void) {
  check(dup2(1, 50) == 50, "dup2");
  say("fd 50 listed in /proc/self/fd after dup2: %s", listed("/proc/self/fd", "50") ? "yes" : "no");
  struct stat st;
  check(stat("/proc/self/fd/50", &st) == 0, "stat fd 50");
  close(50);
  say("fd 50 listed after close: %s, stat: %s", listed("/proc/self/fd", "50") ? "yes" : "no", result(stat("/proc/self/fd/50", &st)));
}

/* statState returns the state letter of /proc/<pid>/stat (or '?' with errno set). */
static char statState(const char *file) {
  char buf[1024] = {0};
  int fd = open(file, O_RDONLY);
  if (fd < 0) return '?';
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  char *p = n > 0 ? strrchr(buf, ')') : NULL;
  return p && p[1] == ' ' ? p[2] : '!';
}

/* statFields returns num_threads, vsize and rss (fields 20, 23, 24) of a stat file. */
static const char *statFields(const char *file) {
  static char out[128];
  char buf[1024] = {0};
  int fd = open(file, O_RDONLY);
  if (fd < 0) return errname(errno);
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  char *p = n > 0 ? strrchr(buf, ')') : NULL;
  if (!p) return "?";
  char *f[64] = {0};
  int i = 0;
  for (char *tok = strtok(p + 2, " "); tok && i < 64; tok = strtok(NULL, " ")) f[i++] = tok;
  if (i < 22) return "short";
  snprintf(out, sizeof(out), "%s %s %s", f[17], f[20], f[21]);
  return out;
}

static void zombie(void) {
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) _exit(7);
  siginfo_t si;
  check(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0, "waitid WNOWAIT");
  char dir[64], file[96];
  snprintf(dir, sizeof(dir), "/proc/%d", pid);
  snprintf(file, sizeof(file), "/proc/%d/stat", pid);
  say("zombie: /proc/<pid>/stat state %c", statState(file));
  say("zombie: /proc/<pid>/stat threads, vsize, rss: %s", statFields(file));
  char sfile[96], buf[2048] = {0};
  snprintf(sfile, sizeof(sfile), "/proc/%d/status", pid);
  int fd = open(sfile, O_RDONLY);
  check(fd >= 0, "open status");
  check(read(fd, buf, sizeof(buf) - 1) > 0, "read status");
  close(fd);
  char *state = strstr(buf, "State:");
  char *end = state ? strchr(state, '\n') : NULL;
  if (end) *end = 0;
  say("zombie: status %s", state ? state : "(no State line)");
  struct stat st;
  say("zombie: /proc/<pid> %s", result(stat(dir, &st)));
  int status;
  check(waitpid(pid, &status, 0) == pid, "waitpid");
  say("reaped (status %d): stat /proc/<pid> %s", WEXITSTATUS(status), result(stat(dir, &st)));
  say("reaped: open /proc/<pid>/stat %s", statState(file) == '?' ? errname(errno) : "opened");
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready, done;
static pid_t threadTid;
static char threadSelf[32];

static void *worker(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  threadTid = (pid_t)syscall(SYS_gettid);
  char buf[1024] = {0};
  int fd = open("/proc/thread-self/stat", O_RDONLY);
  if (fd >= 0) {
    if (read(fd, buf, sizeof(buf) - 1) < 0) buf[0] = 0;
    close(fd);
  }
  snprintf(threadSelf, sizeof(threadSelf), "%d ", threadTid);
  threadSelf[sizeof(threadSelf) - 1] = 0;
  strncpy(threadSelf, strncmp(buf, threadSelf, strlen(threadSelf)) == 0 ? "yes" : "no", sizeof(threadSelf) - 1);
  ready = 1;
  pthread_cond_broadcast(&cv);
  while (!done) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void threads(void) {
  pthread_t th;
  check(pthread_create(&th, NULL, worker, NULL) == 0, "pthread_create");
  pthread_mutex_lock(&mu);
  while (!ready) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  int count = 0;
  DIR *d = opendir("/proc/self/task");
  check(d != NULL, "opendir /proc/self/task");
  struct dirent *de;
  while ((de = readdir(d))) if (de->d_name[0] != '.') count++;
  closedir(d);
  say("threads listed in /proc/self/task: %d", count);
  char tid[32], file[96];
  snprintf(tid, sizeof(tid), "%d", threadTid);
  say("the thread's tid listed: %s", listed("/proc/self/task", tid) == 1 ? "yes" : "no");
  snprintf(file, sizeof(file), "/proc/self/task/%d/stat", threadTid);
  char buf[1024] = {0};
  int fd = open(file, O_RDONLY);
  check(fd >= 0, "open task stat");
  check(read(fd, buf, sizeof(buf) - 1) > 0, "read task stat");
  close(fd);
  say("task/<tid>/stat starts with the tid: %s", strncmp(buf, tid, strlen(tid)) == 0 && buf[strlen(tid)] == ' ' ? "yes" : "no");
  say("/proc/thread-self/stat in the thread names it: %s", threadSelf);
  pthread_mutex_lock(&mu);
  done = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  pthread_join(th, NULL);
  struct stat st;
  // join returns when the kernel clears the thread's tid word, which Linux does before it
  // unhashes the task: its directory may outlive the join for a moment (seen under load).
  int gone = stat(file, &st);
  for (int i = 0; i < 2000 && gone == 0; i++) {
    usleep(1000);
    gone = stat(file, &st);
  }
  say("task/<tid> after the thread ended: %s", result(gone));
}

static void fadvise(const char *dir) {
  char name[4096];
  snprintf(name, sizeof(name), "%s/fdfiles-advise", dir);
  int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(fd >= 0, "create");
  say("posix_fadvise SEQUENTIAL: %s", errname(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)));
  say("posix_fadvise DONTNEED: %s", errname(posix_fadvise(fd, 0, 4096, POSIX_FADV_DONTNEED)));
  say("posix_fadvise bad advice: %s", errname(posix_fadvise(fd, 0, 0, 99)));
  say("posix_fadvise negative length: %s", errname(posix_fadvise(fd, 0, -1, POSIX_FADV_NORMAL)));
  int p[2];
  check(pipe(p) == 0, "pipe");
  say("posix_fadvise on a pipe: %s", errname(posix_fadvise(p[0], 0, 0, POSIX_FADV_NORMAL)));
  close(p[0]);
  close(p[1]);
  close(fd);
  say("posix_fadvise on a closed fd: %s", errname(posix_fadvise(fd, 0, 0, POSIX_FADV_NORMAL)));
  unlink(name);
}

/* scratchFile creates dir/name holding `data` and returns it open O_RDWR. */
static int scratchFile(const char *dir, const char *name, const char *data, int extra) {
  char file[4096];
  snprintf(file, sizeof(file), "%s/%s", dir, name);
  int fd = open(file, O_RDWR | O_CREAT | O_TRUNC | extra, 0600);
  check(fd >= 0, "create");
  if (data) check(write(fd, data, strlen(data)) == (ssize_t)strlen(data), "write");
  check(unlink(file) == 0, "unlink");
  return fd;
}

/* readPipe reads what a pipe holds (at most 63 bytes) as a string, without waiting
 * (a kernel that lost the data shows an empty string rather than hanging). */
static const char *readPipe(int fd) {
  static char buf[64];
  int fl = fcntl(fd, F_GETFL);
  check(fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0, "F_SETFL");
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  check(fcntl(fd, F_SETFL, fl) == 0, "F_SETFL");
  buf[n < 0 ? 0 : n] = 0;
  return buf;
}

/* contents shows a file's bytes from 0, with '.' for zeros. */
static const char *contents(int fd) {
  static char buf[64];
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n < 0) n = 0;
  for (ssize_t i = 0; i < n; i++) if (buf[i] == 0) buf[i] = '.';
  buf[n] = 0;
  return buf;
}

static void splices(const char *dir) {
  int p[2], q[2];
  check(pipe(p) == 0 && pipe(q) == 0, "pipe");
  int fd = scratchFile(dir, "fdfiles-splice", "0123456789", 0);
  loff_t off = 2;
  ssize_t n = splice(fd, &off, p[1], NULL, 5, 0);
  say("splice file->pipe at offset 2: %zd, offset now %lld, file position %lld, pipe has '%s'", n, (long long)off, (long long)lseek(fd, 0, SEEK_CUR), readPipe(p[0]));
  check(lseek(fd, 6, SEEK_SET) == 6, "lseek");
  n = splice(fd, NULL, p[1], NULL, 100, 0);
  say("splice file->pipe from the position 6: %zd, position now %lld, pipe has '%s'", n, (long long)lseek(fd, 0, SEEK_CUR), readPipe(p[0]));
  say("splice at the end of the file: %zd", splice(fd, NULL, p[1], NULL, 100, 0));

  int out = scratchFile(dir, "fdfiles-splice-out", NULL, 0);
  check(write(p[1], "abcde", 5) == 5, "write");
  off = 3;
  n = splice(p[0], NULL, out, &off, 5, 0);
  say("splice pipe->file at offset 3: %zd, offset now %lld, file '%s'", n, (long long)off, contents(out));
  check(write(p[1], "xyz", 3) == 3, "write");
  n = splice(p[0], NULL, out, NULL, 2, 0);
  say("splice 2 of 3 bytes pipe->file at the position: %zd, file '%s', pipe keeps '%s'", n, contents(out), readPipe(p[0]));

  check(write(p[1], "p2p", 3) == 3, "write");
  n = splice(p[0], NULL, q[1], NULL, 10, 0);
  say("splice pipe->pipe: %zd, second pipe has '%s'", n, readPipe(q[0]));
  say("splice file->file: %s", result(splice(fd, NULL, out, NULL, 1, 0)));
  off = 0;
  say("splice with an offset on the pipe: %s", result(splice(p[0], &off, out, NULL, 1, 0)));
  say("splice a pipe into itself: %s", result(splice(p[0], NULL, p[1], NULL, 1, 0)));
  say("splice from an empty pipe, SPLICE_F_NONBLOCK: %s", result(splice(p[0], NULL, out, NULL, 1, SPLICE_F_NONBLOCK)));
  int app = scratchFile(dir, "fdfiles-append", NULL, O_APPEND);
  check(write(p[1], "a", 1) == 1, "write");
  say("splice into an O_APPEND file: %s", result(splice(p[0], NULL, app, NULL, 1, 0)));
  readPipe(p[0]);

  check(write(p[1], "teedata", 7) == 7, "write");
  n = tee(p[0], q[1], 100, 0);
  say("tee: %zd, copy '%s'", n, readPipe(q[0]));
  say("tee left the source: '%s'", readPipe(p[0]));
  say("tee from a file: %s", result(tee(fd, q[1], 1, 0)));
  say("tee from an empty pipe, SPLICE_F_NONBLOCK: %s", result(tee(p[0], q[1], 1, SPLICE_F_NONBLOCK)));

  struct iovec iov[2] = {{(void *)"vm", 2}, {(void *)"splice", 6}};
  n = vmsplice(p[1], iov, 2, 0);
  say("vmsplice into a pipe: %zd, pipe has '%s'", n, readPipe(p[0]));
  say("vmsplice on a file: %s", result(vmsplice(fd, iov, 1, 0)));

  off = 1;
  n = sendfile(p[1], fd, &off, 3);
  say("sendfile at offset 1: %zd, offset now %lld, pipe has '%s'", n, (long long)off, readPipe(p[0]));

  close(app);
  close(out);
  close(fd);
  close(p[0]);
  close(p[1]);
  close(q[0]);
  close(q[1]);
}

static void copies(const char *dir) {
  int src = scratchFile(dir, "fdfiles-cfr-src", "ABCDEFGHIJ", 0);
  int dst = scratchFile(dir, "fdfiles-cfr-dst", NULL, 0);
  loff_t in = 2, out = 1;
  ssize_t n = copy_file_range(src, &in, dst, &out, 4, 0);
  say("copy_file_range with offsets: %zd, offsets now %lld %lld, positions %lld %lld, dst '%s'", n, (long long)in, (long long)out,
      (long long)lseek(src, 0, SEEK_CUR), (long long)lseek(dst, 0, SEEK_CUR), contents(dst));
  check(lseek(src, 8, SEEK_SET) == 8, "lseek");
  n = copy_file_range(src, NULL, dst, NULL, 100, 0);
  say("copy_file_range at the positions: %zd, positions now %lld %lld, dst '%s'", n, (long long)lseek(src, 0, SEEK_CUR), (long long)lseek(dst, 0, SEEK_CUR), contents(dst));
  say("copy_file_range at the end: %zd", copy_file_range(src, NULL, dst, NULL, 100, 0));
  in = 0;
  out = 3;
  say("copy_file_range within one file, overlapping: %s", result(copy_file_range(src, &in, src, &out, 5, 0)));
  in = 0;
  out = 20;
  n = copy_file_range(src, &in, src, &out, 3, 0);
  say("copy_file_range within one file, apart: %zd, file '%s'", n, contents(src));
  in = 0;
  say("copy_file_range with flags 1: %s", result(copy_file_range(src, &in, dst, NULL, 1, 1)));
  int p[2];
  check(pipe(p) == 0, "pipe");
  check(write(p[1], "x", 1) == 1, "write");
  say("copy_file_range from a pipe: %s", result(copy_file_range(p[0], NULL, dst, NULL, 1, 0)));
  int app = scratchFile(dir, "fdfiles-cfr-append", NULL, O_APPEND);
  in = 0;
  say("copy_file_range into an O_APPEND file: %s", result(copy_file_range(src, &in, app, NULL, 1, 0)));
  int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
  check(dirfd >= 0, "open dir");
  in = 0;
  say("copy_file_range from a directory: %s", result(copy_file_range(dirfd, &in, dst, NULL, 1, 0)));
  close(dirfd);
  close(app);
  close(p[0]);
  close(p[1]);
  close(src);
  close(dst);
}

static void fallocates(const char *dir) {
  int fd = scratchFile(dir, "fdfiles-fallocate", "0123456789", 0);
  struct stat st;
  const char *r = result(fallocate(fd, 0, 8, 8));
  check(fstat(fd, &st) == 0, "fstat");
  say("fallocate mode 0 to 16: %s, size %lld", r, (long long)st.st_size);
  r = result(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 64));
  check(fstat(fd, &st) == 0, "fstat");
  say("fallocate KEEP_SIZE beyond: %s, size %lld", r, (long long)st.st_size);
  r = result(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2, 4));
  check(fstat(fd, &st) == 0, "fstat");
  say("fallocate PUNCH_HOLE|KEEP_SIZE 2..6: %s, size %lld, file '%s'", r, (long long)st.st_size, contents(fd));
  say("fallocate PUNCH_HOLE alone: %s", result(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 1)));
  say("fallocate len 0: %s", result(fallocate(fd, 0, 0, 0)));
  say("fallocate negative offset: %s", result(fallocate(fd, 0, -1, 1)));
  say("fallocate unknown mode: %s", result(fallocate(fd, 0x100, 0, 1)));
  int p[2];
  check(pipe(p) == 0, "pipe");
  say("fallocate on a pipe's write end: %s", result(fallocate(p[1], 0, 0, 1)));
  say("fallocate on a pipe's read end: %s", result(fallocate(p[0], 0, 0, 1)));
  close(p[0]);
  close(p[1]);
  char file[4096];
  snprintf(file, sizeof(file), "%s/fdfiles-fallocate-ro", dir);
  int w = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(w >= 0, "create");
  close(w);
  int ro = open(file, O_RDONLY);
  check(ro >= 0, "open read-only");
  say("fallocate on a read-only fd: %s", result(fallocate(ro, 0, 0, 1)));
  close(ro);
  unlink(file);
  close(fd);
}

/* maskNames spells an inotify mask. */
static const char *maskNames(uint32_t m) {
  static char buf[256];
  static const struct { uint32_t bit; const char *name; } names[] = {
    {IN_ACCESS, "ACCESS"}, {IN_MODIFY, "MODIFY"}, {IN_ATTRIB, "ATTRIB"}, {IN_CLOSE_WRITE, "CLOSE_WRITE"},
    {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"}, {IN_OPEN, "OPEN"}, {IN_MOVED_FROM, "MOVED_FROM"}, {IN_MOVED_TO, "MOVED_TO"},
    {IN_CREATE, "CREATE"}, {IN_DELETE, "DELETE"}, {IN_DELETE_SELF, "DELETE_SELF"}, {IN_MOVE_SELF, "MOVE_SELF"},
    {IN_UNMOUNT, "UNMOUNT"}, {IN_Q_OVERFLOW, "Q_OVERFLOW"}, {IN_IGNORED, "IGNORED"}, {IN_ISDIR, "ISDIR"},
  };
  buf[0] = 0;
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (!(m & names[i].bit)) continue;
    if (buf[0]) strcat(buf, "|");
    strcat(buf, names[i].name);
    m &= ~names[i].bit;
  }
  if (m) snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "|0x%x", m);
  return buf;
}

/* drain prints the events queued on a non-blocking inotify fd; `what` says what caused them. */
static void drain(int ifd, const char *what) {
  char buf[4096] __attribute__((aligned(8)));
  static uint32_t lastCookie;
  ssize_t n = read(ifd, buf, sizeof(buf));
  if (n < 0) {
    say("%s: no event (%s)", what, errname(errno));
    return;
  }
  for (char *p = buf; p < buf + n;) {
    struct inotify_event *e = (struct inotify_event *)p;
    const char *cookie = "";
    if (e->mask & IN_MOVED_FROM) cookie = e->cookie ? " cookie set" : " cookie 0";
    if (e->mask & IN_MOVED_TO) cookie = e->cookie == lastCookie && e->cookie ? " same cookie" : " other cookie";
    if (e->mask & IN_MOVED_FROM) lastCookie = e->cookie;
    say("%s: wd %d %s '%s' len %s%s", what, e->wd, maskNames(e->mask), e->len ? e->name : "", e->len % 16 == 0 ? "padded" : "odd", cookie);
    p += sizeof(*e) + e->len;
  }
}

static void inotify(const char *dir) {
  char w[4096], a[4200], b[4200], d[4200];
  snprintf(w, sizeof(w), "%s/fdfiles-watch", dir);
  snprintf(a, sizeof(a), "%s/a", w);
  snprintf(b, sizeof(b), "%s/b", w);
  snprintf(d, sizeof(d), "%s/sub", w);
  check(mkdir(w, 0700) == 0, "mkdir");
  int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  check(ifd >= 0, "inotify_init1");
  int wd = inotify_add_watch(ifd, w, IN_ALL_EVENTS);
  say("inotify_add_watch on the directory: wd %d, again: wd %d", wd, inotify_add_watch(ifd, w, IN_ALL_EVENTS));
  drain(ifd, "nothing done");
  int fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0600);
  check(fd >= 0, "create");
  drain(ifd, "create");
  check(write(fd, "x", 1) == 1 && write(fd, "y", 1) == 1, "write");
  drain(ifd, "two writes");
  close(fd);
  drain(ifd, "close");
  fd = open(a, O_RDONLY);
  check(fd >= 0, "open");
  char two[2];
  check(read(fd, two, 1) == 1 && read(fd, two, 1) == 1, "read");
  close(fd);
  drain(ifd, "open, two reads, close");
  check(chmod(a, 0640) == 0, "chmod");
  check(truncate(a, 1) == 0, "truncate");
  drain(ifd, "chmod, truncate");
  check(rename(a, b) == 0, "rename");
  drain(ifd, "rename");
  check(mkdir(d, 0700) == 0, "mkdir");
  int sub = inotify_add_watch(ifd, d, IN_DELETE_SELF);
  drain(ifd, "mkdir");
  check(rmdir(d) == 0, "rmdir");
  drain(ifd, "rmdir of a watched directory");
  int own = inotify_add_watch(ifd, b, IN_ATTRIB | IN_DELETE_SELF);
  say("watch on the file: wd %d (after %d)", own, sub);
  check(unlink(b) == 0, "unlink");
  drain(ifd, "unlink of a watched file");
  int avail = -1;
  check(symlink("b", a) == 0, "symlink");
  check(ioctl(ifd, FIONREAD, &avail) == 0, "FIONREAD");
  say("FIONREAD after a symlink: %d", avail);
  char tiny[8];
  say("read into 8 bytes: %s", result(read(ifd, tiny, sizeof(tiny))));
  drain(ifd, "symlink");
  check(unlink(a) == 0, "unlink");
  drain(ifd, "unlink");
  say("inotify_rm_watch: %s", result(inotify_rm_watch(ifd, wd)));
  drain(ifd, "rm_watch");
  say("inotify_rm_watch again: %s", result(inotify_rm_watch(ifd, wd)));
  say("IN_ONLYDIR on a file: %s", result(inotify_add_watch(ifd, "/proc/self/stat", IN_MODIFY | IN_ONLYDIR)));
  say("empty mask: %s", result(inotify_add_watch(ifd, w, 0)));
  say("missing file: %s", result(inotify_add_watch(ifd, "/nonexistent", IN_MODIFY)));
  say("on a pipe fd: %s", result(inotify_add_watch(0 <= ifd ? 1 : 0, w, IN_MODIFY) == -1 && errno == EINVAL ? (errno = EINVAL, -1) : 0));
  check(rmdir(w) == 0, "rmdir");
  drain(ifd, "rmdir of the unwatched directory");
  char link[64] = {0};
  check(readlink(fdpath("/proc/self/fd", ifd), link, sizeof(link) - 1) > 0, "readlink");
  say("readlink of an inotify fd: %s", link);
  close(ifd);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    say("usage: fdfiles <scratch dir>");
    return 2;
  }
  pipes();
  deleted(argv[1]);
  anonymous();
  table();
  otherUser();
  fdinfo(argv[1]);
  zombie();
  threads();
  fadvise(argv[1]);
  splices(argv[1]);
  copies(argv[1]);
  fallocates(argv[1]);
  inotify(argv[1]);
  say("done");
  return 0;
}
