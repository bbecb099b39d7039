/*
 * net-host: TCP and UDP over a real interface of the network namespace (argv[1], an IPv4
 * address of it; argv[2], an IPv6 one), and IPv6 loopback.
 *
 * Non-blocking connect to a closed port (ECONNREFUSED), accept with a timeout (poll),
 * SO_RCVTIMEO, shutdown half-close, MSG_PEEK, a 64 MiB transfer with a checksum, UDP
 * with MSG_TRUNC, and bad input (unknown options and ioctls, bad lengths and addresses)
 * that must answer errnos and leave the kernel running.
 */
#include "common.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>

static const char *ip4, *ip6;

/* addr fills a sockaddr for ip:port (IPv6 when ip has a colon); returns its length. */
static socklen_t addr(struct sockaddr_storage *a, const char *ip, int port) {
  memset(a, 0, sizeof(*a));
  if (strchr(ip, ':')) {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)a;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons((uint16_t)port);
    check(inet_pton(AF_INET6, ip, &s->sin6_addr) == 1, "inet_pton6");
    return sizeof(*s);
  }
  struct sockaddr_in *s = (struct sockaddr_in *)a;
  s->sin_family = AF_INET;
  s->sin_port = htons((uint16_t)port);
  check(inet_pton(AF_INET, ip, &s->sin_addr) == 1, "inet_pton");
  return sizeof(*s);
}

static int port_of(int s) {
  struct sockaddr_storage a;
  socklen_t l = sizeof(a);
  check(getsockname(s, (struct sockaddr *)&a, &l) == 0, "getsockname");
  return a.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&a)->sin_port) : ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
}

/* listener returns a TCP socket listening on ip, on an ephemeral port. */
static int listener(const char *ip) {
  struct sockaddr_storage a;
  socklen_t l = addr(&a, ip, 0);
  int s = socket(a.ss_family, SOCK_STREAM, 0);
  check(s >= 0, "socket");
  check(bind(s, (struct sockaddr *)&a, l) == 0, "bind");
  check(listen(s, 8) == 0, "listen");
  return s;
}

/* connected returns a TCP client connected to ip:port (blocking connect). */
static int connected(const char *ip, int port) {
  struct sockaddr_storage a;
  socklen_t l = addr(&a, ip, port);
  int c = socket(a.ss_family, SOCK_STREAM, 0);
  check(c >= 0, "socket");
  check(connect(c, (struct sockaddr *)&a, l) == 0, "connect");
  return c;
}

/* pair connects a client to a fresh listener on ip: *c the client, *s the accepted end. */
static void pair(const char *ip, int *c, int *s) {
  int l = listener(ip);
  *c = connected(ip, port_of(l));
  *s = accept(l, NULL, NULL);
  check(*s >= 0, "accept");
  close(l);
}

static void nonblocking_connect(void) {
  /* A port nobody listens on: bind one and close it, so that it is free. */
  int l = listener(ip4);
  int port = port_of(l);
  close(l);
  struct sockaddr_storage a;
  socklen_t len = addr(&a, ip4, port);
  int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int r = connect(c, (struct sockaddr *)&a, len);
  int e = r == 0 ? 0 : errno;
  if (e == EINPROGRESS) {
    struct pollfd p = {c, POLLOUT, 0};
    check(poll(&p, 1, 5000) == 1, "poll connect");
    socklen_t el = sizeof(e);
    check(getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el) == 0, "SO_ERROR");
  }
  say("non-blocking connect to a closed port: %s", errname(e));
  close(c);
}

static void accept_timeout(void) {
  int l = listener(ip4);
  struct pollfd p = {l, POLLIN, 0};
  say("poll of an idle listener (100 ms): %d", poll(&p, 1, 100));
  int c = connected(ip4, port_of(l));
  p.revents = 0;
  int n = poll(&p, 1, 5000);
  say("poll with a pending connection: %d, POLLIN %s", n, (p.revents & POLLIN) ? "yes" : "no");
  int s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
  say("accepted: %s", s >= 0 ? "yes" : errname(errno));
  char b;
  say("non-blocking accepted socket, empty read: %s", read(s, &b, 1) < 0 ? errname(errno) : "data");
  close(s);
  close(c);
  close(l);
}

