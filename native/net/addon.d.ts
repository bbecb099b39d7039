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
   * recvMsg is recvmsg(2) of a host socket into buf: bytes or -errno; the sender into
   * `from` (128 bytes), ancillary data into `control` (empty: none asked); into `out` (12
   * bytes) the sender's length, the control length written and msg_flags, each a u32.
   */
  recvMsg(fd: number, buf: Buffer, flags: number, from: Buffer, control: Buffer, out: Buffer): number;
  /** sendMsg is sendmsg(2) of data to addr (null: the connected peer) with vetted ancillary data: bytes or -errno. */
  sendMsg(fd: number, data: Buffer, flags: number, addr: Buffer | null, control: Buffer): number;
}
