/**
 * The namespace's interfaces as plain values, read from one live RTM_GETLINK dump
 * (./host-route.ts): what /sys/class/net and /proc/net show of each. Only the attributes used are
 * decoded, each checked for its size; a malformed message is skipped.
 */
import type { HostQuery } from './host-route';
import { parseAttrs, RTM_GETLINK, type Message } from './wire';

/** LinkInfo is one interface: its ifinfomsg header and the IFLA_* values the kernel gave (null: absent). */
export interface LinkInfo {
  index: number;
  /** type is ifi_type, the ARPHRD_* hardware type. */
  type: number;
  /** flags is ifi_flags as netlink reports them (dev_get_flags: with IFF_RUNNING, LOWER_UP, DORMANT). */
  flags: number;
  name: string;
  address: Buffer | null;
  broadcast: Buffer | null;
  mtu: number | null;
  /** link is IFLA_LINK, the index of the device this one sits on (sent only when not its own index). */
  link: number | null;
  txqlen: number | null;
  operstate: number | null;
  linkmode: number | null;
  group: number | null;
  promiscuity: number | null;
  carrier: number | null;
  carrierChanges: number | null;
  carrierUp: number | null;
  carrierDown: number | null;
  /** stats is IFLA_STATS64, the 23 counters of rtnl_link_stats64 (null when absent or short). */
  stats: bigint[] | null;
}

/** cstr reads a NUL-terminated name (an attribute, a sockaddr_un path). */
export function cstr(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('latin1');
}

/** parseLink decodes one RTM_NEWLINK message, or null when it is malformed or nameless. */
export function parseLink(m: Message): LinkInfo | null {
  if (m.body.length < 16) return null;
  const l: LinkInfo = {
    index: m.body.readInt32LE(4), type: m.body.readUInt16LE(2), flags: m.body.readUInt32LE(8), name: '',
    address: null, broadcast: null, mtu: null, link: null, txqlen: null, operstate: null, linkmode: null, group: null,
    promiscuity: null, carrier: null, carrierChanges: null, carrierUp: null, carrierDown: null, stats: null,
  };
  const u32 = (d: Buffer): number | null => (d.length === 4 ? d.readUInt32LE(0) : null);
  const u8 = (d: Buffer): number | null => (d.length === 1 ? d[0] : null);
  for (const a of parseAttrs(m.body.subarray(16))) {
    switch (a.type) {
      case 1: if (a.data.length <= 32) l.address = Buffer.from(a.data); break; // IFLA_ADDRESS
      case 2: if (a.data.length <= 32) l.broadcast = Buffer.from(a.data); break; // IFLA_BROADCAST
      case 3: l.name = cstr(a.data); break; // IFLA_IFNAME
      case 4: l.mtu = u32(a.data); break; // IFLA_MTU
      case 5: l.link = u32(a.data); break; // IFLA_LINK
      case 13: l.txqlen = u32(a.data); break; // IFLA_TXQLEN
      case 16: l.operstate = u8(a.data); break; // IFLA_OPERSTATE
      case 23: if (a.data.length >= 23 * 8) l.stats = Array.from({ length: 23 }, (_, i) => a.data.readBigUInt64LE(i * 8)); break; // IFLA_STATS64
      case 17: l.linkmode = u8(a.data); break; // IFLA_LINKMODE
      case 27: l.group = u32(a.data); break; // IFLA_GROUP
      case 30: l.promiscuity = u32(a.data); break; // IFLA_PROMISCUITY
      case 33: l.carrier = u8(a.data); break; // IFLA_CARRIER
      case 35: l.carrierChanges = u32(a.data); break; // IFLA_CARRIER_CHANGES
      case 47: l.carrierUp = u32(a.data); break; // IFLA_CARRIER_UP_COUNT
      case 48: l.carrierDown = u32(a.data); break; // IFLA_CARRIER_DOWN_COUNT
      default: break;
    }
  }
  // A name that could not be a directory entry is not shown (Linux's dev_valid_name).
  if (l.name === '' || l.name === '.' || l.name === '..' || /[/\s:]/.test(l.name) || l.name.length > 15) return null;
  return l;
}

/** hostLinks lists the namespace's interfaces in the dump's order, or returns -errno. */
export function hostLinks(host: HostQuery): LinkInfo[] | number {
  const got = host.dump(RTM_GETLINK, 0);
  if (typeof got === 'number') return got;
  const out: LinkInfo[] = [];
  for (const m of got) {
    if (m.type !== RTM_GETLINK - 2) continue;
    const l = parseLink(m);
    if (l) out.push(l);
  }
  return out;
}
