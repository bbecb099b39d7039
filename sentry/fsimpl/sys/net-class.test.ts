/**
 * /sys/class/net and /sys/devices/virtual/net (net-class.ts) against a fake namespace
 * (HostQuery): the entries follow the live link dump at each lookup, each file's value
 * comes from the link's attributes in net-sysfs.c's format, absent attributes give no
 * file, and loopback's fixed values stand in when the namespace cannot be asked.
 */
import type { HostQuery } from '../../net/netlink/host-route';
import { encodeAttr, encodeMessage, NLM_F_MULTI, RTM_NEWLINK, splitMessages, u32, type Message } from '../../net/netlink/wire';
import type { Inode } from '../../vfs/inode';
import { ProcDir, ProcFile, ProcLink } from '../proc/nodes';
import { newSysfs } from './sys';

/** link builds a host RTM_NEWLINK: index, ARPHRD type, ifi_flags, name and attributes. */
function link(index: number, type: number, flags: number, name: string, attrs: Buffer[]): Message {
  const ifi = Buffer.alloc(16);
  ifi.writeUInt16LE(type, 2);
  ifi.writeInt32LE(index, 4);
  ifi.writeUInt32LE(flags, 8);
  return splitMessages(encodeMessage(RTM_NEWLINK, NLM_F_MULTI, 1, 0, Buffer.concat([ifi, encodeAttr(3, Buffer.from(`${name}\0`)), ...attrs])))[0];
}

const u8 = (v: number): Buffer => Buffer.from([v]);
const MAC = Buffer.from([2, 0, 0, 0x77, 0, 0xab]);
const BCAST = Buffer.alloc(6, 0xff);

/** veth0 is up with carrier, its peer at index 2; veth9 is down (IFF_BROADCAST|IFF_MULTICAST only). */
const VETH0 = link(3, 1, 0x11043, 'veth0', [encodeAttr(1, MAC), encodeAttr(2, BCAST), encodeAttr(4, u32(1500)), encodeAttr(5, u32(2)),
  encodeAttr(13, u32(1000)), encodeAttr(16, u8(6)), encodeAttr(17, u8(0)), encodeAttr(27, u32(0)), encodeAttr(30, u32(0)),
  encodeAttr(33, u8(1)), encodeAttr(35, u32(2))]);
const VETH9 = link(9, 1, 0x1002, 'veth9', [encodeAttr(1, MAC), encodeAttr(4, u32(9000)), encodeAttr(16, u8(2)), encodeAttr(33, u8(0))]);

function walk(root: Inode, path: string): Inode {
  let i = root;
  for (const c of path.split('/').filter(Boolean)) i = (i as ProcDir).lookup(c);
  return i;
}

const names = (d: Inode): string[] => (d as ProcDir).readdir().map((e) => e.name);
const text = (root: Inode, path: string): string => String((walk(root, path) as ProcFile).generate());

test('class/net follows the namespace: an interface added later appears, each a link to devices/virtual/net', () => {
  let links: Message[] = [VETH0];
  const host: HostQuery = { dump: () => links, get: () => ({ errno: 22, msg: null }) };
  const root = newSysfs(host).root as ProcDir;
  expect(names(walk(root, 'class/net'))).toEqual(['veth0']);
  links = [VETH0, VETH9];
  expect(names(walk(root, 'class/net'))).toEqual(['veth0', 'veth9']);
  expect(names(walk(root, 'devices/virtual/net'))).toEqual(['veth0', 'veth9']);
  expect((walk(root, 'class/net/veth9') as ProcLink).target()).toBe('../../devices/virtual/net/veth9');
  expect((walk(root, 'devices/virtual/net/veth9/subsystem') as ProcLink).target()).toBe('../../../../class/net');
});

test("an interface's files in net-sysfs.c's formats; dev->flags without netlink's operational bits", () => {
  const host: HostQuery = { dump: () => [VETH0, VETH9], get: () => ({ errno: 22, msg: null }) };
  const root = newSysfs(host).root as ProcDir;
  const d = 'devices/virtual/net/veth0/';
  expect(Object.fromEntries(names(walk(root, d)).filter((n) => n !== 'subsystem').map((n) => [n, text(root, d + n)]))).toEqual({
    addr_len: '6\n', address: '02:00:00:77:00:ab\n', broadcast: 'ff:ff:ff:ff:ff:ff\n', flags: '0x1003\n', ifindex: '3\n',
    iflink: '2\n', type: '1\n', uevent: 'INTERFACE=veth0\nIFINDEX=3\n', mtu: '1500\n', tx_queue_len: '1000\n', operstate: 'up\n',
    link_mode: '0\n', netdev_group: '0\n', carrier: '1\n', dormant: '0\n', carrier_changes: '2\n',
  });
});

test('a down interface: carrier and dormant fail EINVAL as on Linux; attributes netlink omits give no file', () => {
  const host: HostQuery = { dump: () => [VETH9], get: () => ({ errno: 22, msg: null }) };
  const root = newSysfs(host).root as ProcDir;
  const d = 'devices/virtual/net/veth9/';
  expect(text(root, d + 'flags')).toBe('0x1002\n');
  expect(text(root, d + 'operstate')).toBe('down\n');
  expect(text(root, d + 'iflink')).toBe('9\n');
  expect(text(root, d + 'broadcast')).toBe('\n');
  expect(() => text(root, d + 'carrier')).toThrow(expect.objectContaining({ errno: 22 }));
  expect(() => text(root, d + 'dormant')).toThrow(expect.objectContaining({ errno: 22 }));
  expect(() => walk(root, d + 'tx_queue_len')).toThrow(expect.objectContaining({ errno: 2 }));
});

test('no netlink socket: loopback alone, with its fixed values', () => {
  const host: HostQuery = { dump: () => -97, get: () => ({ errno: 97, msg: null }) };
  const root = newSysfs(host).root as ProcDir;
  expect(names(walk(root, 'class/net'))).toEqual(['lo']);
  expect(text(root, 'devices/virtual/net/lo/type')).toBe('772\n');
  expect(text(root, 'devices/virtual/net/lo/flags')).toBe('0x9\n');
});
