/**
 * The allowlist of socket options and ioctls the host-network provider passes to its
 * host sockets, with the reason for each. Anything not listed answers ENOPROTOOPT
 * (options) or ENOTTY (ioctls), never a passthrough: a host socket option can change
 * what the host kernel does for the sentry's process (bind to a device, mark packets,
 * attach a BPF filter), which the application must not reach.
 */

/** SOL_SOCKET and the protocol levels. */
export const SOL_SOCKET = 1, IPPROTO_IP = 0, IPPROTO_TCP = 6, IPPROTO_IPV6 = 41, IPPROTO_ICMPV6 = 58;

/** SO_RCVTIMEO, SO_SNDTIMEO: kept by the sentry, which does the waiting (the host socket never blocks). */
export const SO_RCVTIMEO = 20, SO_SNDTIMEO = 21;

/** HostOption is one allowed option: level, name, what access, why. */
export interface HostOption {
  level: number;
  name: number;
  /** get: getsockopt only (a read-out of state); both: get and set. */
  access: 'get' | 'both';
  /** size is the most bytes the value has (getsockopt's buffer). */
  size: number;
  why: string;
}

const opt = (level: number, name: number, access: HostOption['access'], size: number, why: string): HostOption =>
  ({ level, name, access, size, why });

/** HOST_OPTIONS is the option allowlist. */
export const HOST_OPTIONS: readonly HostOption[] = [
  opt(SOL_SOCKET, 2, 'both', 4, 'SO_REUSEADDR: servers restart on a port in TIME_WAIT'),
  opt(SOL_SOCKET, 3, 'get', 4, 'SO_TYPE: read-out'),
  opt(SOL_SOCKET, 4, 'get', 4, 'SO_ERROR: the result of a non-blocking connect'),
  opt(SOL_SOCKET, 5, 'both', 4, 'SO_DONTROUTE: only the socket\'s own routing'),
  opt(SOL_SOCKET, 6, 'both', 4, 'SO_BROADCAST: UDP broadcast in the sandbox\'s namespace'),
  opt(SOL_SOCKET, 7, 'both', 4, 'SO_SNDBUF: bounded by the host\'s wmem_max (SO_SNDBUFFORCE is not listed)'),
  opt(SOL_SOCKET, 8, 'both', 4, 'SO_RCVBUF: bounded by the host\'s rmem_max (SO_RCVBUFFORCE is not listed)'),
  opt(SOL_SOCKET, 9, 'both', 4, 'SO_KEEPALIVE: TCP keepalives'),
  opt(SOL_SOCKET, 10, 'both', 4, 'SO_OOBINLINE: urgent data in line'),
  opt(SOL_SOCKET, 13, 'both', 8, 'SO_LINGER: close waits or resets (the host close is the sentry\'s, which never blocks on it)'),
  opt(SOL_SOCKET, 15, 'both', 4, 'SO_REUSEPORT: load-balanced listeners'),
  opt(SOL_SOCKET, 18, 'both', 4, 'SO_RCVLOWAT: readiness threshold'),
  opt(SOL_SOCKET, 19, 'get', 4, 'SO_SNDLOWAT: read-out (Linux refuses to set it)'),
  opt(SOL_SOCKET, 30, 'get', 4, 'SO_ACCEPTCONN: read-out'),
  opt(SOL_SOCKET, 38, 'get', 4, 'SO_PROTOCOL: read-out'),
  opt(SOL_SOCKET, 39, 'get', 4, 'SO_DOMAIN: read-out'),
  opt(IPPROTO_TCP, 1, 'both', 4, 'TCP_NODELAY: no Nagle delay'),
  opt(IPPROTO_TCP, 2, 'both', 4, 'TCP_MAXSEG: segment size'),
  opt(IPPROTO_TCP, 3, 'both', 4, 'TCP_CORK: batching writes'),
  opt(IPPROTO_TCP, 4, 'both', 4, 'TCP_KEEPIDLE: keepalive timing'),
  opt(IPPROTO_TCP, 5, 'both', 4, 'TCP_KEEPINTVL: keepalive timing'),
  opt(IPPROTO_TCP, 6, 'both', 4, 'TCP_KEEPCNT: keepalive probes'),
  opt(IPPROTO_TCP, 7, 'both', 4, 'TCP_SYNCNT: connect retries'),
  opt(IPPROTO_TCP, 8, 'both', 4, 'TCP_LINGER2: FIN_WAIT2 lifetime'),
  opt(IPPROTO_TCP, 9, 'both', 4, 'TCP_DEFER_ACCEPT: accept after data'),
  opt(IPPROTO_TCP, 10, 'both', 4, 'TCP_WINDOW_CLAMP: window bound'),
  opt(IPPROTO_TCP, 11, 'get', 232, 'TCP_INFO: connection statistics (ss, nginx)'),
  opt(IPPROTO_TCP, 12, 'both', 4, 'TCP_QUICKACK: ack at once'),
  opt(IPPROTO_TCP, 18, 'both', 4, 'TCP_USER_TIMEOUT: give up on unacknowledged data'),
  opt(IPPROTO_TCP, 25, 'both', 4, 'TCP_NOTSENT_LOWAT: write readiness threshold'),
  opt(IPPROTO_IP, 1, 'both', 4, 'IP_TOS: traffic class'),
  opt(IPPROTO_IP, 2, 'both', 4, 'IP_TTL: hop limit (traceroute-style tools)'),
  opt(IPPROTO_IP, 10, 'both', 4, 'IP_MTU_DISCOVER: path MTU discovery mode'),
  opt(IPPROTO_IP, 8, 'both', 4, 'IP_PKTINFO: each datagram\'s destination address as ancillary data (sentry/net/host/cmsg.ts); UDP servers on 0.0.0.0 (DNS) answer from it'),
  opt(IPPROTO_IP, 12, 'both', 4, 'IP_RECVTTL: each datagram\'s TTL as ancillary data'),
  opt(IPPROTO_IP, 13, 'both', 4, 'IP_RECVTOS: each datagram\'s TOS as ancillary data'),
  opt(IPPROTO_IP, 14, 'get', 4, 'IP_MTU: read-out of a connected socket\'s path MTU'),
  opt(IPPROTO_IP, 24, 'both', 4, 'IP_BIND_ADDRESS_NO_PORT: late port choice for clients'),
  opt(IPPROTO_IP, 32, 'both', 12, 'IP_MULTICAST_IF: multicast source interface'),
  opt(IPPROTO_IP, 33, 'both', 4, 'IP_MULTICAST_TTL: multicast hop limit'),
  opt(IPPROTO_IP, 34, 'both', 4, 'IP_MULTICAST_LOOP: multicast loopback'),
  opt(IPPROTO_IP, 35, 'both', 12, 'IP_ADD_MEMBERSHIP: join a group (mDNS, SSDP)'),
  opt(IPPROTO_IP, 36, 'both', 12, 'IP_DROP_MEMBERSHIP: leave a group'),
  opt(IPPROTO_IPV6, 16, 'both', 4, 'IPV6_UNICAST_HOPS: hop limit'),
  opt(IPPROTO_IPV6, 17, 'both', 4, 'IPV6_MULTICAST_IF: multicast interface'),
  opt(IPPROTO_IPV6, 18, 'both', 4, 'IPV6_MULTICAST_HOPS: multicast hop limit'),
  opt(IPPROTO_IPV6, 19, 'both', 4, 'IPV6_MULTICAST_LOOP: multicast loopback'),
  opt(IPPROTO_IPV6, 20, 'both', 20, 'IPV6_ADD_MEMBERSHIP: join a group'),
  opt(IPPROTO_IPV6, 21, 'both', 20, 'IPV6_DROP_MEMBERSHIP: leave a group'),
  opt(IPPROTO_IPV6, 23, 'both', 4, 'IPV6_MTU_DISCOVER: path MTU discovery mode'),
  opt(IPPROTO_IPV6, 26, 'both', 4, 'IPV6_V6ONLY: dual-stack or IPv6 only'),
  opt(IPPROTO_IPV6, 49, 'both', 4, 'IPV6_RECVPKTINFO: each datagram\'s destination address as ancillary data'),
  opt(IPPROTO_IPV6, 51, 'both', 4, 'IPV6_RECVHOPLIMIT: each datagram\'s hop limit as ancillary data'),
  opt(IPPROTO_IPV6, 66, 'both', 4, 'IPV6_RECVTCLASS: each datagram\'s traffic class as ancillary data'),
  opt(IPPROTO_IPV6, 67, 'both', 4, 'IPV6_TCLASS: traffic class'),
];

