/*
 * unix-sockets: AF_UNIX sockets between processes.
 *
 * socketpair echo with a fork'd child; a stream server and client on a filesystem path
 * (the socket inode shows in stat) and on an abstract name; datagrams with sender
 * addresses; seqpacket message boundaries and MSG_TRUNC; SCM_RIGHTS passing a pipe and a
 * file; SO_PEERCRED, SO_PASSCRED and SCM_CREDENTIALS; shutdown, EOF and EPIPE; nonblocking
 * EAGAIN; poll readiness; FIONREAD; socket options; error cases.
 */
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

static socklen_t path_addr(struct sockaddr_un *a, const char *path) {
  memset(a, 0, sizeof(*a));
  a->sun_family = AF_UNIX;
  strcpy(a->sun_path, path);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name) {
  memset(a, 0, sizeof(*a));
  a->sun_family = AF_UNIX;
  memcpy(a->sun_path + 1, name, strlen(name));
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

static void socketpair_echo(void) {
  int sv[2];
  check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    close(sv[0]);
    char buf[64];
    ssize_t n;
    while ((n = read(sv[1], buf, sizeof(buf))) > 0) {
      for (ssize_t i = 0; i < n; i++) buf[i] = (char)(buf[i] ^ 0x20);
      if (write(sv[1], buf, (size_t)n) != n) _exit(2);
    }
    _exit(n == 0 ? 0 : 1);
  }
  close(sv[1]);
  char buf[64] = {0};
  check(write(sv[0], "hello", 5) == 5, "write");
  ssize_t n = read(sv[0], buf, sizeof(buf) - 1);
  check(n == 5, "read");
  close(sv[0]);
  int st;
  char sbuf[32];
  waitpid(p, &st, 0);
  say("socketpair echo: '%s', child %s", buf, describe_status(st, sbuf, sizeof(sbuf)));
}

static void stream_server(const char *label, struct sockaddr_un *a, socklen_t len) {
  int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  check(srv >= 0, "socket");
  check(bind(srv, (struct sockaddr *)a, len) == 0, "bind");
  check(listen(srv, 4) == 0, "listen");
  int v = -1;
  socklen_t vl = sizeof(v);
  check(getsockopt(srv, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0, "getsockopt");
  say("%s: SO_ACCEPTCONN %d", label, v);
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)a, len) != 0) _exit(1);
    char buf[64] = {0};
    if (write(c, "ping", 4) != 4) _exit(2);
    if (read(c, buf, sizeof(buf)) != 4) _exit(3);
    _exit(strcmp(buf, "pong") == 0 ? 0 : 4);
  }
  struct sockaddr_un peer;
  socklen_t pl = sizeof(peer);
  int c = accept(srv, (struct sockaddr *)&peer, &pl);
  check(c >= 0, "accept");
  say("%s: accepted, peer address length %d", label, (int)pl);
  char buf[64] = {0};
  check(read(c, buf, sizeof(buf)) == 4, "read");
  check(write(c, "pong", 4) == 4, "write");
  struct ucred cr;
  socklen_t cl = sizeof(cr);
  check(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0, "SO_PEERCRED");
  say("%s: got '%s', SO_PEERCRED pid is child %s, uid %d", label, buf, cr.pid == p ? "yes" : "no", (int)cr.uid);
  struct sockaddr_un me;
  socklen_t ml = sizeof(me);
  check(getsockname(c, (struct sockaddr *)&me, &ml) == 0, "getsockname");
  say("%s: accepted socket's name matches: %s", label, ml == len && memcmp(&me, a, len) == 0 ? "yes" : "no");
  int st;
  char sbuf[32];
  waitpid(p, &st, 0);
  say("%s: client %s", label, describe_status(st, sbuf, sizeof(sbuf)));
  close(c);
  close(srv);
}

