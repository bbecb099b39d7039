/*
 * udp-cmsg: ancillary data on UDP sockets as DNS servers and pingers use it: a server
 * bound to the wildcard address asks for IP_PKTINFO, IP_RECVTTL and IP_RECVTOS (IPv6:
 * IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS), prints what recvmsg gives, and
 * answers from the address asked (IP_PKTINFO on sendmsg); a per-datagram IP_TTL on send;
 * a control buffer too small for all (MSG_CTRUNC); an unknown control message (EINVAL).
 * Arguments: the IPv4 and IPv6 addresses of an interface of the namespace.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(x) do { if ((x) < 0) { printf("FAIL %s (line %d): %s\n", #x, __LINE__, strerror(errno)); return 1; } } while (0)

static void show(struct msghdr *m, ssize_t n, const char *buf) {
  printf("  %zd bytes '%.*s'%s\n", n, (int)n, buf, m->msg_flags & MSG_CTRUNC ? ", MSG_CTRUNC" : "");
  int count = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
    count++;
    char a[64], ifn[IF_NAMESIZE] = "?";
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      inet_ntop(AF_INET, &pi.ipi_addr, a, sizeof a);
      if_indextoname(pi.ipi_ifindex, ifn);
      printf("  IP_PKTINFO: to %s on %s\n", a, ifn);
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
      int v; memcpy(&v, CMSG_DATA(c), sizeof v); printf("  IP_TTL: %d\n", v);
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
      printf("  IP_TOS: 0x%02x\n", *CMSG_DATA(c));
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      inet_ntop(AF_INET6, &pi.ipi6_addr, a, sizeof a);
      if_indextoname(pi.ipi6_ifindex, ifn);
      printf("  IPV6_PKTINFO: to %s on %s\n", a, ifn);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
      int v; memcpy(&v, CMSG_DATA(c), sizeof v); printf("  IPV6_HOPLIMIT: %d\n", v);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
      int v; memcpy(&v, CMSG_DATA(c), sizeof v); printf("  IPV6_TCLASS: 0x%02x\n", v);
    } else {
      printf("  level %d type %d\n", c->cmsg_level, c->cmsg_type);
    }
  }
  printf("  %d control messages\n", count);
}

static ssize_t recv_with(int s, char *buf, size_t len, char *ctl, size_t ctllen, struct msghdr *m, void *from, socklen_t fromlen) {
  static struct iovec iov;
  iov.iov_base = buf;
  iov.iov_len = len;
  memset(m, 0, sizeof *m);
  m->msg_name = from;
  m->msg_namelen = fromlen;
  m->msg_iov = &iov;
  m->msg_iovlen = 1;
  m->msg_control = ctl;
  m->msg_controllen = ctllen;
  return recvmsg(s, m, 0);
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int one = 1;
  struct timeval tv = { 5, 0 };
  char buf[64], ctl[256], a[64];
  struct msghdr m;

  /* IPv4: a wildcard server. */
  int srv = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET };
  CHECK(bind(srv, (struct sockaddr *)&sa, sizeof sa));
  socklen_t sl = sizeof sa;
  CHECK(getsockname(srv, (struct sockaddr *)&sa, &sl));
  CHECK(setsockopt(srv, IPPROTO_IP, IP_PKTINFO, &one, sizeof one));
  CHECK(setsockopt(srv, IPPROTO_IP, IP_RECVTTL, &one, sizeof one));
  CHECK(setsockopt(srv, IPPROTO_IP, IP_RECVTOS, &one, sizeof one));
  setsockopt(srv, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int cli = socket(AF_INET, SOCK_DGRAM, 0);
  int tos = 0x10;
  CHECK(setsockopt(cli, IPPROTO_IP, IP_TOS, &tos, sizeof tos));
  setsockopt(cli, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in to = sa;
  inet_pton(AF_INET, argv[1], &to.sin_addr);
  CHECK(sendto(cli, "query", 5, 0, (struct sockaddr *)&to, sizeof to));
  struct sockaddr_in peer;
  printf("server got a datagram sent to %s:\n", argv[1]);
  ssize_t n = recv_with(srv, buf, sizeof buf, ctl, sizeof ctl, &m, &peer, sizeof peer);
  CHECK(n);
  show(&m, n, buf);

  /* Answer from the address asked: IP_PKTINFO's ipi_spec_dst on sendmsg. */
  struct in_pktinfo asked = { 0 };
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) memcpy(&asked, CMSG_DATA(c), sizeof asked);
  char sctl[CMSG_SPACE(sizeof(struct in_pktinfo))] = { 0 };
  struct iovec iov = { "answer", 6 };
  struct msghdr sm = { .msg_name = &peer, .msg_namelen = sizeof peer, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = sctl, .msg_controllen = sizeof sctl };
  struct cmsghdr *c = CMSG_FIRSTHDR(&sm);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
  struct in_pktinfo reply = { .ipi_spec_dst = asked.ipi_addr };
  memcpy(CMSG_DATA(c), &reply, sizeof reply);
  CHECK(sendmsg(srv, &sm, 0));
  struct sockaddr_in src;
  socklen_t srcl = sizeof src;
  n = recvfrom(cli, buf, sizeof buf, 0, (struct sockaddr *)&src, &srcl);
  CHECK(n);
  inet_ntop(AF_INET, &src.sin_addr, a, sizeof a);
  printf("client got '%.*s' from %s (the address it asked: %s)\n", (int)n, buf, a, strcmp(a, argv[1]) == 0 ? "yes" : "no");

  /* A per-datagram TTL, and a control buffer with room for two messages of three. */
  char tctl[CMSG_SPACE(sizeof(int))] = { 0 };
  iov.iov_base = "ttl5";
  iov.iov_len = 4;
  struct msghdr tm = { .msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = tctl, .msg_controllen = sizeof tctl };
  c = CMSG_FIRSTHDR(&tm);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_TTL;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  int ttl = 5;
  memcpy(CMSG_DATA(c), &ttl, sizeof ttl);
  CHECK(sendmsg(cli, &tm, 0));
  printf("server, a datagram sent with IP_TTL 5, control room for two messages:\n");
  n = recv_with(srv, buf, sizeof buf, ctl, CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(int)), &m, &peer, sizeof peer);
  CHECK(n);
  show(&m, n, buf);

  /* An unknown control message on send. */
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SO_TIMESTAMP;
  n = sendmsg(cli, &tm, 0);
  printf("sendmsg with SOL_SOCKET/SO_TIMESTAMP: %s\n", n < 0 ? (errno == EINVAL ? "EINVAL" : strerror(errno)) : "sent");

  /* IPv6. */
  int srv6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
  CHECK(bind(srv6, (struct sockaddr *)&s6, sizeof s6));
  sl = sizeof s6;
  CHECK(getsockname(srv6, (struct sockaddr *)&s6, &sl));
  CHECK(setsockopt(srv6, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one));
  CHECK(setsockopt(srv6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one));
  CHECK(setsockopt(srv6, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof one));
  setsockopt(srv6, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int cli6 = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 to6 = s6;
  inet_pton(AF_INET6, argv[2], &to6.sin6_addr);
  CHECK(sendto(cli6, "six", 3, 0, (struct sockaddr *)&to6, sizeof to6));
  struct sockaddr_in6 peer6;
  printf("IPv6 server got a datagram sent to %s:\n", argv[2]);
  n = recv_with(srv6, buf, sizeof buf, ctl, sizeof ctl, &m, &peer6, sizeof peer6);
  CHECK(n);
  show(&m, n, buf);
  printf("done\n");
  return 0;
}
