/**
 * /proc/net: the network as the sandbox sees it, in Linux's formats.
 *  - dev, if_inet6, route: the namespace's interfaces, addresses and IPv4 routes, asked
 *    live through the sentry's netlink socket (net/netlink/host-route.ts);
 *  - snmp, netstat: the namespace's protocol counters (net/netlink/host-proc-net.ts);
 *  - tcp, tcp6, udp, udp6, unix: the sandbox's own sockets of every provider (in-sentry,
 *    host), found in its processes' descriptor tables, each as its provider describes it
 *    (SocketFile.procEntry), with the sandbox's inode numbers and the effective uid of the
 *    task that made it.
 * As Linux's, /proc/net is a link to self/net: each process's net directory shows the one
 * namespace of the sandbox.
 */
import type { Kernel } from '../../kernel/kernel';
import type { Inode } from '../../vfs/inode';
import { hostRoute, type HostQuery } from '../../net/netlink/host-route';
import { hostNetFile } from '../../net/netlink/host-proc-net';
import { cstr, hostLinks, type LinkInfo } from '../../net/netlink/host-links';
import { parseAttrs, RTM_GETADDR, RTM_GETROUTE, type Message } from '../../net/netlink/wire';
import { type ProcEntry, SocketFile } from '../../net/provider';
import { AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM, SOCK_STREAM } from '../socket/socket';
import { ProcDir, ProcFile, type ProcFs } from './nodes';

/** links lists the namespace's interfaces in Linux's order (the dump's); none when it cannot be asked. */
function links(host: HostQuery): LinkInfo[] {
  const got = hostLinks(host);
  return typeof got === 'number' ? [] : got;
}

const DEV_HEADER = 'Inter-|   Receive                                                |  Transmit\n'
  + ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';

/** devText is /proc/net/dev (net/core/net-procfs.c's dev_seq_printf_stats over rtnl_link_stats64). */
export function devText(host: HostQuery = hostRoute): string {
  return DEV_HEADER + links(host).map((l) => {
    const s = l.stats ?? Array<bigint>(23).fill(0n);
    // rtnl_link_stats64: rx_packets 0, tx_packets 1, rx_bytes 2, tx_bytes 3, rx_errors 4, tx_errors 5,
    // rx_dropped 6, tx_dropped 7, multicast 8, collisions 9, rx_length_errors 10, rx_over_errors 11,
    // rx_crc_errors 12, rx_frame_errors 13, rx_fifo_errors 14, rx_missed_errors 15, tx_aborted 16,
    // tx_carrier 17, tx_fifo 18, tx_heartbeat 19, tx_window 20, rx_compressed 21, tx_compressed 22.
    const cols: [bigint, number][] = [
      [s[2], 7], [s[0], 7], [s[4], 4], [s[6] + s[15], 4], [s[14], 4], [s[10] + s[11] + s[12] + s[13], 5], [s[21], 10], [s[8], 9],
      [s[3], 8], [s[1], 7], [s[5], 4], [s[7], 4], [s[18], 4], [s[9], 5], [s[17] + s[16] + s[20] + s[19], 7], [s[22], 10],
    ];
    return `${l.name.padStart(6)}: ${cols.map(([v, w]) => String(v).padStart(w)).join(' ')}\n`;
  }).join('');
}

/** SCOPE6 maps an rtnetlink scope to the IPv6 scope bits /proc/net/if_inet6 shows (host, link, site). */
const SCOPE6 = new Map([[254, 0x10], [253, 0x20], [200, 0x40]]);

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** ifInet6Text is /proc/net/if_inet6: address, index, prefix length, scope, flags, name. */
export function ifInet6Text(host: HostQuery = hostRoute): string {
  const got = host.dump(RTM_GETADDR, AF_INET6);
  if (typeof got === 'number') return '';
  const names = new Map(links(host).map((l) => [l.index, l.name]));
  return got.filter((m) => m.body.length >= 8 && m.body[0] === AF_INET6).map((m) => {
    const attrs = parseAttrs(m.body.subarray(8));
    const addr = attrs.find((a) => a.type === 1 && a.data.length === 16)?.data;
    if (!addr) return '';
    const flags = attrs.find((a) => a.type === 8 && a.data.length === 4)?.data.readUInt32LE(0) ?? m.body[2];
    const index = m.body.readUInt32LE(4);
    return `${addr.toString('hex')} ${hex2(index)} ${hex2(m.body[1])} ${hex2(SCOPE6.get(m.body[3]) ?? 0)} ${hex2(flags & 0xff)} ${(names.get(index) ?? '').padStart(8)}\n`;
  }).join('');
}

