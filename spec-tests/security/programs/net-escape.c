/*
 * net-escape: tries to reach the sentry's host descriptors and the host's Unix sockets
 * through the socket calls of an application whose inet sockets are host sockets.
 * argv[1]: an abstract Unix name a host process listens on in the container's network
 * namespace; argv[2]: the path of a host Unix socket outside the container's root.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *err(int r) {
  return r < 0 ? strerrorname_np(errno) : "ok";
}

static socklen_t unix_addr(struct sockaddr_un *a, const char *name, int abstract) {
  memset(a, 0, sizeof(*a));
  a->sun_family = AF_UNIX;
  size_t n = strlen(name);
  if (abstract) {
    memcpy(a->sun_path + 1, name, n);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
  }
  memcpy(a->sun_path, name, n);
  return (socklen_t)sizeof(*a);
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  setvbuf(stdout, NULL, _IONBF, 0);
  /* Host-backed sockets: a TCP listener, a connection to it, a UDP socket. */
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof(a);
  if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4) || getsockname(l, (struct sockaddr *)&a, &al)) return 3;
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (struct sockaddr *)&a, sizeof(a))) return 4;
  int s = accept(l, NULL, NULL);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  /* Every descriptor the application sees is one it made. */
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  printf("fds:");
  int n = 0;
  char list[64][16];
  while ((e = readdir(d)) && n < 64) if (e->d_name[0] != '.') snprintf(list[n++], 16, "%.15s", e->d_name);
  closedir(d);
  for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) if (atoi(list[j]) < atoi(list[i])) { char t[16]; memcpy(t, list[i], 16); memcpy(list[i], list[j], 16); memcpy(list[j], t, 16); }
  for (int i = 0; i < n; i++) printf(" %s", list[i]);
  printf("\n");
  char link[64] = {0};
  readlink("/proc/self/fd/3", link, sizeof(link) - 1);
  printf("fd 3 is a socket: %s\n", strncmp(link, "socket:[", 8) == 0 ? "yes" : link);
  /* The host's Unix sockets: an abstract name in this network namespace, a path. */
  struct sockaddr_un un;
  socklen_t ul = unix_addr(&un, argv[1], 1);
  int x = socket(AF_UNIX, SOCK_STREAM, 0);
  printf("connect to the host's abstract socket: %s\n", err(connect(x, (struct sockaddr *)&un, ul)));
  close(x);
  x = socket(AF_UNIX, SOCK_DGRAM, 0);
  printf("sendto the host's abstract socket: %s\n", err((int)sendto(x, "x", 1, 0, (struct sockaddr *)&un, ul)));
  close(x);
  socklen_t pl = unix_addr(&un, argv[2], 0);
  x = socket(AF_UNIX, SOCK_STREAM, 0);
  printf("connect to the host's socket path: %s\n", err(connect(x, (struct sockaddr *)&un, pl)));
  close(x);
  /* A Unix address through a host-backed inet socket. */
  x = socket(AF_INET, SOCK_STREAM, 0);
  unix_addr(&un, argv[1], 1);
  printf("inet connect with the abstract address: %s\n", err(connect(x, (struct sockaddr *)&un, ul)));
  printf("inet bind with the abstract address: %s\n", err(bind(x, (struct sockaddr *)&un, ul)));
  close(x);
  printf("udp sendto the abstract address: %s\n", err((int)sendto(u, "x", 1, 0, (struct sockaddr *)&un, ul)));
  /* Descriptors through a host-backed socket: never passed. */
  char cbuf[CMSG_SPACE(sizeof(int))] = {0};
  struct iovec iov = {"r", 1};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(h), &l, sizeof(int));
  printf("sendmsg SCM_RIGHTS over TCP: %s\n", err((int)sendmsg(c, &m, 0)));
  char rbuf[CMSG_SPACE(sizeof(int))] = {0};
  char b;
  struct iovec riov = {&b, 1};
  struct msghdr rm = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = rbuf, .msg_controllen = sizeof(rbuf)};
  ssize_t got = recvmsg(s, &rm, 0);
  printf("the peer got %zd byte, control length %zu\n", got, (size_t)rm.msg_controllen);
  /* Options and ioctls that would change the host socket's host side. */
  int one = 1;
  printf("SO_BINDTODEVICE: %s\n", err(setsockopt(c, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3)));
  printf("SO_MARK: %s\n", err(setsockopt(c, SOL_SOCKET, SO_MARK, &one, sizeof(one))));
  printf("SO_ATTACH_FILTER: %s\n", err(setsockopt(c, SOL_SOCKET, SO_ATTACH_FILTER, &one, sizeof(one))));
  printf("SO_SNDBUFFORCE: %s\n", err(setsockopt(c, SOL_SOCKET, SO_SNDBUFFORCE, &one, sizeof(one))));
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, "lo");
  printf("SIOCSIFFLAGS: %s\n", err(ioctl(u, SIOCSIFFLAGS, &ifr)));
  printf("SIOCGIFFLAGS of lo: %s\n", err(ioctl(u, SIOCGIFFLAGS, &ifr)));
  printf("still alive: %s\n", write(c, "ok", 2) == 2 ? "yes" : "no");
  return 0;
}
