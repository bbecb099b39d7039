/*
 * netlink-raw: NETLINK_ROUTE at the message level. Port ids (autobind to the pid, then a
 * negative id), an RTM_GETLINK dump (sequence numbers, NLM_F_MULTI, NLMSG_DONE), a
 * single get by index and by an unknown index (ENODEV), datagram truncation (MSG_TRUNC,
 * MSG_PEEK, a short buffer), malformed requests (short, lying lengths: ignored; unknown
 * types: EOPNOTSUPP), mutations refused without CAP_NET_ADMIN (EPERM), and the socket()
 * errors. Prints only what the namespace's interfaces decide.
 */
#include "common.h"
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>

static int nl(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) { say("FAIL socket: %s", strerror(errno)); exit(1); }
  return fd;
}

static unsigned portid(int fd) {
  struct sockaddr_nl a;
  socklen_t len = sizeof a;
  if (getsockname(fd, (struct sockaddr *)&a, &len) != 0) { say("FAIL getsockname: %s", strerror(errno)); exit(1); }
  if (len != sizeof a || a.nl_family != AF_NETLINK) { say("FAIL getsockname len %u family %d", len, a.nl_family); exit(1); }
  return a.nl_pid;
}

static void request(int fd, int type, int flags, unsigned seq, const void *body, size_t n) {
  char buf[256] = {0};
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  h->nlmsg_len = NLMSG_LENGTH(n);
  h->nlmsg_type = type;
  h->nlmsg_flags = flags;
  h->nlmsg_seq = seq;
  memcpy(NLMSG_DATA(h), body, n);
  struct sockaddr_nl k = {.nl_family = AF_NETLINK};
  ssize_t w = sendto(fd, buf, h->nlmsg_len, 0, (struct sockaddr *)&k, sizeof k);
  if (w != (ssize_t)h->nlmsg_len) { say("FAIL sendto: %zd %s", w, strerror(errno)); exit(1); }
}

/* reply reads one datagram (non-blocking) and returns its length, or -errno. */
static ssize_t reply(int fd, char *buf, size_t n) {
  ssize_t r = recv(fd, buf, n, MSG_DONTWAIT);
  return r < 0 ? -errno : r;
}

/* error_of returns the error code of an NLMSG_ERROR reply, or 1 when the reply is something else. */
static int error_of(int fd, unsigned seq) {
  char buf[8192];
  ssize_t n = reply(fd, buf, sizeof buf);
  if (n < 0) return (int)n * 1000;
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  if (!NLMSG_OK(h, n) || h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq != seq) return 1;
  return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
}

static void dump_links(int fd, unsigned me) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  request(fd, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 100, &ifi, sizeof ifi);
  char buf[32768];
  int done = 0, links = 0, bad = 0;
  while (!done) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) { say("FAIL recv dump: %s", strerror(errno)); exit(1); }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != 100 || h->nlmsg_pid != me || !(h->nlmsg_flags & NLM_F_MULTI)) bad++;
      if (h->nlmsg_type == NLMSG_DONE) { done = 1; break; }
      if (h->nlmsg_type != RTM_NEWLINK) { say("FAIL dump message type %d", h->nlmsg_type); exit(1); }
      struct ifinfomsg *i = NLMSG_DATA(h);
      const char *name = "?";
      unsigned mtu = 0, txq = 0, alen = 0;
      int rl = IFLA_PAYLOAD(h);
      for (struct rtattr *a = IFLA_RTA(i); RTA_OK(a, rl); a = RTA_NEXT(a, rl)) {
        if (a->rta_type == IFLA_IFNAME) name = RTA_DATA(a);
        if (a->rta_type == IFLA_MTU) mtu = *(unsigned *)RTA_DATA(a);
        if (a->rta_type == IFLA_TXQLEN) txq = *(unsigned *)RTA_DATA(a);
        if (a->rta_type == IFLA_ADDRESS) alen = RTA_PAYLOAD(a);
      }
      say("link %d %s type %d flags %#x mtu %u txqlen %u address bytes %u", i->ifi_index, name, i->ifi_type,
          i->ifi_flags & (IFF_UP | IFF_LOOPBACK | IFF_BROADCAST | IFF_NOARP | IFF_MULTICAST), mtu, txq, alen);
      links++;
    }
  }
  say("dump: %d links, done, headers %s", links, bad ? "WRONG" : "carry seq, port id and NLM_F_MULTI");
}

