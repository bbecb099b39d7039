/**
 * NETLINK_ROUTE as the sandbox sees it: read-only rtnetlink (rtnetlink(7)). RTM_GETLINK,
 * RTM_GETADDR, RTM_GETROUTE and RTM_GETNEIGH are answered from the namespace's live state
 * (./host-route.ts); every other request is refused as Linux refuses it to a process
 * without CAP_NET_ADMIN (EPERM for RTM_NEW*, DEL*, SET*), or as unknown (EOPNOTSUPP).
 *
 * The host's answers are decoded and re-encoded: each object keeps its fixed header and
 * only the attributes listed in the tables below, each checked for its size; anything
 * else the host sends (nested per-family data, statistics blocks not listed, attributes
 * of later kernels) is left out.
 */
import { Errno } from '../../kernel/errors';
import type { HostQuery } from './host-route';
import {
  encodeAttr, encodeMessage, parseAttrs, u32, RTM_GETADDR, RTM_GETLINK, RTM_GETNEIGH, RTM_GETROUTE, RTM_MAX,
  type Message,
} from './wire';

/** AttrRule says how one attribute is copied: a fixed size, a bounded byte string or C string, or nested. */
type AttrRule = { size: number } | { max: number } | { str: number } | { nested: Map<number, AttrRule> };

const fixed = (size: number): AttrRule => ({ size });
const bytes = (max: number): AttrRule => ({ max });
const str = (max: number): AttrRule => ({ str: max });

/** LINK_INFO: inside IFLA_LINKINFO, only the kind ("veth", "dummy", "bridge"...). */
const LINK_INFO = new Map<number, AttrRule>([[1 /* IFLA_INFO_KIND */, str(32)]]);

/** LINK_ATTRS: the IFLA_* attributes passed on (linux/if_link.h). */
const LINK_ATTRS = new Map<number, AttrRule>([
  [1, bytes(32)] /* ADDRESS */, [2, bytes(32)] /* BROADCAST */, [3, str(16)] /* IFNAME */, [4, fixed(4)] /* MTU */,
  [5, fixed(4)] /* LINK */, [6, str(32)] /* QDISC */, [7, fixed(96)] /* STATS */, [10, fixed(4)] /* MASTER */,
  [13, fixed(4)] /* TXQLEN */, [16, fixed(1)] /* OPERSTATE */, [17, fixed(1)] /* LINKMODE */,
  [18, { nested: LINK_INFO }] /* LINKINFO */, [23, fixed(200)] /* STATS64 (Linux 6.x: 25 u64s) */,
  [27, fixed(4)] /* GROUP */, [30, fixed(4)] /* PROMISCUITY */, [31, fixed(4)] /* NUM_TX_QUEUES */,
  [32, fixed(4)] /* NUM_RX_QUEUES */, [33, fixed(1)] /* CARRIER */, [35, fixed(4)] /* CARRIER_CHANGES */,
  [37, fixed(4)] /* LINK_NETNSID */, [40, fixed(4)] /* GSO_MAX_SEGS */, [41, fixed(4)] /* GSO_MAX_SIZE */,
  [47, fixed(4)] /* CARRIER_UP_COUNT */, [48, fixed(4)] /* CARRIER_DOWN_COUNT */, [50, fixed(4)] /* MIN_MTU */,
  [51, fixed(4)] /* MAX_MTU */,
]);

/** ADDR_ATTRS: the IFA_* attributes passed on (linux/if_addr.h). */
const ADDR_ATTRS = new Map<number, AttrRule>([
  [1, bytes(16)] /* ADDRESS */, [2, bytes(16)] /* LOCAL */, [3, str(16)] /* LABEL */, [4, bytes(16)] /* BROADCAST */,
  [5, bytes(16)] /* ANYCAST */, [6, fixed(16)] /* CACHEINFO */, [8, fixed(4)] /* FLAGS */,
  [9, fixed(4)] /* RT_PRIORITY */, [11, fixed(1)] /* PROTO */,
]);

/** METRICS: inside RTA_METRICS, the RTAX_* values (each a u32; RTAX_CC_ALGO, 16, is a string). */
const METRICS = new Map<number, AttrRule>(
  Array.from({ length: 17 }, (_, i) => [i + 1, i + 1 === 16 ? str(16) : fixed(4)] as [number, AttrRule]),
);

/** ROUTE_ATTRS: the RTA_* attributes passed on (linux/rtnetlink.h); no multipath, no encapsulation. */
const ROUTE_ATTRS = new Map<number, AttrRule>([
  [1, bytes(16)] /* DST */, [2, bytes(16)] /* SRC */, [3, fixed(4)] /* IIF */, [4, fixed(4)] /* OIF */,
  [5, bytes(16)] /* GATEWAY */, [6, fixed(4)] /* PRIORITY */, [7, bytes(16)] /* PREFSRC */,
  [8, { nested: METRICS }] /* METRICS */, [11, fixed(4)] /* FLOW */, [12, fixed(32)] /* CACHEINFO */,
  [15, fixed(4)] /* TABLE */, [16, fixed(4)] /* MARK */, [20, fixed(1)] /* PREF */, [25, fixed(4)] /* UID */,
]);