static void rcvtimeo(void) {
  int c, s;
  pair(ip4, &c, &s);
  struct timeval tv = {0, 100000};
  check(setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0, "SO_RCVTIMEO");
  struct timeval back;
  socklen_t bl = sizeof(back);
  check(getsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &back, &bl) == 0, "get SO_RCVTIMEO");
  say("SO_RCVTIMEO reads back %ld.%06ld", (long)back.tv_sec, (long)back.tv_usec);
  char b[4];
  ssize_t r = recv(c, b, sizeof(b), 0);
  say("recv past SO_RCVTIMEO: %s", r < 0 ? errname(errno) : "data");
  r = read(c, b, sizeof(b));
  say("read past SO_RCVTIMEO: %s", r < 0 ? errname(errno) : "data");
  close(c);
  close(s);
}

static void half_close(void) {
  int c, s;
  pair(ip4, &c, &s);
  check(write(c, "question", 8) == 8, "write");
  check(shutdown(c, SHUT_WR) == 0, "shutdown");
  char b[32];
  ssize_t n = read(s, b, sizeof(b));
  say("server read %zd '%.*s', then %zd", n, (int)(n > 0 ? n : 0), b, read(s, b, sizeof(b)));
  struct pollfd p = {s, POLLIN | POLLRDHUP, 0};
  poll(&p, 1, 0);
  say("server poll after the client's SHUT_WR: rdhup %s", (p.revents & POLLRDHUP) ? "yes" : "no");
  check(write(s, "answer", 6) == 6, "write back");
  close(s);
  n = read(c, b, sizeof(b));
  say("client still reads the answer: %zd '%.*s', then %zd", n, (int)(n > 0 ? n : 0), b, read(c, b, sizeof(b)));
  signal(SIGPIPE, SIG_IGN);
  say("client write after its SHUT_WR: %s", write(c, "x", 1) < 0 ? errname(errno) : "ok");
  signal(SIGPIPE, SIG_DFL);
  close(c);
}

static void on_alarm(int sig) {
  (void)sig;
}

/* signals: SIGPIPE on a write to a reset connection (none with MSG_NOSIGNAL), EINTR for a
 * blocked recv whose signal handler has no SA_RESTART, SO_SNDTIMEO on a full connection. */
