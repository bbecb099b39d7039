/*
 * netlink-abuse: NETLINK_ROUTE as a way out or a way down.
 *   fuzz:     thousands of malformed and random messages (short, lying lengths, huge,
 *             random types and flags, mutations), random receives (sizes, MSG_PEEK,
 *             MSG_TRUNC), bad binds and options; then a normal dump must still work.
 *   host-fds: every descriptor 0..4095 that is a socket: is any an AF_NETLINK socket the
 *             program did not open (the sentry's own must stay invisible)?
 *   mutate:   with every capability, try to change the namespace: add and delete
 *             addresses, delete and down links, add and delete routes and neighbours.
 * Each prints deterministic lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int nl(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) { printf("FAIL socket: %s\n", strerror(errno)); exit(1); }
  return fd;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return (uint32_t)rng;
}

static void drain(int fd) {
  static char buf[65536];
  for (int i = 0; i < 64; i++) if (recv(fd, buf, rnd() % 3 ? sizeof buf : rnd() % 64, MSG_DONTWAIT | (rnd() % 4 ? 0 : MSG_TRUNC)) < 0) break;
}

static int count_links(int fd) {
  struct { struct nlmsghdr h; struct ifinfomsg i; } req = {
    .h = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 777}};
  if (send(fd, &req, sizeof req, 0) != sizeof req) return -errno;
  static char buf[32768];
  int links = 0;
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return -errno;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != 777) continue;
      if (h->nlmsg_type == NLMSG_DONE) return links;
      if (h->nlmsg_type == NLMSG_ERROR) return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      links++;
    }
  }
}

/* drop_caps empties the effective set: random messages must never change a namespace,
 * whoever runs the program (natively as root, they would reach the host's). */
static void drop_caps(void) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) != 0) { printf("FAIL capget\n"); exit(1); }
  data[0].effective = data[1].effective = 0;
  if (syscall(SYS_capset, &hdr, data) != 0) { printf("FAIL capset: %s\n", strerror(errno)); exit(1); }
}

static void fuzz(void) {
  static char msg[1 << 17];
  drop_caps();
  int fd = nl();
  for (int i = 0; i < 3000; i++) {
    size_t len = rnd() % 5 ? rnd() % 512 : rnd() % sizeof msg;
    for (size_t j = 0; j < len; j++) msg[j] = (char)rnd();
    int kind = rnd() % 4;
    if (kind > 0 && len >= 16) {
      struct nlmsghdr *h = (struct nlmsghdr *)msg;
      h->nlmsg_len = kind == 1 ? (uint32_t)len : kind == 2 ? rnd() : rnd() % 64;
      h->nlmsg_type = RTM_BASE + rnd() % (RTM_MAX - RTM_BASE + 4);
      h->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | (rnd() & 0xfff));
    }
    struct sockaddr_nl to = {.nl_family = rnd() % 8 ? AF_NETLINK : (sa_family_t)rnd(), .nl_pid = rnd() % 8 ? 0 : rnd(), .nl_groups = rnd() % 8 ? 0 : rnd()};
    struct iovec iov[3] = {{msg, len / 3}, {msg + len / 3, len / 3}, {msg + 2 * (len / 3), len - 2 * (len / 3)}};
    struct msghdr m = {.msg_name = rnd() % 2 ? &to : NULL, .msg_namelen = rnd() % 4 ? sizeof to : rnd() % 32, .msg_iov = iov, .msg_iovlen = 3};
    sendmsg(fd, &m, MSG_DONTWAIT);
    if (rnd() % 16 == 0) { int v = (int)rnd(); setsockopt(fd, rnd() % 2 ? SOL_NETLINK : SOL_SOCKET, rnd() % 40, &v, rnd() % 8); }
    if (rnd() % 16 == 0) { socklen_t l = rnd() % 2 ? 0 : rnd() % 16; int v; getsockopt(fd, rnd() % 2 ? SOL_NETLINK : SOL_SOCKET, rnd() % 40, &v, &l); }
    if (rnd() % 64 == 0) { int b = nl(); bind(b, (struct sockaddr *)msg, rnd() % 32); close(b); }
    char small[32];
    recv(fd, small, rnd() % sizeof small, MSG_DONTWAIT | (rnd() % 2 ? MSG_PEEK : 0) | (rnd() % 2 ? MSG_TRUNC : 0));
    drain(fd);
  }
  close(fd);
  fd = nl();
  int links = count_links(fd);
  printf("dump after the fuzz: %s\n", links > 0 ? "works" : strerror(-links));
}

static void host_fds(void) {
  int mine = nl();
  int foreign = 0, sockets = 0;
  for (int fd = 0; fd < 4096; fd++) {
    int dom;
    socklen_t l = sizeof dom;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) != 0) continue;
    sockets++;
    if (dom == AF_NETLINK && fd != mine) foreign++;
  }
  printf("sockets seen: %d, netlink sockets the program did not open: %d\n", sockets, foreign);
}

