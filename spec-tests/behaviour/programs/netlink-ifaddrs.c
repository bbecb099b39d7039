/*
 * netlink-ifaddrs: what glibc learns from NETLINK_ROUTE. getifaddrs(3) lists each
 * interface (its AF_PACKET entry) and address with its flags; getaddrinfo(3) with
 * AI_ADDRCONFIG (which asks netlink which families are configured) resolves numeric
 * IPv4 and IPv6 hosts. Run in a network namespace with known interfaces: the output
 * depends only on them.
 */
#include "common.h"
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>

static const char *addr(const struct sockaddr *sa, char *buf, size_t n) {
  if (!sa) return "-";
  if (sa->sa_family == AF_INET) return inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, n);
  if (sa->sa_family == AF_INET6) return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, n);
  return "?";
}

static void resolve(const char *host) {
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICHOST;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(host, "80", &hints, &res);
  if (rc != 0) { say("getaddrinfo %s AI_ADDRCONFIG: %s", host, rc == EAI_SYSTEM ? strerror(errno) : "no address"); return; }
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    char b[64];
    say("getaddrinfo %s AI_ADDRCONFIG: family %d %s", host, a->ai_family, addr(a->ai_addr, b, sizeof b));
  }
  freeaddrinfo(res);
}

int main(void) {
  struct ifaddrs *ifs;
  if (getifaddrs(&ifs) != 0) { say("FAIL getifaddrs: %s", strerror(errno)); return 1; }
  const unsigned stable = IFF_UP | IFF_BROADCAST | IFF_LOOPBACK | IFF_POINTOPOINT | IFF_NOARP | IFF_MULTICAST;
  for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
    int fam = i->ifa_addr ? i->ifa_addr->sa_family : -1;
    if (fam == AF_PACKET) { say("%s packet flags %#x", i->ifa_name, i->ifa_flags & stable); continue; }
    char a[64], m[64];
    say("%s family %d flags %#x addr %s mask %s", i->ifa_name, fam, i->ifa_flags & stable,
        addr(i->ifa_addr, a, sizeof a), addr(i->ifa_netmask, m, sizeof m));
  }
  freeifaddrs(ifs);
  resolve("127.0.0.1");
  resolve("::1");
  resolve("10.77.0.2");
  say("done");
  return 0;
}