static void signals_and_timeouts(void) {
  int c, s;
  pair(ip4, &c, &s);
  struct linger lg = {1, 0};
  check(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0, "SO_LINGER");
  close(s); /* a reset */
  char b[4];
  say("read after the peer's reset: %s", read(c, b, sizeof(b)) < 0 ? errname(errno) : "data");
  say("send MSG_NOSIGNAL after the reset: %s", send(c, "x", 1, MSG_NOSIGNAL) < 0 ? errname(errno) : "ok");
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    write(c, "x", 1);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  say("a writer to the reset connection: %s", WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exited");
  close(c);

  pair(ip4, &c, &s);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  struct itimerval it = {{0, 0}, {0, 100000}};
  setitimer(ITIMER_REAL, &it, NULL);
  ssize_t r = recv(c, b, sizeof(b), 0);
  say("blocked recv, then a signal without SA_RESTART: %s", r < 0 ? errname(errno) : "data");
  signal(SIGALRM, SIG_DFL);

  struct timeval tv = {0, 100000};
  check(setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0, "SO_SNDTIMEO");
  static char big[1 << 20];
  ssize_t total = 0;
  for (int i = 0; i < 64; i++) {
    r = send(c, big, sizeof(big), 0);
    if (r < 0) break;
    total += r;
    if (r < (ssize_t)sizeof(big)) break;
  }
  /* Whether the timeout ends a call that sent part (a short count) or none (EAGAIN) depends on buffer sizes. */
  say("sends to a peer that does not read end at SO_SNDTIMEO: %s, after some bytes: %s",
      r < 0 ? (errno == EAGAIN ? "yes" : errname(errno)) : (r < (ssize_t)sizeof(big) ? "yes" : "no"), total > 0 ? "yes" : "no");
  close(c);
  close(s);
}

static void peek(void) {
  int c, s;
  pair(ip4, &c, &s);
  check(send(c, "hello", 5, 0) == 5, "send");
  struct pollfd p = {s, POLLIN, 0};
  check(poll(&p, 1, 5000) == 1, "poll");
  char b[8] = {0};
  ssize_t n = recv(s, b, sizeof(b), MSG_PEEK);
  int avail = -1;
  check(ioctl(s, FIONREAD, &avail) == 0, "FIONREAD");
  say("MSG_PEEK %zd '%.*s', FIONREAD still %d", n, (int)n, b, avail);
  n = recv(s, b, 3, MSG_WAITALL);
  say("then recv 3 with MSG_WAITALL: '%.*s'", (int)n, b);
  n = recv(s, b, sizeof(b), MSG_DONTWAIT);
  say("then the rest: '%.*s', then %s", (int)n, b, recv(s, b, sizeof(b), MSG_DONTWAIT) < 0 ? errname(errno) : "data");
  close(c);
  close(s);
}

/* fnv1a64 folds bytes into a running FNV-1a hash. */
static uint64_t fnv1a64(uint64_t h, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

static void big_transfer(void) {
  const size_t total = 64u << 20;
  int l = listener(ip4);
  int port = port_of(l);
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    int c = connected(ip4, port);
    static unsigned char buf[256 << 10];
    uint32_t x = 12345;
    size_t sent = 0;
    while (sent < total) {
      for (size_t i = 0; i < sizeof(buf); i++) { x = x * 1103515245u + 12345u; buf[i] = (unsigned char)(x >> 16); }
      size_t off = 0;
      while (off < sizeof(buf)) {
        ssize_t w = write(c, buf + off, sizeof(buf) - off);
        if (w <= 0) _exit(2);
        off += (size_t)w;
      }
      sent += sizeof(buf);
    }
    close(c);
    _exit(0);
  }
  int s = accept(l, NULL, NULL);
  check(s >= 0, "accept");
  static unsigned char buf[100000];
  uint64_t h = 0xcbf29ce484222325ULL, want = h;
  size_t got = 0;
  for (;;) {
    ssize_t n = read(s, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    check(n >= 0, "read");
    if (n == 0) break;
    h = fnv1a64(h, buf, (size_t)n);
    got += (size_t)n;
  }
  uint32_t x = 12345;
  for (size_t i = 0; i < total; i++) { x = x * 1103515245u + 12345u; unsigned char c = (unsigned char)(x >> 16); want = (want ^ c) * 0x100000001b3ULL; }
  int st;
  waitpid(pid, &st, 0);
  say("64 MiB over TCP: %zu bytes, checksum %s, writer exit %d", got, h == want ? "matches" : "differs", WEXITSTATUS(st));
  close(s);
  close(l);
}

static void ipv6(const char *ip) {
  int c, s;
  pair(ip, &c, &s);
  struct sockaddr_in6 peer;
  socklen_t pl = sizeof(peer);
  check(getpeername(c, (struct sockaddr *)&peer, &pl) == 0, "getpeername");
  char buf[64];
  inet_ntop(AF_INET6, &peer.sin6_addr, buf, sizeof(buf));
  check(write(c, "v6", 2) == 2, "write");
  char b[4];
  ssize_t n = read(s, b, sizeof(b));
  say("IPv6 %s: peer %s, length %u, got '%.*s'", ip, buf, (unsigned)pl, (int)n, b);
  close(c);
  close(s);
}

static void udp_trunc(void) {
  struct sockaddr_storage a;
  socklen_t l = addr(&a, ip4, 0);
  int r = socket(AF_INET, SOCK_DGRAM, 0);
  check(bind(r, (struct sockaddr *)&a, l) == 0, "bind udp");
  int port = port_of(r);
  int w = socket(AF_INET, SOCK_DGRAM, 0);
  l = addr(&a, ip4, port);
  char big[100];
  memset(big, 'u', sizeof(big));
  check(sendto(w, big, sizeof(big), 0, (struct sockaddr *)&a, l) == (ssize_t)sizeof(big), "sendto");
  check(sendto(w, "tiny", 4, 0, (struct sockaddr *)&a, l) == 4, "sendto");
  char b[10];
  struct sockaddr_in from;
  socklen_t fl = sizeof(from);
  ssize_t n = recvfrom(r, b, sizeof(b), MSG_TRUNC, (struct sockaddr *)&from, &fl);
  say("udp: recvfrom 10 with MSG_TRUNC returns %zd, sender is the writer: %s", n, ntohs(from.sin_port) == port_of(w) ? "yes" : "no");
  struct iovec iov = {b, 2};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  n = recvmsg(r, &m, 0);
  say("udp: recvmsg 2 of 'tiny': %zd '%.*s', MSG_TRUNC %s", n, (int)n, b, (m.msg_flags & MSG_TRUNC) ? "set" : "clear");
  say("udp: empty non-blocking read: %s", recv(r, b, sizeof(b), MSG_DONTWAIT) < 0 ? errname(errno) : "data");
  close(r);
  close(w);
}

/* epoll_and_mmsg: an edge-triggered epoll of a listener and a connection; sendmmsg and recvmmsg over UDP. */
static void epoll_and_mmsg(void) {
  int l = listener(ip4);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = l};
  check(epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) == 0, "epoll_ctl");
  struct epoll_event out[4];
  say("epoll: idle listener: %d", epoll_wait(ep, out, 4, 50));
  int c = connected(ip4, port_of(l));
  int n = epoll_wait(ep, out, 4, 5000);
  say("epoll: a connection: %d, the listener %s, EPOLLIN %s", n, n == 1 && out[0].data.fd == l ? "yes" : "no", n == 1 && (out[0].events & EPOLLIN) ? "yes" : "no");
  say("epoll: edge-triggered, no new edge: %d", epoll_wait(ep, out, 4, 50));
  int s = accept(l, NULL, NULL);
  ev.data.fd = s;
  ev.events = EPOLLIN | EPOLLRDHUP;
  check(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) == 0, "epoll_ctl s");
  check(write(c, "e", 1) == 1, "write");
  n = epoll_wait(ep, out, 4, 5000);
  say("epoll: data on the connection: %d, EPOLLIN %s", n, n == 1 && out[0].data.fd == s && (out[0].events & EPOLLIN) ? "yes" : "no");
  close(c);
  char b[4];
  read(s, b, sizeof(b));
  n = epoll_wait(ep, out, 4, 5000);
  say("epoll: peer closed: EPOLLRDHUP %s", n == 1 && (out[0].events & EPOLLRDHUP) ? "yes" : "no");
  close(s);
  close(l);
  close(ep);

  struct sockaddr_storage a;
  socklen_t al = addr(&a, ip4, 0);
  int r = socket(AF_INET, SOCK_DGRAM, 0), w = socket(AF_INET, SOCK_DGRAM, 0);
  check(bind(r, (struct sockaddr *)&a, al) == 0, "bind");
  al = addr(&a, ip4, port_of(r));
  check(connect(w, (struct sockaddr *)&a, al) == 0, "connect udp");
  struct mmsghdr msgs[3];
  struct iovec iov[3];
  char bufs[3][8] = {"a", "bb", "ccc"};
  memset(msgs, 0, sizeof(msgs));
  for (int i = 0; i < 3; i++) {
    iov[i].iov_base = bufs[i];
    iov[i].iov_len = (size_t)i + 1;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int sent = sendmmsg(w, msgs, 3, 0);
  memset(bufs, 0, sizeof(bufs));
  for (int i = 0; i < 3; i++) iov[i].iov_len = 8;
  struct timespec to = {5, 0};
  int got = recvmmsg(r, msgs, 3, MSG_WAITFORONE, &to);
  while (got > 0 && got < 3) {
    int more = recvmmsg(r, msgs + got, 3 - got, 0, &to);
    if (more <= 0) break;
    got += more;
  }
  say("mmsg: sent %d, received %d: %u '%s', %u '%s', %u '%s'", sent, got, msgs[0].msg_len, bufs[0], msgs[1].msg_len, bufs[1], msgs[2].msg_len, bufs[2]);
  close(r);
  close(w);
}