/** NEIGH_ATTRS: the NDA_* attributes passed on (linux/neighbour.h). */
const NEIGH_ATTRS = new Map<number, AttrRule>([
  [1, bytes(16)] /* DST */, [2, bytes(32)] /* LLADDR */, [3, fixed(16)] /* CACHEINFO */, [4, fixed(4)] /* PROBES */,
]);

/** Kind describes one GET family: its fixed header's size and its attributes. */
interface Kind { header: number; attrs: Map<number, AttrRule> }

const KINDS = new Map<number, Kind>([
  [RTM_GETLINK, { header: 16, attrs: LINK_ATTRS }], // struct ifinfomsg
  [RTM_GETADDR, { header: 8, attrs: ADDR_ATTRS }], // struct ifaddrmsg
  [RTM_GETROUTE, { header: 12, attrs: ROUTE_ATTRS }], // struct rtmsg
  [RTM_GETNEIGH, { header: 12, attrs: NEIGH_ATTRS }], // struct ndmsg
]);

/** reencodeAttrs copies the listed attributes of `buf` that have the right shape. */
function reencodeAttrs(buf: Buffer, rules: Map<number, AttrRule>): Buffer[] {
  const out: Buffer[] = [];
  for (const a of parseAttrs(buf)) {
    const rule = rules.get(a.type);
    if (!rule) continue;
    if ('size' in rule) {
      // STATS64 grew over the years: take the common prefix of 23 counters when longer.
      if (a.data.length < rule.size && !(a.type === 23 && rules === LINK_ATTRS && a.data.length >= 184)) continue;
      out.push(encodeAttr(a.type, Buffer.from(a.data.subarray(0, Math.min(a.data.length, rule.size)))));
    } else if ('max' in rule) {
      if (a.data.length === 0 || a.data.length > rule.max) continue;
      out.push(encodeAttr(a.type, Buffer.from(a.data)));
    } else if ('str' in rule) {
      const end = a.data.indexOf(0);
      const s = a.data.subarray(0, end < 0 ? a.data.length : end);
      if (s.length >= rule.str) continue;
      out.push(encodeAttr(a.type, Buffer.concat([s, Buffer.alloc(1)])));
    } else {
      const inner = Buffer.concat(reencodeAttrs(a.data, rule.nested));
      out.push(encodeAttr(a.type | (a.nested ? 0x8000 : 0), inner));
    }
  }
  return out;
}

/** Obj is one re-encoded object: the reply's message type and its payload. */
export interface Obj { type: number; body: Buffer }

/** reencode returns the host's message as the sandbox receives it, or null when malformed. */
export function reencode(get: number, m: Message): Obj | null {
  const k = KINDS.get(get)!;
  if (m.type !== get - 2 || m.body.length < k.header) return null;
  const head = Buffer.from(m.body.subarray(0, k.header));
  return { type: m.type, body: Buffer.concat([head, ...reencodeAttrs(m.body.subarray(k.header), k.attrs)]) };
}

/** Answer is what one request gets: objects (a dump's, or one) or an errno (0: nothing but an ack if asked),
 * with the namespace kernel's extended-ack message when it gave one. */
export type Answer = { dump: boolean; objs: Obj[] } | { errno: number; msg?: string | null };

const AF_UNSPEC = 0, AF_INET = 2, AF_INET6 = 10, AF_PACKET = 17;

/** familyOf reads the request's family byte (rtgen_family, ifi_family, ifa_family...). */
function familyOf(m: Message): number {
  return m.body.length >= 1 ? m.body[0] : AF_UNSPEC;
}

/** ifNameAttr returns IFLA_IFNAME of a GETLINK request, if any. */
function ifNameAttr(m: Message): string | null {
  if (m.body.length < 16) return null;
  const a = parseAttrs(m.body.subarray(16)).find((x) => x.type === 3);
  if (!a) return null;
  const end = a.data.indexOf(0);
  return a.data.subarray(0, end < 0 ? a.data.length : end).toString('latin1');
}

/**
 * answer serves one rtnetlink request (Linux's rtnetlink_rcv_msg, for a caller without
 * CAP_NET_ADMIN): `dump` is NLM_F_DUMP set on a GET; `uid` is the caller's euid.
 */