/** pad pads a line to `width` columns, as the kernel's seq_pad does for /proc/net/route, tcp and udp. */
function pad(line: string, width: number): string {
  return `${line.padEnd(width)}\n`;
}

const hex8 = (n: number) => (n >>> 0).toString(16).toUpperCase().padStart(8, '0');
/** be32 reads 4 address bytes as the kernel prints a __be32 with %08X (host order of the raw word). */
const be32 = (b: Buffer | undefined) => (b && b.length >= 4 ? b.readUInt32LE(0) : 0);

/** routeText is /proc/net/route: the main table's IPv4 routes (fib_route_seq_show). */
export function routeText(host: HostQuery = hostRoute): string {
  const head = pad('Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT', 127);
  const got = host.dump(RTM_GETROUTE, AF_INET);
  if (typeof got === 'number') return head;
  const names = new Map(links(host).map((l) => [l.index, l.name]));
  return head + got.filter((m: Message) => m.body.length >= 12 && m.body[0] === AF_INET).map((m) => {
    const attrs = parseAttrs(m.body.subarray(12));
    const get = (t: number) => attrs.find((a) => a.type === t)?.data;
    const table = get(15)?.readUInt32LE(0) ?? m.body[4];
    const type = m.body[7];
    if (table !== 254 || type === 3 /* BROADCAST */ || type === 5 /* MULTICAST */) return '';
    const len = m.body[1];
    const mask = len === 0 ? 0 : Buffer.from([0, 0, 0, 0].map((_, i) => (0xff << Math.max(0, Math.min(8, 8 - (len - 8 * i)))) & 0xff)).readUInt32LE(0);
    const gw = get(5);
    let flags = 0x1; // RTF_UP
    if (type === 7 || type === 8) flags |= 0x200; // RTF_REJECT
    if (gw && be32(gw) !== 0) flags |= 0x2; // RTF_GATEWAY
    if (len === 32) flags |= 0x4; // RTF_HOST
    const metrics = new Map(parseAttrs(get(8) ?? Buffer.alloc(0)).filter((a) => a.data.length === 4).map((a) => [a.type, a.data.readUInt32LE(0)]));
    const advmss = metrics.get(8) ?? 0;
    const oif = get(4)?.readUInt32LE(0);
    const name = oif !== undefined ? names.get(oif) ?? '*' : '*';
    return pad([name, hex8(be32(get(1))), hex8(be32(gw)), flags.toString(16).toUpperCase().padStart(4, '0'), '0', '0',
      String(get(6)?.readUInt32LE(0) ?? 0), hex8(mask), String(advmss ? advmss + 40 : 0), String(metrics.get(3) ?? 0),
      String((metrics.get(4) ?? 0) >>> 3)].join('\t'), 127);
  }).join('');
}

/** OpenSocket is a sandbox socket and what /proc/net shows of it. */
interface OpenSocket { s: SocketFile; e: ProcEntry }

/** openSockets lists the sandbox's open sockets that /proc/net shows, once each, in descriptor-table order. */
function openSockets(k: Kernel): OpenSocket[] {
  const seen = new Set<SocketFile>();
  const out: OpenSocket[] = [];
  for (const t of k.tasks.values()) {
    for (const [, f] of t.fds.entries()) {
      if (!(f instanceof SocketFile) || seen.has(f)) continue;
      seen.add(f);
      const e = f.procEntry();
      if (e) out.push({ s: f, e });
    }
  }
  return out;
}

