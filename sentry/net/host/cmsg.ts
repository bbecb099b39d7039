/**
 * Ancillary data (cmsg) of the host-network provider's sockets: which control messages
 * pass between the application and its host socket, each way, and why. Nothing here
 * carries a descriptor or a credential: SCM_RIGHTS and SCM_CREDENTIALS on inet sockets
 * are ignored, as Linux's inet sockets ignore them (the descriptors are not even looked
 * up); a message that is neither listed nor ignored is EINVAL on send, and dropped on
 * receive (the host only produces what the application's allowed options asked for).
 *
 * Layout (x86-64): struct cmsghdr { u64 cmsg_len; i32 cmsg_level; i32 cmsg_type; } then
 * the data; each message starts 8-byte aligned; cmsg_len counts the header and the data.
 */
import { Errno, fail } from '../../kernel/errors';
import { IPPROTO_IP, IPPROTO_IPV6, SOL_SOCKET } from '../../../native/net/host-options';

/** CmsgRow is one control message type the provider passes. */
export interface CmsgRow {
  level: number;
  type: number;
  /** recv: the host may give it to the application; send: the application may give it to the host. */
  dir: 'recv' | 'both';
  why: string;
}

/** IP_TOS, IP_TTL, IP_PKTINFO; IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS (in.h, in6.h). */
export const IP_TOS = 1, IP_TTL = 2, IP_PKTINFO = 8, IPV6_PKTINFO = 50, IPV6_HOPLIMIT = 52, IPV6_TCLASS = 67;

/** CMSGS is the allowlist, after the options that ask for them (native/net/host-options.ts). */
export const CMSGS: readonly CmsgRow[] = [
  { level: IPPROTO_IP, type: IP_PKTINFO, dir: 'both', why: 'a datagram\'s destination address and interface (IP_PKTINFO); on send, the source address and interface within the sandbox\'s namespace: UDP servers bound to 0.0.0.0 (DNS) answer from the address asked' },
  { level: IPPROTO_IP, type: IP_TTL, dir: 'both', why: 'a datagram\'s TTL (IP_RECVTTL); on send, this datagram\'s TTL' },
  { level: IPPROTO_IP, type: IP_TOS, dir: 'both', why: 'a datagram\'s TOS byte (IP_RECVTOS); on send, this datagram\'s TOS' },
  { level: IPPROTO_IPV6, type: IPV6_PKTINFO, dir: 'both', why: 'as IP_PKTINFO, for IPv6 (IPV6_RECVPKTINFO)' },
  { level: IPPROTO_IPV6, type: IPV6_HOPLIMIT, dir: 'both', why: 'a datagram\'s hop limit (IPV6_RECVHOPLIMIT); on send, this datagram\'s' },
  { level: IPPROTO_IPV6, type: IPV6_TCLASS, dir: 'both', why: 'a datagram\'s traffic class (IPV6_RECVTCLASS); on send, this datagram\'s' },
];

const SCM_RIGHTS = 1, SCM_CREDENTIALS = 2, HDR = 16;

const allowed = (level: number, type: number, send: boolean): boolean =>
  CMSGS.some((r) => r.level === level && r.type === type && (!send || r.dir === 'both'));

/** Cmsg is one parsed control message. */
export interface Cmsg {
  level: number;
  type: number;
  data: Buffer;
}

/**
 * parseCmsgs walks control bytes; a malformed message (a length shorter than the header
 * or past the end) throws EINVAL, as sendmsg(2) answers. Bytes after the last whole
 * message (fewer than a header) are ignored, as Linux's CMSG_NXTHDR ignores them.
 */
export function parseCmsgs(c: Buffer): Cmsg[] {
  const out: Cmsg[] = [];
  let off = 0;
  while (off + HDR <= c.length) {
    const len = Number(c.readBigUInt64LE(off));
    if (len < HDR || off + len > c.length) fail(Errno.EINVAL);
    out.push({ level: c.readInt32LE(off + 8), type: c.readInt32LE(off + 12), data: c.subarray(off + HDR, off + len) });
    off += (len + 7) & ~7;
  }
  return out;
}

/** buildCmsgs lays messages out as the kernel does (each padded to 8 bytes but the last). */
export function buildCmsgs(msgs: Cmsg[]): Buffer {
  const parts: Buffer[] = [];
  msgs.forEach((m, i) => {
    const len = HDR + m.data.length;
    const b = Buffer.alloc(i === msgs.length - 1 ? len : (len + 7) & ~7);
    b.writeBigUInt64LE(BigInt(len), 0);
    b.writeInt32LE(m.level, 8);
    b.writeInt32LE(m.type, 12);
    m.data.copy(b, HDR);
    parts.push(b);
  });
  return Buffer.concat(parts);
}

/**
 * sendControl vets a send's ancillary data: the listed messages, to pass to the host
 * (null when none); SCM_RIGHTS and SCM_CREDENTIALS are dropped; anything else EINVAL.
 */
export function sendControl(c: Buffer): Buffer | null {
  const pass: Cmsg[] = [];
  for (const m of parseCmsgs(c)) {
    if (m.level === SOL_SOCKET && (m.type === SCM_RIGHTS || m.type === SCM_CREDENTIALS)) continue;
    if (!allowed(m.level, m.type, true)) fail(Errno.EINVAL);
    pass.push(m);
  }
  return pass.length > 0 ? buildCmsgs(pass) : null;
}

/**
 * recvControl returns the host's ancillary data for the application with any message
 * outside the list removed (none is expected: the host only gives what allowed options
 * asked for). A last message the host cut short (MSG_CTRUNC) is kept as the host cut it.
 */
export function recvControl(c: Buffer): Buffer {
  const keep: Array<[number, number]> = [];
  let off = 0, all = true;
  while (off + HDR <= c.length) {
    const len = Number(c.readBigUInt64LE(off));
    if (len < HDR) break;
    const end = Math.min(off + len, c.length);
    if (allowed(c.readInt32LE(off + 8), c.readInt32LE(off + 12), false)) keep.push([off, end]);
    else all = false;
    off += (len + 7) & ~7;
  }
  if (all) return Buffer.from(c);
  // Each kept message with its padding (the kernel's layout), the last one as far as the bytes go.
  return Buffer.concat(keep.map(([a, b]) => c.subarray(a, Math.min((b + 7) & ~7, c.length))));
}