export function answer(host: HostQuery, m: Message, dump: boolean, uid: number): Answer {
  if (m.type > RTM_MAX) return { errno: Errno.EOPNOTSUPP };
  // Every rtnetlink message carries at least its family byte; shorter ones are ignored.
  if (m.body.length < 1) return { errno: 0 };
  const kind = (m.type - 16) & 3; // 0 NEW, 1 DEL, 2 GET, 3 SET
  if (kind !== 2) return { errno: Errno.EPERM };
  const k = KINDS.get(m.type);
  if (!k) return { errno: Errno.EOPNOTSUPP };
  const family = familyOf(m);
  if (!dump) return getOne(host, m, family, uid);
  // A family without a dumper of its own falls back to the dump of all (rtnl_dump_all).
  const ask = m.type !== RTM_GETLINK && (family === AF_INET || family === AF_INET6) ? family : AF_UNSPEC;
  const got = host.dump(m.type, ask);
  if (typeof got === 'number') return { errno: -got };
  const objs: Obj[] = [];
  for (const h of got) {
    const o = reencode(m.type, h);
    if (!o) continue;
    // Only the IPv4 and IPv6 tables (not the multicast routing families 128/129).
    if (m.type !== RTM_GETLINK && o.body[0] !== AF_INET && o.body[0] !== AF_INET6) continue;
    objs.push(o);
  }
  return { dump: true, objs };
}

/**
 * GET_ATTRS: for each lookup the namespace answers (a GET without NLM_F_DUMP), the
 * attributes a request may carry: a route (`ip route get`: RTA_DST, SRC, IIF, OIF, MARK,
 * UID, IP_PROTO, SPORT, DPORT), an address (IFA_ADDRESS, LOCAL), a neighbour (NDA_DST).
 */
const GET_ATTRS = new Map<number, Map<number, AttrRule>>([
  [RTM_GETROUTE, new Map<number, AttrRule>([
    [1, bytes(16)], [2, bytes(16)], [3, fixed(4)], [4, fixed(4)], [16, fixed(4)], [25, fixed(4)], [27, fixed(1)],
    [28, fixed(2)], [29, fixed(2)],
  ])],
  [RTM_GETADDR, new Map<number, AttrRule>([[1, bytes(16)], [2, bytes(16)]])],
  [RTM_GETNEIGH, new Map<number, AttrRule>([[1, bytes(16)]])],
]);

/**
 * lookup serves a route, address or neighbour lookup: the request's fixed header and
 * listed attributes, re-encoded, asked of the namespace, whose kernel answers (or
 * refuses) as it would the application. A route lookup without RTA_UID (or RTA_IIF)
 * would be made for the sentry's own uid: the caller's, as the sandbox sees it, is added.
 */
function lookup(host: HostQuery, m: Message, family: number, uid: number): Answer {
  const k = KINDS.get(m.type)!;
  if ((family !== AF_INET && family !== AF_INET6) || m.body.length < k.header) return { errno: Errno.EINVAL };
  const attrs = reencodeAttrs(m.body.subarray(k.header), GET_ATTRS.get(m.type)!);
  const asked = parseAttrs(m.body.subarray(k.header)).map((a) => a.type);
  if (m.type === RTM_GETROUTE && !asked.includes(25) && !asked.includes(3)) attrs.push(encodeAttr(25 /* RTA_UID */, u32(uid)));
  const got = host.get(m.type, Buffer.concat([Buffer.from(m.body.subarray(0, k.header)), ...attrs]));
  if (!Array.isArray(got)) return got;
  return { dump: false, objs: got.map((h) => reencode(m.type, h)).filter((o): o is Obj => o !== null) };
}

/** getOne serves a GET without NLM_F_DUMP: one link by index or name here, the other lookups by the namespace. */
function getOne(host: HostQuery, m: Message, family: number, uid: number): Answer {
  if (m.type !== RTM_GETLINK) return lookup(host, m, family, uid);
  if (family !== AF_UNSPEC && family !== AF_PACKET && family !== AF_INET && family !== AF_INET6) {
    return { errno: Errno.EOPNOTSUPP };
  }
  const index = m.body.length >= 8 ? m.body.readInt32LE(4) : 0;
  const name = ifNameAttr(m);
  if (index === 0 && name === null) return { errno: Errno.EINVAL };
  const got = host.dump(RTM_GETLINK, AF_UNSPEC);
  if (typeof got === 'number') return { errno: -got };
  for (const h of got) {
    const o = reencode(RTM_GETLINK, h);
    if (!o) continue;
    const hIndex = o.body.readInt32LE(4);
    if (index !== 0 && hIndex !== index) continue;
    if (name !== null && ifNameAttr({ ...h, body: o.body }) !== name) continue;
    return { dump: false, objs: [o] };
  }
  return { errno: Errno.ENODEV };
}

/** objMessage lays out an object as a reply message to the requester (`pid`, `seq`). */
export function objMessage(o: Obj, flags: number, seq: number, pid: number): Buffer {
  return encodeMessage(o.type, flags, seq, pid, o.body);
}