/** inetAddr prints an address:port as /proc/net/tcp and tcp6 do (each 32-bit word %08X in host order). */
function inetAddr(ip: Buffer | null, port: number, six: boolean): string {
  const b = ip ?? Buffer.alloc(16);
  const words = six ? [0, 4, 8, 12] : [12];
  return `${words.map((o) => hex8(b.readUInt32LE(o))).join('')}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** inetEnd decodes a sockaddr_in or sockaddr_in6 to a 16-byte (v4-mapped) address and a port; none: [null, 0]. */
function inetEnd(a: Buffer | null): [Buffer | null, number] {
  if (!a || a.length < 8) return [null, 0];
  const fam = a.readUInt16LE(0), port = a.readUInt16BE(2);
  if (fam === AF_INET) return [Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), a.subarray(4, 8)]), port];
  if (fam === AF_INET6 && a.length >= 24) return [Buffer.from(a.subarray(8, 24)), port];
  return [null, 0];
}

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const UDP_HEADER = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops';
/** V6_HEADER starts tcp6 and udp6 (udp6 adds its last three columns); their lines are not padded. */
const V6_HEADER = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';

/** inetText is /proc/net/tcp, tcp6, udp or udp6: the sandbox's sockets of that protocol and family. */
export function inetText(k: Kernel, proto: 'tcp' | 'udp', family: number): string {
  const tcp = proto === 'tcp';
  const six = family === AF_INET6;
  const lines = openSockets(k).filter(({ s }) => s.family === family && s.type === (tcp ? SOCK_STREAM : SOCK_DGRAM)
    && s.protocol === (tcp ? 6 : 17)).map(({ s, e }, i) => {
    const [lip, lport] = inetEnd(e.local), [rip, rport] = inetEnd(e.remote);
    const head = `${String(i).padStart(tcp ? 4 : 5)}: ${inetAddr(lip, lport, six)} ${inetAddr(rip, rport, six)} ${hex2(e.state).toUpperCase()} ${hex8(e.txQueue)}:${hex8(e.rxQueue)} 00:00000000 00000000 ${String(s.uid).padStart(5)} ${'0'.padStart(8)} ${s.ino}`;
    const line = tcp ? `${head} 1 0000000000000000 100 0 0 10 ${e.state === 10 ? 0 : -1}` : `${head} 2 0000000000000000 0`;
    return six ? `${line}\n` : pad(line, tcp ? 149 : 127);
  });
  const header = six ? `${V6_HEADER}${tcp ? '' : ' ref pointer drops'}\n` : tcp ? pad(TCP_HEADER, 149) : pad(UDP_HEADER, 127);
  return header + lines.join('');
}

/** unixText is /proc/net/unix (unix_seq_show): flags __SO_ACCEPTCON for a listener, the state, the name. */
export function unixText(k: Kernel): string {
  const lines = openSockets(k).filter(({ s }) => s.family === AF_UNIX).map(({ s, e }) => {
    const listening = e.state === 10;
    const st = e.state === 1 ? 3 /* SS_CONNECTED */ : 1 /* SS_UNCONNECTED */;
    let name = '';
    if (e.local && e.local.length > 2) {
      name = e.local[2] === 0 ? `@${e.local.subarray(3).toString('latin1')}` : cstr(e.local.subarray(2));
    }
    return `0000000000000000: 00000002 00000000 ${hex8(listening ? 0x10000 : 0)} ${s.type.toString(16).toUpperCase().padStart(4, '0')} ${hex2(st).toUpperCase()} ${String(s.ino).padStart(5)}${name ? ` ${name}` : ''}\n`;
  });
  return 'Num       RefCount Protocol Flags    Type St Inode Path\n' + lines.join('');
}

/** netDir builds a process's net directory at `at` (/proc/<pid>/net). */
export function netDir(pfs: ProcFs, k: Kernel, at: string): Inode {
  const files: [string, () => string][] = [
    ['dev', () => devText()], ['if_inet6', () => ifInet6Text()], ['route', () => routeText()],
    ['snmp', () => hostNetFile('snmp')], ['netstat', () => hostNetFile('netstat')],
    ['tcp', () => inetText(k, 'tcp', AF_INET)], ['tcp6', () => inetText(k, 'tcp', AF_INET6)],
    ['udp', () => inetText(k, 'udp', AF_INET)], ['udp6', () => inetText(k, 'udp', AF_INET6)], ['unix', () => unixText(k)],
  ];
  return new ProcDir(pfs, at, () => new Map(files.map(([name, text]) => [name, () => new ProcFile(pfs, `${at}/${name}`, text)])));
}