static void get_link(int fd, int index) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
  request(fd, RTM_GETLINK, NLM_F_REQUEST, 200 + index, &ifi, sizeof ifi);
  char buf[8192];
  ssize_t n = reply(fd, buf, sizeof buf);
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  if (n < 0 || !NLMSG_OK(h, n)) { say("get %d: no reply (%zd)", index, n); return; }
  if (h->nlmsg_type == NLMSG_ERROR) { say("get %d: error %d", index, ((struct nlmsgerr *)NLMSG_DATA(h))->error); return; }
  struct ifinfomsg *i = NLMSG_DATA(h);
  say("get %d: type %d index %d flags-multi %d seq-ok %d", index, h->nlmsg_type, i->ifi_index,
      !!(h->nlmsg_flags & NLM_F_MULTI), h->nlmsg_seq == (unsigned)(200 + index));
}

static int readable(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
  if (poll(&p, 1, 0) < 0) return -errno;
  return p.revents;
}

static void truncation(int fd) {
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = 1};
  int before = readable(fd);
  request(fd, RTM_GETLINK, NLM_F_REQUEST, 300, &ifi, sizeof ifi);
  say("poll before the request %#x, after it %#x", before, readable(fd));
  char small[16];
  ssize_t full = recv(fd, small, sizeof small, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
  unsigned len = ((struct nlmsghdr *)small)->nlmsg_len;
  say("peek with MSG_TRUNC returns the whole datagram: %d", full > (ssize_t)sizeof small && full == (ssize_t)len);
  struct iovec iov = {small, sizeof small};
  struct sockaddr_nl from;
  struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
  ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
  say("short buffer: %zd bytes, MSG_TRUNC %d, from pid %u namelen %u", n, !!(m.msg_flags & MSG_TRUNC), from.nl_pid, m.msg_namelen);
  say("the rest is gone: %s", reply(fd, small, sizeof small) == -EAGAIN ? "EAGAIN" : "data");
}

/* mmsg sends two gets in one sendmmsg and takes both answers with one recvmmsg. */
static void mmsg(int fd) {
  struct { struct nlmsghdr h; struct ifinfomsg i; } req[2];
  struct iovec iov[2];
  struct mmsghdr out[2];
  memset(req, 0, sizeof req);
  memset(out, 0, sizeof out);
  for (int k = 0; k < 2; k++) {
    req[k].h = (struct nlmsghdr){.nlmsg_len = sizeof req[k], .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 600 + k};
    req[k].i.ifi_index = k + 1;
    iov[k] = (struct iovec){&req[k], sizeof req[k]};
    out[k].msg_hdr.msg_iov = &iov[k];
    out[k].msg_hdr.msg_iovlen = 1;
  }
  int sent = sendmmsg(fd, out, 2, 0);
  static char bufs[2][8192];
  struct iovec riov[3];
  struct mmsghdr in[3];
  memset(in, 0, sizeof in);
  static char spare[8192];
  for (int k = 0; k < 3; k++) {
    riov[k] = (struct iovec){k < 2 ? bufs[k] : spare, 8192};
    in[k].msg_hdr.msg_iov = &riov[k];
    in[k].msg_hdr.msg_iovlen = 1;
  }
  int got = recvmmsg(fd, in, 3, MSG_DONTWAIT, NULL);
  int ok = got == 2;
  for (int k = 0; ok && k < 2; k++) {
    struct nlmsghdr *h = (struct nlmsghdr *)bufs[k];
    ok = in[k].msg_len == h->nlmsg_len && h->nlmsg_type == RTM_NEWLINK && h->nlmsg_seq == (unsigned)(600 + k) &&
         ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index == k + 1;
  }
  say("sendmmsg of two gets: %d, recvmmsg: %d, answers in order: %d", sent, got, ok);
}