static void paths_and_names(void) {
  struct sockaddr_un a;
  unlink("/tmp/sock-test");
  socklen_t len = path_addr(&a, "/tmp/sock-test");
  stream_server("path", &a, len);
  struct stat st;
  check(stat("/tmp/sock-test", &st) == 0, "stat");
  say("path: stat says socket: %s", S_ISSOCK(st.st_mode) ? "yes" : "no");
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  say("bind to an existing path: %s", result(bind(s, (struct sockaddr *)&a, len)));
  say("connect to a path nobody listens on: %s", result(connect(s, (struct sockaddr *)&a, len)));
  unlink("/tmp/sock-test");
  say("connect to a missing path: %s", result(connect(s, (struct sockaddr *)&a, len)));
  close(s);
  len = abstract_addr(&a, "tvisor-test-abstract");
  stream_server("abstract", &a, len);
  s = socket(AF_UNIX, SOCK_STREAM, 0);
  say("connect to a free abstract name: %s", result(connect(s, (struct sockaddr *)&a, len)));
  close(s);
}

static void datagrams(void) {
  struct sockaddr_un a, b, from;
  socklen_t la = abstract_addr(&a, "tvisor-dgram-a"), lb = abstract_addr(&b, "tvisor-dgram-b");
  int sa = socket(AF_UNIX, SOCK_DGRAM, 0), sb = socket(AF_UNIX, SOCK_DGRAM, 0);
  check(bind(sa, (struct sockaddr *)&a, la) == 0 && bind(sb, (struct sockaddr *)&b, lb) == 0, "bind");
  check(sendto(sa, "one", 3, 0, (struct sockaddr *)&b, lb) == 3, "sendto");
  check(sendto(sa, "two!", 4, 0, (struct sockaddr *)&b, lb) == 4, "sendto");
  char buf[16] = {0};
  socklen_t fl = sizeof(from);
  ssize_t n = recvfrom(sb, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
  say("dgram: got %zd '%.*s', from a: %s", n, (int)n, buf, fl == la && memcmp(&from, &a, la) == 0 ? "yes" : "no");
  n = recv(sb, buf, 2, MSG_TRUNC);
  say("dgram: short read with MSG_TRUNC returns %zd", n);
  say("dgram: empty nonblocking read: %s", result(recv(sb, buf, sizeof(buf), MSG_DONTWAIT)));
  close(sa);
  close(sb);

  /* sendmmsg of three datagrams, recvmmsg of up to four: three arrive, each with its length. */
  int sv[2];
  check(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair dgram");
  const char *words[3] = {"a", "bb", "ccc"};
  struct mmsghdr out[3], in[4];
  struct iovec oiov[3], iiov[4];
  char ibuf[4][8];
  memset(out, 0, sizeof(out));
  memset(in, 0, sizeof(in));
  for (int i = 0; i < 3; i++) {
    oiov[i] = (struct iovec){(void *)words[i], strlen(words[i])};
    out[i].msg_hdr.msg_iov = &oiov[i];
    out[i].msg_hdr.msg_iovlen = 1;
  }
  for (int i = 0; i < 4; i++) {
    iiov[i] = (struct iovec){ibuf[i], sizeof(ibuf[i])};
    in[i].msg_hdr.msg_iov = &iiov[i];
    in[i].msg_hdr.msg_iovlen = 1;
  }
  int sent = sendmmsg(sv[0], out, 3, 0);
  int got = recvmmsg(sv[1], in, 4, MSG_DONTWAIT, NULL);
  say("mmsg: sent %d, received %d, lengths %u %u %u, last '%.*s'", sent, got, in[0].msg_len, in[1].msg_len, in[2].msg_len,
      got > 2 ? (int)in[2].msg_len : 0, ibuf[2]);
  close(sv[0]);
  close(sv[1]);
}

static void seqpacket(void) {
  int sv[2];
  check(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "socketpair");
  check(write(sv[0], "abc", 3) == 3 && write(sv[0], "defgh", 5) == 5, "write");
  char buf[16];
  ssize_t a = read(sv[1], buf, sizeof(buf)), b = read(sv[1], buf, sizeof(buf));
  say("seqpacket: message lengths %zd %zd", a, b);
  check(write(sv[0], "longmessage", 11) == 11, "write");
  struct iovec iov = {buf, 4};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  ssize_t n = recvmsg(sv[1], &m, 0);
  say("seqpacket: truncated recvmsg %zd, MSG_TRUNC %s", n, (m.msg_flags & MSG_TRUNC) ? "set" : "clear");
  close(sv[0]);
  say("seqpacket: after peer close: %zd", read(sv[1], buf, sizeof(buf)));
  close(sv[1]);
}

static int send_fds(int s, int *fds, int n) {
  char data = 'x';
  struct iovec iov = {&data, 1};
  union { char buf[CMSG_SPACE(4 * sizeof(int))]; struct cmsghdr align; } u;
  memset(&u, 0, sizeof(u));
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = u.buf;
  m.msg_controllen = CMSG_SPACE((size_t)n * sizeof(int));
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
  memcpy(CMSG_DATA(c), fds, (size_t)n * sizeof(int));
  return (int)sendmsg(s, &m, 0);
}

static void rights(void) {
  int sv[2], pp[2];
  check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && pipe(pp) == 0, "socketpair");
  int f = open("/tmp/sock-rights", O_RDWR | O_CREAT | O_TRUNC, 0600);
  check(f >= 0, "open");
  check(write(f, "file-content", 12) == 12, "write");
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    close(sv[0]);
    char data;
    union { char buf[CMSG_SPACE(4 * sizeof(int))]; struct cmsghdr align; } u;
    struct iovec iov = {&data, 1};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = sizeof(u.buf);
    if (recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC) != 1) _exit(1);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(2 * sizeof(int))) _exit(2);
    int fds[2];
    memcpy(fds, CMSG_DATA(c), sizeof(fds));
    if (!(fcntl(fds[0], F_GETFD) & FD_CLOEXEC)) _exit(3);
    if (write(fds[0], "via-pipe", 8) != 8) _exit(4);
    char buf[32] = {0};
    if (pread(fds[1], buf, sizeof(buf), 0) != 12 || strcmp(buf, "file-content") != 0) _exit(5);
    _exit(0);
  }
  close(sv[1]);
  close(pp[0]);
  int fds[2] = {pp[1], f};
  // The write end goes to the child; the parent keeps the read end.
  int rd;
  {
    int tmp[2];
    check(pipe(tmp) == 0, "pipe");
    fds[0] = tmp[1];
    rd = tmp[0];
    close(pp[1]);
  }
  check(send_fds(sv[0], fds, 2) == 1, "sendmsg");
  close(fds[0]);
  close(f);
  char buf[32] = {0};
  ssize_t n = read(rd, buf, sizeof(buf));
  int st;
  char sbuf[32];
  waitpid(p, &st, 0);
  say("SCM_RIGHTS: child wrote '%.*s' into the passed pipe, child %s", (int)n, buf, describe_status(st, sbuf, sizeof(sbuf)));
  close(rd);
  close(sv[0]);
  unlink("/tmp/sock-rights");
}

