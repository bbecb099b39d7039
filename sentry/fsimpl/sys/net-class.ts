/**
 * /sys/class/net and /sys/devices/virtual/net: the interfaces of the sandbox's network
 * namespace, asked of its kernel through the sentry's netlink socket each time a
 * directory is listed or looked up (an interface a prestart hook adds after boot
 * appears), with the files of Linux's net-sysfs.c whose values netlink gives: address,
 * addr_len, broadcast, carrier, carrier_changes, carrier_up_count, carrier_down_count,
 * dormant, flags, ifindex, iflink, link_mode, mtu, netdev_group, operstate, tx_queue_len,
 * type, uevent. Files netlink says nothing of (speed, duplex, dev_id, name_assign_type,
 * statistics/, queues/...) are absent.
 *
 * Every interface is shown under devices/virtual/net: the sandbox describes no host
 * device, so a physical NIC (host network) is not placed under its PCI path as on Linux.
 * When the namespace cannot be asked (no netlink socket), only `lo` is shown, with
 * loopback's fixed values.
 */
import { Errno, fail } from '../../kernel/errors';
import { hostLinks, type LinkInfo } from '../../net/netlink/host-links';
import type { HostQuery } from '../../net/netlink/host-route';
import type { Tree } from './sys';

const IFF_UP = 0x1, IFF_PROMISC = 0x100, IFF_RUNNING = 0x40, IFF_LOWER_UP = 0x10000, IFF_DORMANT = 0x20000;

/** OPERSTATES are RFC 2863's names, in IF_OPER_* order (net-sysfs.c's operstates[]). */
const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'];

/** STATIC_LO is loopback as a fresh namespace has it up, for when the namespace cannot be asked. */
const STATIC_LO: Tree = {
  address: '00:00:00:00:00:00', addr_len: '6', broadcast: '00:00:00:00:00:00', flags: '0x9', ifindex: '1', iflink: '1',
  mtu: '65536', operstate: 'unknown', type: '772', tx_queue_len: '1000', uevent: 'INTERFACE=lo\nIFINDEX=1',
};

/** mac is sysfs_format_mac: the bytes in lower-case hex joined by colons (empty for none). */
function mac(b: Buffer | null): string {
  return b ? [...b].map((x) => x.toString(16).padStart(2, '0')).join(':') : '';
}

/** hexFlags is C's "%#x". */
function hexFlags(n: number): string {
  return n === 0 ? '0' : `0x${n.toString(16)}`;
}

/** whenRunning is a value Linux shows only while the interface is up (else the read fails EINVAL). */
function whenRunning(l: LinkInfo, v: () => string): () => string {
  return () => ((l.flags & IFF_UP) !== 0 ? v() : fail(Errno.EINVAL));
}

/** devFlags is dev->flags: netlink's dev_get_flags adds the operational bits (RUNNING,
 * LOWER_UP, DORMANT) and the user's promiscuity request; the device's own PROMISC bit is
 * set while its promiscuity count is not 0. */
function devFlags(l: LinkInfo): number {
  let f = l.flags & ~(IFF_RUNNING | IFF_LOWER_UP | IFF_DORMANT);
  if (l.promiscuity !== null) f = l.promiscuity > 0 ? f | IFF_PROMISC : f & ~IFF_PROMISC;
  return f >>> 0;
}

/** linkFiles is one interface's directory. */
export function linkFiles(l: LinkInfo): Tree {
  const t: Tree = {
    addr_len: String(l.address?.length ?? 0),
    address: mac(l.address),
    broadcast: mac(l.broadcast),
    flags: hexFlags(devFlags(l)),
    ifindex: String(l.index),
    // IFLA_LINK is sent only when it differs from the index (rtnl_fill_ifinfo).
    iflink: String(l.link ?? l.index),
    type: String(l.type),
    uevent: `INTERFACE=${l.name}\nIFINDEX=${l.index}`,
    subsystem: { link: '../../../../class/net' },
  };
  if (l.mtu !== null) t.mtu = String(l.mtu);
  if (l.txqlen !== null) t.tx_queue_len = String(l.txqlen);
  if (l.operstate !== null) t.operstate = OPERSTATES[l.operstate] ?? 'unknown';
  if (l.linkmode !== null) t.link_mode = String(l.linkmode);
  if (l.group !== null) t.netdev_group = String(l.group);
  if (l.carrier !== null) { const c = l.carrier; t.carrier = whenRunning(l, () => String(c ? 1 : 0)); }
  t.dormant = whenRunning(l, () => ((l.flags & IFF_DORMANT) !== 0 ? '1' : '0'));
  if (l.carrierChanges !== null) t.carrier_changes = String(l.carrierChanges);
  if (l.carrierUp !== null) t.carrier_up_count = String(l.carrierUp);
  if (l.carrierDown !== null) t.carrier_down_count = String(l.carrierDown);
  return t;
}

/** currentLinks asks the namespace, or gives the loopback alone when it cannot be asked. */
function currentLinks(host: HostQuery): Map<string, Tree> {
  const links = hostLinks(host);
  if (typeof links === 'number') return new Map([['lo', STATIC_LO]]);
  return new Map(links.map((l) => [l.name, linkFiles(l)]));
}

/** classNet is /sys/class/net: a link per interface to its device directory. */
export function classNet(host: HostQuery): Tree {
  return Object.fromEntries([...currentLinks(host).keys()].map((name) => [name, { link: `../../devices/virtual/net/${name}` }]));
}

/** virtualNet is /sys/devices/virtual/net: a directory per interface. */
export function virtualNet(host: HostQuery): Tree {
  return Object.fromEntries(currentLinks(host));
}