static void malformed(int fd) {
  char buf[64] = {0};
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  /* Shorter than a header. */
  ssize_t w = send(fd, buf, 8, 0);
  say("8-byte send: %zd, reply %zd", w, reply(fd, buf + 32, 32));
  /* A header whose length is more than was sent. */
  h->nlmsg_len = 1000; h->nlmsg_type = RTM_GETLINK; h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK; h->nlmsg_seq = 400;
  w = send(fd, buf, 32, 0);
  say("lying length: %zd, reply %zd", w, reply(fd, buf + 32, 32));
  /* A length below the header's own. */
  h->nlmsg_len = 4;
  w = send(fd, buf, 32, 0);
  say("length 4: %zd, reply %zd", w, reply(fd, buf + 32, 32));
  /* Not a request, with NLM_F_ACK: acknowledged. */
  struct rtgenmsg g = {.rtgen_family = AF_UNSPEC};
  request(fd, RTM_GETLINK, NLM_F_ACK, 401, &g, sizeof g);
  say("non-request with ack: error %d", error_of(fd, 401));
  request(fd, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, 402, &g, sizeof g);
  say("NLMSG_NOOP with ack: error %d", error_of(fd, 402));
  request(fd, 0x3ff0, NLM_F_REQUEST, 403, &g, sizeof g);
  say("unknown type: error %d", error_of(fd, 403));
  static char huge[1 << 20];
  w = send(fd, huge, sizeof huge, 0);
  say("1 MiB send: %zd %s", w, w < 0 ? strerror(errno) : "");
}

static void mutations(int fd) {
  struct { struct ifaddrmsg a; struct rtattr r; unsigned char ip[4]; } add = {
    .a = {.ifa_family = AF_INET, .ifa_prefixlen = 24, .ifa_index = 1},
    .r = {.rta_len = RTA_LENGTH(4), .rta_type = IFA_LOCAL}, .ip = {10, 99, 0, 1}};
  request(fd, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 500, &add, sizeof add);
  say("RTM_NEWADDR: error %d", error_of(fd, 500));
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = 1};
  request(fd, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, 501, &ifi, sizeof ifi);
  say("RTM_SETLINK: error %d", error_of(fd, 501));
  request(fd, RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, 502, &ifi, sizeof ifi);
  say("RTM_DELLINK: error %d", error_of(fd, 502));
  struct rtmsg rt = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_type = RTN_UNICAST};
  request(fd, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, 503, &rt, sizeof rt);
  say("RTM_NEWROUTE: error %d", error_of(fd, 503));
}

/* plain_calls: read(2) and write(2) on a netlink socket, the calls it has no use for, and its options. */
static void plain_calls(int fd) {
  struct { struct nlmsghdr h; struct ifinfomsg i; } req = {
    .h = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 700},
    .i = {.ifi_family = AF_UNSPEC, .ifi_index = 1}};
  ssize_t w = write(fd, &req, sizeof req);
  char buf[8192];
  struct pollfd p = {.fd = fd, .events = POLLIN};
  poll(&p, 1, 1000);
  ssize_t n = read(fd, buf, sizeof buf);
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  int ok = n > 0 && NLMSG_OK(h, n) && h->nlmsg_type == RTM_NEWLINK && h->nlmsg_seq == 700
    && ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index == 1;
  say("write of a get: %d, read of its answer: %d", w == (ssize_t)sizeof req, ok);
  say("listen: %s", listen(fd, 1) == 0 ? "ok" : strerror(errno));
  say("accept: %s", accept(fd, NULL, NULL) >= 0 ? "ok" : strerror(errno));
  say("shutdown: %s", shutdown(fd, SHUT_RDWR) == 0 ? "ok" : strerror(errno));
  int v[3] = {0};
  socklen_t len = sizeof v[0];
  int r = getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v[0], &len);
  r |= getsockopt(fd, SOL_SOCKET, SO_TYPE, &v[1], &len);
  r |= getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v[2], &len);
  say("SO_DOMAIN %d SO_TYPE %d SO_PROTOCOL %d: %d", v[0], v[1], v[2], r);
  int one = 1, got = 0;
  len = sizeof got;
  r = setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  int g = getsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &got, &len);
  say("NETLINK_EXT_ACK set: %d, read back: %d %d", r, g, got);
  len = 2;
  say("NETLINK_EXT_ACK in 2 bytes: %s", getsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &got, &len) == 0 ? "ok" : strerror(errno));
  say("SOL_NETLINK option 99: %s", setsockopt(fd, SOL_NETLINK, 99, &one, sizeof one) == 0 ? "ok" : strerror(errno));
}

