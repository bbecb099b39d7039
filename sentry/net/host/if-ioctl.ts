/**
 * The interface ioctls (SIOCGIFNAME, SIOCGIFINDEX, SIOCGIFFLAGS, SIOCGIFCONF, ... : the
 * 'ifreq' and 'ifconf' rows of native/net/host-options.ts, all read-only) answered for a
 * socket of any family, as Linux answers them on any socket of a namespace: glibc's
 * if_nametoindex and if_indextoname ask them on an AF_UNIX socket first. The answer comes
 * from the host socket given, or from one datagram socket of the sentry's own namespace
 * (the sandbox's), opened on first use and kept: the same namespace netlink shows.
 */
import { Errno, fail } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { hostIoctlRow } from '../../../native/net/host-options';
import { hostIfconf, hostIoctl, hostSocket } from './calls';

const AF_INET = 2, SOCK_DGRAM = 2, IPPROTO_UDP = 17;
let querySocket = -1;

/** queryFd is the sentry's own host socket for interface queries (opened on first use). */
function queryFd(): number {
  if (querySocket < 0) {
    const fd = hostSocket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    if (fd < 0) fail(-fd);
    querySocket = fd;
  }
  return querySocket;
}

/**
 * interfaceIoctl runs an interface ioctl for the application on host socket `fd` (or on the
 * sentry's query socket when fd is omitted): 0 when done, null when `cmd` is not one of
 * them (the caller answers it), or it fails with the host's errno.
 */
export function interfaceIoctl(t: Task, cmd: number, arg: bigint, fd?: number): number | null {
  const row = hostIoctlRow(cmd);
  if (!row || row.arg === 'int-out') return null;
  const sock = fd ?? queryFd();
  if (row.arg === 'ifconf') return ifconf(t, arg, sock);
  const req = t.mm.read(arg, 40);
  const r = hostIoctl(sock, cmd, req);
  if (r < 0) fail(-r);
  t.mm.write(arg, req);
  return 0;
}

/**
 * ifconf is SIOCGIFCONF: struct ifconf is { int ifc_len; (4 bytes of padding); char *ifc_buf }.
 * The host fills a sentry buffer of at most 64 KiB (1638 interfaces), copied out to ifc_buf;
 * a null ifc_buf asks for the length needed, as on Linux.
 */
function ifconf(t: Task, arg: bigint, fd: number): number {
  const hdr = t.mm.read(arg, 16);
  const len = hdr.readInt32LE(0), ptr = hdr.readBigUInt64LE(8);
  if (ptr !== 0n && len < 0) fail(Errno.EINVAL);
  const buf = ptr === 0n ? null : Buffer.alloc(Math.min(len, 64 << 10));
  const n = hostIfconf(fd, buf);
  if (n < 0) fail(-n);
  if (buf && n > 0) t.mm.write(ptr, buf.subarray(0, n));
  const out = Buffer.alloc(4);
  out.writeInt32LE(n);
  t.mm.write(arg, out);
  return 0;
}
