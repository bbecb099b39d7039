/*
 * inet-loopback: TCP and UDP on the loopback network, IPv4 and IPv6.
 *
 * A TCP echo between a fork'd client and a server on an ephemeral port; getsockname and
 * getpeername; EADDRINUSE and SO_REUSEADDR; ECONNREFUSED when nobody listens; a dual-stack
 * IPv6 listener reached over IPv4 (IPv4-mapped peer address) and IPV6_V6ONLY; UDP echo
 * with sender addresses; socket options read back; nonblocking accept.
 */
#include "common.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

static struct sockaddr_in in4(const char *ip, int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

static struct sockaddr_in6 in6(const char *ip, int port) {
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof(a));
  a.sin6_family = AF_INET6;
  a.sin6_port = htons((uint16_t)port);
  inet_pton(AF_INET6, ip, &a.sin6_addr);
  return a;
}

static int port_of(int s) {
  struct sockaddr_storage a;
  socklen_t l = sizeof(a);
  check(getsockname(s, (struct sockaddr *)&a, &l) == 0, "getsockname");
  return a.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&a)->sin_port) : ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
}

static const char *addr_str(struct sockaddr *a, char *buf, size_t len) {
  if (a->sa_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)a)->sin_addr, buf, (socklen_t)len);
  else inet_ntop(AF_INET6, &((struct sockaddr_in6 *)a)->sin6_addr, buf, (socklen_t)len);
  return buf;
}