/* ping sends one ICMP echo request through a ping socket (SOCK_DGRAM, IPPROTO_ICMP[V6]) and waits for the reply. */
static void ping(const char *ip) {
  struct sockaddr_storage a;
  socklen_t l = addr(&a, ip, 0);
  int v6 = a.ss_family == AF_INET6;
  int s = socket(a.ss_family, SOCK_DGRAM, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
  if (s < 0) {
    say("ping %s: socket %s", ip, errname(errno));
    return;
  }
  unsigned char req[16] = {0}, rep[64];
  req[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
  req[7] = 1; /* sequence 1; the kernel sets the id and the checksum */
  memcpy(req + 8, "tvisor!!", 8);
  check(sendto(s, req, sizeof(req), 0, (struct sockaddr *)&a, l) == (ssize_t)sizeof(req), "ping sendto");
  struct pollfd p = {s, POLLIN, 0};
  check(poll(&p, 1, 5000) == 1, "ping poll");
  ssize_t n = recv(s, rep, sizeof(rep), 0);
  say("ping %s: %zd bytes, type %s, payload %s", ip, n, rep[0] == (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY) ? "echo reply" : "other",
      n == 16 && memcmp(rep + 8, "tvisor!!", 8) == 0 ? "matches" : "differs");
  close(s);
}

/* ifconf lists the namespace's IPv4 interfaces with SIOCGIFCONF, and one with SIOCGIFINDEX/SIOCGIFNAME. */
static void ifconf(void) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifconf ifc = {0};
  check(ioctl(s, SIOCGIFCONF, &ifc) == 0, "SIOCGIFCONF length");
  int need = ifc.ifc_len;
  struct ifreq reqs[16];
  ifc.ifc_len = sizeof(reqs);
  ifc.ifc_req = reqs;
  check(ioctl(s, SIOCGIFCONF, &ifc) == 0, "SIOCGIFCONF");
  say("SIOCGIFCONF: length asked %d, got %d", need, ifc.ifc_len);
  for (int i = 0; i < ifc.ifc_len / (int)sizeof(struct ifreq); i++) {
    char a[32];
    inet_ntop(AF_INET, &((struct sockaddr_in *)&reqs[i].ifr_addr)->sin_addr, a, sizeof(a));
    struct ifreq r = reqs[i];
    check(ioctl(s, SIOCGIFINDEX, &r) == 0, "SIOCGIFINDEX");
    int index = r.ifr_ifindex;
    memset(r.ifr_name, 0, sizeof(r.ifr_name));
    r.ifr_ifindex = index;
    check(ioctl(s, SIOCGIFNAME, &r) == 0, "SIOCGIFNAME");
    check(ioctl(s, SIOCGIFFLAGS, &r) == 0, "SIOCGIFFLAGS");
    say("  %s %s, index back to the name: %s, up %s", reqs[i].ifr_name, a, strcmp(r.ifr_name, reqs[i].ifr_name) == 0 ? "yes" : "no", (r.ifr_flags & IFF_UP) ? "yes" : "no");
  }
  struct ifconf bad = {.ifc_len = 64, .ifc_req = (struct ifreq *)16};
  say("SIOCGIFCONF into an unmapped buffer: %s", ioctl(s, SIOCGIFCONF, &bad) < 0 ? errname(errno) : "ok");
  close(s);
}

static void bad_input(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int v = 1;
  say("setsockopt unknown SOL_SOCKET option: %s", setsockopt(s, SOL_SOCKET, 9999, &v, sizeof(v)) < 0 ? errname(errno) : "ok");
  say("getsockopt unknown TCP option: %s", getsockopt(s, IPPROTO_TCP, 9999, &v, &(socklen_t){4}) < 0 ? errname(errno) : "ok");
  say("setsockopt negative length: %s", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, (socklen_t)-1) < 0 ? errname(errno) : "ok");
  say("unknown ioctl: %s", ioctl(s, 0x89ef, &v) < 0 ? errname(errno) : "ok");
  struct sockaddr_storage a;
  socklen_t l = addr(&a, ip4, 0);
  say("bind with a 1000-byte address: %s", bind(s, (struct sockaddr *)&a, 1000) < 0 ? errname(errno) : "ok");
  say("bind with a 3-byte address: %s", bind(s, (struct sockaddr *)&a, 3) < 0 ? errname(errno) : "ok");
  say("connect to an unmapped address: %s", connect(s, (struct sockaddr *)16, l) < 0 ? errname(errno) : "ok");
  struct sockaddr_storage u = {0};
  u.ss_family = AF_UNIX;
  say("bind with an AF_UNIX address: %s", bind(s, (struct sockaddr *)&u, sizeof(struct sockaddr_in)) < 0 ? errname(errno) : "ok");
  say("sendmsg with SCM_RIGHTS on TCP: %s", ({
    int c, t;
    pair(ip4, &c, &t);
    char cbuf[CMSG_SPACE(sizeof(int))] = {0};
    struct iovec iov = {"x", 1};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cbuf;
    m.msg_controllen = sizeof(cbuf);
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &c, sizeof(int));
    ssize_t r = sendmsg(c, &m, 0);
    close(c);
    close(t);
    r < 0 ? errname(errno) : "sent";
  }));
  close(s);
  int c, t;
  pair(ip4, &c, &t);
  say("still alive: %s", write(c, "ok", 2) == 2 ? "yes" : "no");
  close(c);
  close(t);
}

int main(int argc, char **argv) {
  check(argc == 3, "usage: net-host IPV4 IPV6");
  ip4 = argv[1];
  ip6 = argv[2];
  nonblocking_connect();
  accept_timeout();
  rcvtimeo();
  half_close();
  peek();
  signals_and_timeouts();
  big_transfer();
  ipv6(ip6);
  ipv6("::1");
  udp_trunc();
  epoll_and_mmsg();
  ifconf();
  ping(ip4);
  ping(ip6);
  bad_input();
  say("done");
  return 0;
}