static int ask(int fd, int type, int flags, void *body, size_t n) {
  static unsigned seq = 1000;
  char buf[512] = {0};
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  h->nlmsg_len = NLMSG_LENGTH(n);
  h->nlmsg_type = type;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  h->nlmsg_seq = ++seq;
  memcpy(NLMSG_DATA(h), body, n);
  if (send(fd, buf, h->nlmsg_len, 0) < 0) return -errno * 1000;
  char r[8192];
  ssize_t got = recv(fd, r, sizeof r, MSG_DONTWAIT);
  if (got < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr))) return 1;
  h = (struct nlmsghdr *)r;
  return h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == seq ? ((struct nlmsgerr *)NLMSG_DATA(h))->error : 2;
}

struct addr_req { struct ifaddrmsg a; struct rtattr r; unsigned char ip[4]; };
struct route_req { struct rtmsg m; struct rtattr r; unsigned char dst[4]; struct rtattr o; int oif; };

/* index_of asks for a link by name (RTM_GETLINK with IFLA_IFNAME; if_nametoindex's ioctl is not netlink's). */
static int index_of(int fd, const char *name) {
  struct { struct nlmsghdr h; struct ifinfomsg i; struct rtattr r; char name[IFNAMSIZ]; } req = {0};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.h.nlmsg_seq = 900;
  req.r.rta_len = RTA_LENGTH(IFNAMSIZ);
  req.r.rta_type = IFLA_IFNAME;
  strncpy(req.name, name, IFNAMSIZ - 1);
  if (send(fd, &req, sizeof req, 0) < 0) return -1;
  char r[8192];
  ssize_t n = recv(fd, r, sizeof r, MSG_DONTWAIT);
  struct nlmsghdr *h = (struct nlmsghdr *)r;
  if (n < 0 || !NLMSG_OK(h, n) || h->nlmsg_type != RTM_NEWLINK) return -1;
  return ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
}

static void mutate(void) {
  int fd = nl();
  int veth0 = index_of(fd, "veth0"), veth1 = index_of(fd, "veth1");
  printf("veth0 and veth1 found: %d\n", veth0 > 0 && veth1 > 0);
  struct addr_req add = {{AF_INET, 24, 0, 0, (unsigned)veth0}, {RTA_LENGTH(4), IFA_LOCAL}, {10, 77, 0, 99}};
  printf("add an address: %d\n", ask(fd, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &add, sizeof add));
  struct addr_req del = {{AF_INET, 24, 0, 0, (unsigned)veth0}, {RTA_LENGTH(4), IFA_LOCAL}, {10, 77, 0, 2}};
  printf("delete an address: %d\n", ask(fd, RTM_DELADDR, 0, &del, sizeof del));
  struct ifinfomsg down = {.ifi_family = AF_UNSPEC, .ifi_index = veth0, .ifi_change = IFF_UP};
  printf("set a link down: %d\n", ask(fd, RTM_NEWLINK, 0, &down, sizeof down));
  printf("setlink down: %d\n", ask(fd, RTM_SETLINK, 0, &down, sizeof down));
  struct ifinfomsg gone = {.ifi_family = AF_UNSPEC, .ifi_index = veth1};
  printf("delete a link: %d\n", ask(fd, RTM_DELLINK, 0, &gone, sizeof gone));
  struct route_req rt = {{AF_INET, 16, 0, 0, RT_TABLE_MAIN, RTPROT_STATIC, RT_SCOPE_LINK, RTN_UNICAST, 0},
    {RTA_LENGTH(4), RTA_DST}, {10, 99, 0, 0}, {RTA_LENGTH(4), RTA_OIF}, veth0};
  printf("add a route: %d\n", ask(fd, RTM_NEWROUTE, NLM_F_CREATE, &rt, sizeof rt));
  rt.dst[1] = 88;
  printf("delete a route: %d\n", ask(fd, RTM_DELROUTE, 0, &rt, sizeof rt));
  struct ndmsg nd = {.ndm_family = AF_INET, .ndm_ifindex = veth0, .ndm_state = NUD_PERMANENT};
  printf("add a neighbour: %d\n", ask(fd, RTM_NEWNEIGH, NLM_F_CREATE, &nd, sizeof nd));
  struct sockaddr_nl grp = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
  char noop[16] = {0};
  printf("send to a multicast group: %s\n", sendto(fd, noop, sizeof noop, 0, (struct sockaddr *)&grp, sizeof grp) < 0 ? strerror(errno) : "sent");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc < 2) { printf("FAIL usage: netlink-abuse fuzz|host-fds|mutate\n"); return 1; }
  if (!strcmp(argv[1], "fuzz")) fuzz();
  else if (!strcmp(argv[1], "host-fds")) host_fds();
  else if (!strcmp(argv[1], "mutate")) mutate();
  else { printf("FAIL unknown mode %s\n", argv[1]); return 1; }
  return 0;
}
