/**
 * The contract of tvisor_net.node (native/net/reactor.cc), loaded by ./net-native.ts.
 * Every call is synchronous, on the main thread; numbers are a result >= 0 or -errno.
 */
export interface NetAddon {
  /** open creates the reactor's epoll fd and has libuv watch it; `onEvents` gets (fd, events) pairs. */
  open(onEvents: (pairs: Int32Array) => void): number;
  /** ctl is epoll_ctl(op, fd, {events, data.fd = fd}) on the reactor's fd. */
  ctl(op: number, fd: number, events: number): number;
  /** pollFd is poll(2) of one fd with timeout 0: its revents now (0 when none). */
  pollFd(fd: number, events: number): number;
  /** ifconf is SIOCGIFCONF on socket fd into buf (null: the length needed): ifc_len or -errno. */
  ifconf(fd: number, buf: Buffer | null): number;
  /**
   * recvPing is recvmsg(2) of one datagram of an IPv4 ping socket into buf: bytes or
   * -errno; the sender into `from` (128 bytes); into `meta` (16 bytes) the sender's length
   * (u32 at 0), ttl (4), tos (5), which of them came (6: 1 ttl, 2 tos, 4 destination), the
   * destination address as on the wire (8..11) and msg_flags (u32 at 12).
   */
  recvPing(fd: number, buf: Buffer, flags: number, from: Buffer, meta: Buffer): number;
}