static void credentials(void) {
  int sv[2];
  check(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair");
  int on = 1;
  check(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == 0, "SO_PASSCRED");
  check(write(sv[0], "c", 1) == 1, "write");
  char data;
  union { char buf[CMSG_SPACE(sizeof(struct ucred))]; struct cmsghdr align; } u;
  struct iovec iov = {&data, 1};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = u.buf;
  m.msg_controllen = sizeof(u.buf);
  check(recvmsg(sv[1], &m, 0) == 1, "recvmsg");
  struct cmsghdr *c = CMSG_FIRSTHDR(&m);
  struct ucred cr = {0};
  if (c && c->cmsg_type == SCM_CREDENTIALS) memcpy(&cr, CMSG_DATA(c), sizeof(cr));
  say("SCM_CREDENTIALS: present %s, pid is mine %s, uid %d", c && c->cmsg_type == SCM_CREDENTIALS ? "yes" : "no",
      cr.pid == getpid() ? "yes" : "no", (int)cr.uid);
  close(sv[0]);
  close(sv[1]);
}

static void shutdown_and_pipe(void) {
  int sv[2];
  check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  check(shutdown(sv[0], SHUT_WR) == 0, "shutdown");
  char buf[8];
  say("read after peer SHUT_WR: %zd", read(sv[1], buf, sizeof(buf)));
  say("write after own SHUT_WR (MSG_NOSIGNAL): %s", result(send(sv[0], "x", 1, MSG_NOSIGNAL)));
  struct pollfd pf = {sv[1], POLLIN | POLLOUT | POLLRDHUP, 0};
  check(poll(&pf, 1, 0) == 1, "poll");
  say("poll after peer SHUT_WR: in %d out %d rdhup %d hup %d", !!(pf.revents & POLLIN), !!(pf.revents & POLLOUT),
      !!(pf.revents & POLLRDHUP), !!(pf.revents & POLLHUP));
  close(sv[0]);
  signal(SIGPIPE, SIG_IGN);
  say("write after peer close: %s", result(write(sv[1], "x", 1)));
  close(sv[1]);
  signal(SIGPIPE, SIG_DFL);
  check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  pid_t p = fork();
  if (p == 0) {
    close(sv[0]);
    char c;
    if (read(sv[1], &c, 1) != 0) _exit(2); /* wait for the parent's close */
    if (write(sv[1], "x", 1) < 0) _exit(3);
    _exit(0);
  }
  close(sv[1]);
  close(sv[0]);
  int st;
  char sbuf[32];
  waitpid(p, &st, 0);
  say("writer to a closed peer (SIGPIPE default): %s", describe_status(st, sbuf, sizeof(sbuf)));
}

static void nonblocking_and_poll(void) {
  int sv[2];
  check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0, "socketpair");
  char buf[4096];
  say("nonblocking empty read: %s", result(read(sv[0], buf, sizeof(buf))));
  struct pollfd pf = {sv[0], POLLIN | POLLOUT, 0};
  poll(&pf, 1, 0);
  say("poll idle: in %d out %d", !!(pf.revents & POLLIN), !!(pf.revents & POLLOUT));
  memset(buf, 'a', sizeof(buf));
  long total = 0;
  for (;;) {
    ssize_t w = write(sv[0], buf, sizeof(buf));
    if (w < 0) {
      say("filling the buffer ends with: %s", errname(errno));
      break;
    }
    total += w;
  }
  say("buffered more than 64 KiB: %s", total > 65536 ? "yes" : "no");
  pf.revents = 0;
  poll(&pf, 1, 0);
  say("poll full: out %d", !!(pf.revents & POLLOUT));
  int avail = 0;
  check(ioctl(sv[1], FIONREAD, &avail) == 0, "FIONREAD");
  say("FIONREAD equals bytes written: %s", avail == total ? "yes" : "no");
  pf.fd = sv[1];
  pf.revents = 0;
  poll(&pf, 1, 0);
  say("poll reader: in %d", !!(pf.revents & POLLIN));
  struct stat st;
  check(fstat(sv[0], &st) == 0, "fstat");
  say("fstat: socket %s", S_ISSOCK(st.st_mode) ? "yes" : "no");
  close(sv[0]);
  close(sv[1]);
}