const byKey = new Map(HOST_OPTIONS.map((o) => [`${o.level}:${o.name}`, o]));

/** hostOption returns the allowlist row of (level, name), if any. */
export function hostOption(level: number, name: number): HostOption | undefined {
  return byKey.get(`${level}:${name}`);
}

/** HostIoctl is one allowed ioctl: its request, the size of its argument, and why. */
export interface HostIoctl {
  req: number;
  name: string;
  /** arg: 'int-out' writes an int; 'ifreq' reads and writes a 40-byte struct ifreq; 'ifconf' is struct ifconf (a length and a pointer). */
  arg: 'int-out' | 'ifreq' | 'ifconf';
  why: string;
}

/**
 * HOST_IOCTLS is the ioctl allowlist (all read-only: no SIOCS* request is listed).
 */
export const HOST_IOCTLS: readonly HostIoctl[] = [
  { req: 0x541b, name: 'FIONREAD', arg: 'int-out', why: 'bytes waiting to be read (SIOCINQ)' },
  { req: 0x5411, name: 'SIOCOUTQ', arg: 'int-out', why: 'bytes not yet sent' },
  { req: 0x8905, name: 'SIOCATMARK', arg: 'int-out', why: 'at the urgent mark' },
  { req: 0x8910, name: 'SIOCGIFNAME', arg: 'ifreq', why: 'interface name of an index (if_indextoname)' },
  { req: 0x8912, name: 'SIOCGIFCONF', arg: 'ifconf', why: 'the namespace\'s IPv4 interface addresses (older tools; getifaddrs uses netlink)' },
  { req: 0x8913, name: 'SIOCGIFFLAGS', arg: 'ifreq', why: 'interface flags (up, loopback)' },
  { req: 0x8915, name: 'SIOCGIFADDR', arg: 'ifreq', why: 'interface address' },
  { req: 0x8919, name: 'SIOCGIFBRDADDR', arg: 'ifreq', why: 'interface broadcast address' },
  { req: 0x891b, name: 'SIOCGIFNETMASK', arg: 'ifreq', why: 'interface netmask' },
  { req: 0x8921, name: 'SIOCGIFMTU', arg: 'ifreq', why: 'interface MTU' },
  { req: 0x8927, name: 'SIOCGIFHWADDR', arg: 'ifreq', why: 'interface hardware address' },
  { req: 0x8933, name: 'SIOCGIFINDEX', arg: 'ifreq', why: 'interface index of a name (if_nametoindex)' },
];

const ioctlByReq = new Map(HOST_IOCTLS.map((i) => [i.req, i]));

/** hostIoctlRow returns the allowlist row of an ioctl request, if any. */
export function hostIoctlRow(req: number): HostIoctl | undefined {
  return ioctlByReq.get(req);
}
