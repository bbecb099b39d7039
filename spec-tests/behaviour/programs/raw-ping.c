/*
 * raw-ping: an ICMP echo through a raw socket (socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)),
 * as ping programs that open nothing else do (busybox ping). Prints what a raw socket
 * delivers: the IPv4 header's fields and the echo reply, then ICMP_FILTER and truncation.
 * Argument: the address to ping (one of the namespace's own: the reply comes back at once).
 * With a second argument `other`, it sends an ICMP timestamp request and a 4-byte message
 * instead and prints each sendto's result (tvisor sends echo requests only: see
 * sentry/net/host/raw-icmp.ts).
 * Under a runtime without CAP_NET_RAW it prints socket's errno and stops.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* linux/icmp.h's, which clashes with netinet/ip_icmp.h. */
#define ICMP_FILTER 1
struct icmp_filter { unsigned int data; };

static const char *ename(int e) {
  switch (e) {
  case EPERM: return "EPERM";
  case EACCES: return "EACCES";
  case EAGAIN: return "EAGAIN";
  case EINVAL: return "EINVAL";
  default: return strerror(e);
  }
}

static unsigned short csum(const void *p, int len) {
  const unsigned char *b = p;
  unsigned long sum = 0;
  for (int i = 0; i + 1 < len; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (len & 1) sum += b[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (unsigned short)~sum;
}

static const char PAYLOAD[] = "tvisor-raw-ping!";

static int send_echo(int s, struct sockaddr_in *to, unsigned short seq) {
  unsigned char pkt[8 + sizeof PAYLOAD - 1];
  memset(pkt, 0, sizeof pkt);
  pkt[0] = ICMP_ECHO;
  pkt[4] = 0x12; pkt[5] = 0x34;          /* identifier 0x1234 */
  pkt[6] = seq >> 8; pkt[7] = seq & 0xff;
  memcpy(pkt + 8, PAYLOAD, sizeof PAYLOAD - 1);
  unsigned short c = csum(pkt, sizeof pkt);
  pkt[2] = c >> 8; pkt[3] = c & 0xff;
  return (int)sendto(s, pkt, sizeof pkt, 0, (struct sockaddr *)to, sizeof *to);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  if (s < 0) {
    printf("socket(AF_INET, SOCK_RAW, IPPROTO_ICMP): %s\n", ename(errno));
    return 0;
  }
  int v = 0;
  socklen_t l = sizeof v;
  getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l);
  printf("SO_TYPE %s", v == SOCK_RAW ? "SOCK_RAW" : "other");
  l = sizeof v;
  getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &l);
  printf(", SO_PROTOCOL %d\n", v);
  /* Natively a raw socket also sees the echo request itself on a local address: keep replies only. */
  struct icmp_filter f = { ~(1u << ICMP_ECHOREPLY) };
  if (setsockopt(s, SOL_RAW, ICMP_FILTER, &f, sizeof f) < 0) printf("ICMP_FILTER: %s\n", ename(errno));
  struct timeval tv = { 2, 0 };
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in to = { .sin_family = AF_INET };
  inet_pton(AF_INET, argv[1], &to.sin_addr);
  if (argc > 2 && strcmp(argv[2], "other") == 0) {
    unsigned char ts[20] = { ICMP_TIMESTAMP };
    unsigned short c = csum(ts, sizeof ts);
    ts[2] = c >> 8; ts[3] = c & 0xff;
    ssize_t r = sendto(s, ts, sizeof ts, 0, (struct sockaddr *)&to, sizeof to);
    printf("timestamp request: %s\n", r < 0 ? ename(errno) : "sent");
    r = sendto(s, ts, 4, 0, (struct sockaddr *)&to, sizeof to);
    printf("4-byte message: %s\n", r < 0 ? ename(errno) : "sent");
    return 0;
  }
  if (send_echo(s, &to, 1) < 0) { printf("sendto: %s\n", ename(errno)); return 1; }
  unsigned char buf[1500];
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
  if (n < 0) { printf("recvfrom: %s\n", ename(errno)); return 1; }
  struct iphdr *ip = (struct iphdr *)buf;
  int hl = ip->ihl * 4;
  char src[32], dst[32], peer[32];
  inet_ntop(AF_INET, &ip->saddr, src, sizeof src);
  inet_ntop(AF_INET, &ip->daddr, dst, sizeof dst);
  inet_ntop(AF_INET, &from.sin_addr, peer, sizeof peer);
  printf("received %zd bytes from %s (port %d)\n", n, peer, ntohs(from.sin_port));
  printf("ip: version %d, header %d, total length %s, protocol %d, ttl %d, %s -> %s, checksum %s\n",
         ip->version, hl, ntohs(ip->tot_len) == n ? "matches" : "differs", ip->protocol, ip->ttl, src, dst,
         csum(buf, hl) == 0 ? "valid" : "invalid");
  unsigned char *icmp = buf + hl;
  int ilen = (int)n - hl;
  printf("icmp: type %d, code %d, id 0x%02x%02x, seq %d, checksum %s, payload %s\n", icmp[0], icmp[1], icmp[4], icmp[5],
         (icmp[6] << 8) | icmp[7], csum(icmp, ilen) == 0 ? "valid" : "invalid",
         ilen == 8 + (int)sizeof PAYLOAD - 1 && memcmp(icmp + 8, PAYLOAD, sizeof PAYLOAD - 1) == 0 ? "matches" : "differs");
  /* Truncation: 10 bytes asked with MSG_TRUNC returns the datagram's length. */
  send_echo(s, &to, 2);
  n = recv(s, buf, 10, MSG_TRUNC);
  printf("recv 10 with MSG_TRUNC: %zd\n", n);
  /* A filter that drops echo replies: nothing arrives. */
  f.data = ~0u;
  setsockopt(s, SOL_RAW, ICMP_FILTER, &f, sizeof f);
  struct icmp_filter g;
  l = sizeof g;
  getsockopt(s, SOL_RAW, ICMP_FILTER, &g, &l);
  printf("ICMP_FILTER reads back: %s\n", g.data == ~0u ? "all dropped" : "other");
  struct timeval shortv = { 0, 300000 };
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &shortv, sizeof shortv);
  send_echo(s, &to, 3);
  n = recv(s, buf, sizeof buf, 0);
  printf("filtered reply: %s\n", n < 0 ? ename(errno) : "delivered");
  close(s);
  return 0;
}