static void options_and_errors(void) {
  int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
  int v;
  socklen_t l = sizeof(v);
  getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l);
  say("SO_TYPE seqpacket: %d", v == SOCK_SEQPACKET);
  l = sizeof(v);
  getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &l);
  say("SO_DOMAIN: %d", v);
  l = sizeof(v);
  say("unknown option: %s", result(getsockopt(s, SOL_SOCKET, 9999, &v, &l)));
  say("listen unbound: %s", result(listen(s, 1)));
  say("accept on an unlistening socket: %s", result(accept(s, NULL, NULL)));
  close(s);
  say("socket on a pipe: %s", result(getsockopt(0, SOL_SOCKET, SO_TYPE, &v, &l) == 0 ? 0 : -1));
  int pp[2];
  check(pipe(pp) == 0, "pipe");
  say("send on a pipe: %s", result(send(pp[1], "x", 1, 0)));
  close(pp[0]);
  close(pp[1]);
  say("bad type: %s", result(socket(AF_UNIX, 77, 0)));
  say("socketpair AF_INET: %s", result(socketpair(AF_INET, SOCK_STREAM, 0, pp)));
  int sv[2];
  check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  struct timeval tv = {0, 50000};
  check(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0, "SO_RCVTIMEO");
  char c;
  say("recv past SO_RCVTIMEO: %s", result(recv(sv[0], &c, 1, 0)));
  close(sv[0]);
  close(sv[1]);
  say("AF_NETLINK not required: %s", socket(AF_NETLINK, SOCK_RAW, 0) >= 0 || errno == EAFNOSUPPORT ? "ok" : "bad");
}

int main(void) {
  socketpair_echo();
  paths_and_names();
  datagrams();
  seqpacket();
  rights();
  credentials();
  shutdown_and_pipe();
  nonblocking_and_poll();
  options_and_errors();
  say("done");
  return 0;
}
