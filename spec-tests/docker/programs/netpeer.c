/*
 * netpeer: the network peers the Docker tests need and the busybox image lacks (Debian's
 * busybox has no `nc -u`, and its ping opens only raw sockets). Static, bind-mounted
 * into the containers by network.test.ts.
 *
 *   netpeer udp-echo PORT        answers each UDP datagram on PORT with its bytes, forever
 *   netpeer udp-send IP PORT MSG sends MSG until a reply comes (10 s at most), prints it
 *   netpeer ping IP              one ICMP echo through an ICMP ping socket (SOCK_DGRAM),
 *                                prints "echo reply from IP" (5 s at most)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "netpeer: %s: %s\n", what, strerror(errno));
  exit(1);
}

static struct sockaddr_in address(const char *ip, int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
    fprintf(stderr, "netpeer: bad address %s\n", ip);
    exit(2);
  }
  return a;
}

static void timeout(int s, int ms) {
  struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
  if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) die("SO_RCVTIMEO");
}

int main(int argc, char **argv) {
  char buf[2048];
  if (argc == 3 && strcmp(argv[1], "udp-echo") == 0) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) die("socket");
    struct sockaddr_in a = address("0.0.0.0", atoi(argv[2]));
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) die("bind");
    for (;;) {
      struct sockaddr_in from;
      socklen_t len = sizeof(from);
      ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
      if (n < 0) die("recvfrom");
      if (sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, len) < 0) die("sendto");
    }
  }
  if (argc == 5 && strcmp(argv[1], "udp-send") == 0) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) die("socket");
    struct sockaddr_in a = address(argv[2], atoi(argv[3]));
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) die("connect");
    timeout(s, 200);
    for (int i = 0; i < 50; i++) {
      if (send(s, argv[4], strlen(argv[4]), 0) < 0 && errno != ECONNREFUSED) die("send");
      ssize_t n = recv(s, buf, sizeof(buf) - 1, 0);
      if (n >= 0) {
        buf[n] = 0;
        printf("%s\n", buf);
        return 0;
      }
      if (errno != EAGAIN && errno != ECONNREFUSED) die("recv");
    }
    fprintf(stderr, "netpeer: no reply from %s:%s\n", argv[2], argv[3]);
    return 1;
  }
  if (argc == 3 && strcmp(argv[1], "ping") == 0) {
    int s = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    if (s < 0) die("socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)");
    struct sockaddr_in a = address(argv[2], 0);
    timeout(s, 5000);
    struct icmphdr req = {.type = ICMP_ECHO};
    req.un.echo.sequence = htons(1);
    if (sendto(s, &req, sizeof(req), 0, (struct sockaddr *)&a, sizeof(a)) < 0) die("sendto");
    ssize_t n = recv(s, buf, sizeof(buf), 0);
    if (n < 0) die("recv");
    struct icmphdr *rep = (struct icmphdr *)buf;
    if (n < (ssize_t)sizeof(*rep) || rep->type != ICMP_ECHOREPLY || ntohs(rep->un.echo.sequence) != 1) {
      fprintf(stderr, "netpeer: not an echo reply\n");
      return 1;
    }
    printf("echo reply from %s\n", argv[2]);
    return 0;
  }
  fprintf(stderr, "usage: netpeer udp-echo PORT | udp-send IP PORT MSG | ping IP\n");
  return 2;
}