static void tcp_echo(void) {
  int srv = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = in4("127.0.0.1", 0);
  check(bind(srv, (struct sockaddr *)&a, sizeof(a)) == 0, "bind");
  check(listen(srv, 8) == 0, "listen");
  int port = port_of(srv);
  say("tcp: ephemeral port nonzero: %s", port > 0 ? "yes" : "no");
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in d = in4("127.0.0.1", port);
    if (connect(c, (struct sockaddr *)&d, sizeof(d)) != 0) _exit(1);
    char buf[64] = {0};
    if (write(c, "hello tcp", 9) != 9) _exit(2);
    size_t got = 0;
    while (got < 9) {
      ssize_t n = read(c, buf + got, sizeof(buf) - 1 - got);
      if (n <= 0) _exit(3);
      got += (size_t)n;
    }
    _exit(strcmp(buf, "HELLO TCP") == 0 ? 0 : 4);
  }
  struct sockaddr_in peer;
  socklen_t pl = sizeof(peer);
  int c = accept(srv, (struct sockaddr *)&peer, &pl);
  check(c >= 0, "accept");
  char ip[64];
  say("tcp: peer %s, length %d", addr_str((struct sockaddr *)&peer, ip, sizeof(ip)), (int)pl);
  char buf[64] = {0};
  size_t got = 0;
  while (got < 9) {
    ssize_t n = read(c, buf + got, sizeof(buf) - 1 - got);
    check(n > 0, "read");
    got += (size_t)n;
  }
  for (size_t i = 0; i < got; i++) if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] = (char)(buf[i] - 32);
  check(write(c, buf, got) == (ssize_t)got, "write");
  say("tcp: accepted socket's port is the server's: %s", port_of(c) == port ? "yes" : "no");
  int st;
  char sbuf[32];
  waitpid(p, &st, 0);
  say("tcp: client %s", describe_status(st, sbuf, sizeof(sbuf)));
  say("tcp: read after client exit: %zd", read(c, buf, sizeof(buf)));
  close(c);

  int other = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in same = in4("127.0.0.1", port);
  say("tcp: bind to a listening port: %s", result(bind(other, (struct sockaddr *)&same, sizeof(same))));
  close(other);
  close(srv);
  int r = socket(AF_INET, SOCK_STREAM, 0);
  say("tcp: connect to a closed port: %s", result(connect(r, (struct sockaddr *)&same, sizeof(same))));
  close(r);
  int on = 1;
  int s1 = socket(AF_INET, SOCK_STREAM, 0), s2 = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(s1, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  setsockopt(s2, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  struct sockaddr_in any = in4("0.0.0.0", 0);
  check(bind(s1, (struct sockaddr *)&any, sizeof(any)) == 0, "bind");
  struct sockaddr_in sp = in4("0.0.0.0", port_of(s1));
  say("tcp: two SO_REUSEADDR binds, not listening: %s", result(bind(s2, (struct sockaddr *)&sp, sizeof(sp))));
  close(s1);
  close(s2);
}

static void dual_stack(void) {
  int srv = socket(AF_INET6, SOCK_STREAM, 0);
  int v = -1;
  socklen_t vl = sizeof(v);
  getsockopt(srv, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl);
  say("v6: IPV6_V6ONLY default %d", v);
  struct sockaddr_in6 a = in6("::", 0);
  check(bind(srv, (struct sockaddr *)&a, sizeof(a)) == 0, "bind");
  check(listen(srv, 4) == 0, "listen");
  int port = port_of(srv);
  int c4 = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in d4 = in4("127.0.0.1", port);
  say("v6: connect over IPv4 to a :: listener: %s", result(connect(c4, (struct sockaddr *)&d4, sizeof(d4))));
  struct sockaddr_in6 peer;
  socklen_t pl = sizeof(peer);
  int c = accept(srv, (struct sockaddr *)&peer, &pl);
  check(c >= 0, "accept");
  char ip[64];
  say("v6: peer %s, family inet6 %s", addr_str((struct sockaddr *)&peer, ip, sizeof(ip)), peer.sin6_family == AF_INET6 ? "yes" : "no");
  close(c);
  close(c4);
  int c6 = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 d6 = in6("::1", port);
  say("v6: connect to ::1: %s", result(connect(c6, (struct sockaddr *)&d6, sizeof(d6))));
  pl = sizeof(peer);
  c = accept(srv, (struct sockaddr *)&peer, &pl);
  say("v6: peer %s", addr_str((struct sockaddr *)&peer, ip, sizeof(ip)));
  close(c);
  close(c6);
  close(srv);
  int only = socket(AF_INET6, SOCK_STREAM, 0);
  int on = 1;
  setsockopt(only, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
  vl = sizeof(v);
  getsockopt(only, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl);
  say("v6: IPV6_V6ONLY reads back %d", v);
  check(bind(only, (struct sockaddr *)&a, sizeof(a)) == 0, "bind");
  check(listen(only, 4) == 0, "listen");
  c4 = socket(AF_INET, SOCK_STREAM, 0);
  d4 = in4("127.0.0.1", port_of(only));
  say("v6only: connect over IPv4: %s", result(connect(c4, (struct sockaddr *)&d4, sizeof(d4))));
  close(c4);
  close(only);
}

static void udp(void) {
  int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in la = in4("127.0.0.1", 0);
  check(bind(a, (struct sockaddr *)&la, sizeof(la)) == 0 && bind(b, (struct sockaddr *)&la, sizeof(la)) == 0, "bind");
  struct sockaddr_in db = in4("127.0.0.1", port_of(b));
  check(sendto(a, "one", 3, 0, (struct sockaddr *)&db, sizeof(db)) == 3, "sendto");
  check(sendto(a, "two", 3, 0, (struct sockaddr *)&db, sizeof(db)) == 3, "sendto");
  char buf[16] = {0};
  struct sockaddr_in from;
  socklen_t fl = sizeof(from);
  ssize_t n = recvfrom(b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
  char ip[64];
  say("udp: got '%.*s' from %s, sender's port: %s", (int)n, buf, addr_str((struct sockaddr *)&from, ip, sizeof(ip)),
      ntohs(from.sin_port) == port_of(a) ? "yes" : "no");
  n = recv(b, buf, sizeof(buf), 0);
  say("udp: second datagram '%.*s'", (int)n, buf);
  say("udp: empty nonblocking read: %s", result(recv(b, buf, sizeof(buf), MSG_DONTWAIT)));
  int c = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in da = in4("127.0.0.1", port_of(a));
  check(connect(c, (struct sockaddr *)&da, sizeof(da)) == 0, "connect");
  check(write(c, "conn", 4) == 4, "write");
  n = recv(a, buf, sizeof(buf), 0);
  say("udp: connected send '%.*s'", (int)n, buf);
  struct sockaddr_in bad = in4("127.0.0.1", port_of(a));
  say("udp: bind to a used port: %s", result(bind(c, (struct sockaddr *)&bad, sizeof(bad))));
  close(a);
  close(b);
  close(c);
}

static void options(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int on = 1, v = 0;
  socklen_t l = sizeof(v);
  check(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0, "TCP_NODELAY");
  getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &l);
  say("TCP_NODELAY reads back %d", v);
  check(setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == 0, "SO_REUSEPORT");
  l = sizeof(v);
  getsockopt(s, SOL_SOCKET, SO_REUSEPORT, &v, &l);
  say("SO_REUSEPORT reads back %d", v);
  l = sizeof(v);
  getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &l);
  say("SO_PROTOCOL %d", v);
  say("getpeername unconnected: %s", result(getpeername(s, (struct sockaddr *)&v, &l)));
  struct sockaddr_in a = in4("127.0.0.1", 0);
  check(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s, 1) == 0, "listen");
  fcntl(s, F_SETFL, O_NONBLOCK);
  say("nonblocking accept: %s", result(accept(s, NULL, NULL)));
  struct pollfd pf = {s, POLLIN, 0};
  say("poll idle listener: %d", poll(&pf, 1, 0));
  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in d = in4("127.0.0.1", port_of(s));
  check(connect(c, (struct sockaddr *)&d, sizeof(d)) == 0, "connect");
  pf.revents = 0;
  int ready = poll(&pf, 1, 1000);
  say("poll listener with a pending connection: %d in %d", ready, !!(pf.revents & POLLIN));
  int n = accept4(s, NULL, NULL, SOCK_CLOEXEC);
  say("accept4 cloexec: %s", n >= 0 && (fcntl(n, F_GETFD) & FD_CLOEXEC) ? "yes" : "no");
  close(n);
  close(c);
  close(s);
  struct sockaddr_in far = in4("192.0.2.1", 0);
  s = socket(AF_INET, SOCK_DGRAM, 0);
  say("bind to a non-local address: %s", result(bind(s, (struct sockaddr *)&far, sizeof(far))));
  close(s);
}

int main(void) {
  tcp_echo();
  dual_stack();
  udp();
  options();
  say("done");
  return 0;
}