static void socket_errors(void) {
  int r = socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE);
  say("SOCK_STREAM: %s", r < 0 ? strerror(errno) : "ok");
  r = socket(AF_NETLINK, SOCK_RAW, 31);
  say("protocol 31: %s", r < 0 ? strerror(errno) : "ok");
  r = socket(AF_NETLINK, SOCK_RAW, 32);
  say("protocol 32: %s", r < 0 ? strerror(errno) : "ok");
  int pair[2];
  say("socketpair: %s", socketpair(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, pair) == 0 ? "ok" : strerror(errno));
  r = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
  say("NETLINK_KOBJECT_UEVENT: %s", r < 0 ? strerror(errno) : "ok");
  if (r >= 0) {
    struct sockaddr_nl events = {.nl_family = AF_NETLINK, .nl_groups = 1};
    say("  bind to its group: %s", bind(r, (struct sockaddr *)&events, sizeof events) == 0 ? "ok" : strerror(errno));
    char ev[64];
    say("  an event: %s", recv(r, ev, sizeof ev, MSG_DONTWAIT) < 0 ? strerror(errno) : "received");
    close(r);
  }
  r = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
  say("SOCK_DGRAM: %s", r < 0 ? strerror(errno) : "ok");
  if (r >= 0) close(r);
}

/* timeouts: SO_RCVTIMEO and SO_SNDTIMEO are socket options of a netlink socket too. */
static void timeouts(void) {
  int fd = nl();
  /* 100 ms: a whole number of jiffies at HZ 100, 250, 300 and 1000 (Linux reads back the
   * timeout rounded to jiffies). */
  struct timeval tv = {.tv_sec = 0, .tv_usec = 100000}, got = {0};
  socklen_t len = sizeof got;
  int r = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int g = getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &got, &len);
  say("SO_RCVTIMEO set: %d, read back: %d %ld.%06ld (%u bytes)", r, g, (long)got.tv_sec, (long)got.tv_usec, len);
  char buf[64];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  say("a blocking receive with nothing to read ends at the timeout: %s", n < 0 ? strerror(errno) : "data");
  tv.tv_usec = 1000000;
  say("tv_usec of a million: %s", setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0 ? "ok" : strerror(errno));
  say("a short timeval: %s", setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, 8) == 0 ? "ok" : strerror(errno));
  close(fd);
}

int main(void) {
  /* Drop every capability from the effective set: a root run natively then lacks
   * CAP_NET_ADMIN as a container does. */
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) != 0) { say("FAIL capget"); return 1; }
  data[0].effective = data[1].effective = 0;
  if (syscall(SYS_capset, &hdr, data) != 0) { say("FAIL capset: %s", strerror(errno)); return 1; }

  int a = nl(), b = nl();
  say("unbound port id: %u", portid(a));
  struct sockaddr_nl any = {.nl_family = AF_NETLINK};
  if (bind(a, (struct sockaddr *)&any, sizeof any) != 0) { say("FAIL bind: %s", strerror(errno)); return 1; }
  unsigned me = portid(a);
  say("autobind gives the pid: %d", me == (unsigned)getpid());
  if (bind(b, (struct sockaddr *)&any, sizeof any) != 0) { say("FAIL bind b: %s", strerror(errno)); return 1; }
  say("second socket gets a negative id: %d", (int)portid(b) < 0);
  struct sockaddr_nl taken = {.nl_family = AF_NETLINK, .nl_pid = me};
  int c = nl();
  say("binding a taken id: %s", bind(c, (struct sockaddr *)&taken, sizeof taken) == 0 ? "ok" : strerror(errno));
  say("short address: %s", bind(c, (struct sockaddr *)&taken, 4) == 0 ? "ok" : strerror(errno));
  struct sockaddr_nl peer;
  socklen_t plen = sizeof peer;
  say("getpeername: %d pid %u", getpeername(a, (struct sockaddr *)&peer, &plen), peer.nl_pid);

  dump_links(a, me);
  get_link(a, 1);
  get_link(a, 99999);
  truncation(a);
  mmsg(a);
  malformed(a);
  mutations(a);
  plain_calls(a);
  timeouts();
  socket_errors();
  say("nothing left: %s", reply(a, (char[64]){0}, 64) == -EAGAIN ? "EAGAIN" : "data");
  return 0;
}
