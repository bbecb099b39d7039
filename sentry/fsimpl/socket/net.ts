/**
 * The sandbox's socket namespace: bound AF_UNIX names (abstract names and filesystem
 * sockets, the latter keyed by the socket inode's device and inode numbers) and the
 * loopback TCP and UDP port tables. One Net per sentry kernel (one sandbox).
 */
import { Errno, fail } from '../../kernel/errors';
import { EADDRNOTAVAIL, ENETUNREACH, Socket, AF_INET, AF_INET6, SOCK_STREAM } from './socket';

/** Net is one sandbox's namespace of socket names. */
export class Net {
  readonly abstract = new Map<string, Socket>();
  readonly paths = new Map<string, Socket>();
  readonly ports = { tcp: new Map<number, Socket[]>(), udp: new Map<number, Socket[]>() };
  private nextEphemeral = 32768 + Math.floor(Math.random() * 28000);

  /** bindName registers a unix socket under key in `table`. */
  bindName(table: Map<string, Socket>, key: string, s: Socket): void {
    if (table.has(key)) fail(Errno.EADDRINUSE);
    table.set(key, s);
    s.unbind = () => { if (table.get(key) === s) table.delete(key); };
  }

  /** bindInet binds s to ip:port (port 0: an ephemeral port). */
  bindInet(s: Socket, ip: Buffer, port: number): void {
    const table = s.type === SOCK_STREAM ? this.ports.tcp : this.ports.udp;
    if (!isLocal(ip)) fail(EADDRNOTAVAIL);
    const v6only = s.family === AF_INET6 && (s.opts.get('41:26')?.readInt32LE(0) ?? 0) !== 0;
    const conflicts = (p: number) => (table.get(p) ?? []).some((o) => {
      if (!o.inet || o.closed) return false;
      if (!overlap(s, ip, v6only, o)) return false;
      const reuseport = opt(s, '1:15') && opt(o, '1:15');
      const reuseaddr = opt(s, '1:2') && opt(o, '1:2') && o.state !== 'listening';
      return !(reuseport || reuseaddr);
    });
    if (port === 0) {
      for (let i = 0; i < 28232; i++) {
        const p = 32768 + ((this.nextEphemeral++ - 32768) % 28232);
        if (!(table.get(p) ?? []).some((o) => !o.closed)) { port = p; break; }
      }
      if (port === 0) fail(Errno.EADDRINUSE);
    } else if (conflicts(port)) fail(Errno.EADDRINUSE);
    s.inet = { ip, port, v6only };
    const list = table.get(port) ?? [];
    list.push(s);
    table.set(port, list);
    s.unbind = () => {
      const l = (table.get(port) ?? []).filter((o) => o !== s);
      if (l.length) table.set(port, l); else table.delete(port);
    };
  }

  /** findInet returns the socket bound at ip:port that accepts traffic from `from`'s family. */
  findInet(type: number, ip: Buffer, port: number, wantListening: boolean): Socket | null {
    const table = type === SOCK_STREAM ? this.ports.tcp : this.ports.udp;
    if (!isLocal(ip) && !isAny(ip)) fail(ENETUNREACH);
    const v4 = isMapped(ip);
    let best: Socket | null = null;
    for (const o of table.get(port) ?? []) {
      if (o.closed || !o.inet) continue;
      if (wantListening && o.state !== 'listening') continue;
      if (v4 && o.family === AF_INET6 && (o.inet.v6only || !isAny(o.inet.ip))) {
        if (!o.inet.ip.equals(ip)) continue;
      }
      if (!v4 && o.family === AF_INET) continue;
      if (!isAny(o.inet.ip) && !o.inet.ip.equals(ip) && !(isAny(ip))) continue;
      if (!best || (!isAny(o.inet.ip) && isAny(best.inet!.ip))) best = o;
    }
    return best;
  }
}

function opt(s: Socket, key: string): boolean {
  return (s.opts.get(key)?.readInt32LE(0) ?? 0) !== 0;
}

function overlap(s: Socket, ip: Buffer, v6only: boolean, o: Socket): boolean {
  const oi = o.inet!;
  const sV4 = s.family === AF_INET, oV4 = o.family === AF_INET;
  // A v6-only socket never overlaps an IPv4 one.
  if (sV4 !== oV4) {
    const six = sV4 ? { ip: oi.ip, only: oi.v6only } : { ip, only: v6only };
    const four = sV4 ? ip : oi.ip;
    if (six.only) return false;
    return isAny(six.ip) || six.ip.equals(four);
  }
  return isAny(ip) || isAny(oi.ip) || ip.equals(oi.ip);
}

const MAPPED = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

/** mapped4 stores an IPv4 address as IPv4-mapped IPv6 (::ffff:a.b.c.d). */
export function mapped4(a: Buffer): Buffer {
  return Buffer.concat([MAPPED, a]);
}

export function isMapped(ip: Buffer): boolean {
  return ip.subarray(0, 12).equals(MAPPED);
}

/** isAny: 0.0.0.0 or ::. */
export function isAny(ip: Buffer): boolean {
  return ip.every((b) => b === 0) || (isMapped(ip) && ip.readUInt32BE(12) === 0);
}

/** isLocal: an address of the loopback-only sandbox network (127/8, ::1, or any). */
export function isLocal(ip: Buffer): boolean {
  if (isAny(ip)) return true;
  if (isMapped(ip)) return ip[12] === 127;
  return ip.subarray(0, 15).every((b) => b === 0) && ip[15] === 1;
}

/** encodeInet lays out sockaddr_in (family AF_INET) or sockaddr_in6 for ip:port. */
export function encodeInet(family: number, ip: Buffer, port: number): Buffer {
  if (family === AF_INET) {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(port, 2);
    ip.copy(b, 4, 12, 16);
    return b;
  }
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  ip.copy(b, 8);
  return b;
}

const nets = new WeakMap<object, Net>();

/** netOf returns the namespace of a kernel (one per sandbox). */
export function netOf(kernel: object): Net {
  let n = nets.get(kernel);
  if (!n) nets.set(kernel, (n = new Net()));
  return n;
}
