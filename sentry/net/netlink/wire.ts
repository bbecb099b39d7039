/**
 * Netlink's wire format (netlink(7), rtnetlink(7)): message headers, attributes, and the
 * NLMSG_ERROR/NLMSG_DONE control messages. Everything is little-endian host order.
 *
 *   struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid; }   16 bytes
 *   struct nlattr   { u16 len; u16 type; }  then the payload, padded to 4 bytes
 *
 * Decoders never throw on what a peer sends: a message or attribute whose length lies is
 * where a walk stops, as Linux's netlink_rcv_skb and nla_for_each_attr stop.
 */

export const AF_NETLINK = 16;
export const NETLINK_ROUTE = 0, NETLINK_KOBJECT_UEVENT = 15;
/** SOL_NETLINK is the setsockopt level of the NETLINK_* options. */
export const SOL_NETLINK = 270;

export const NLMSG_HDRLEN = 16;
export const NLMSG_NOOP = 1, NLMSG_ERROR = 2, NLMSG_DONE = 3, NLMSG_MIN_TYPE = 0x10;
export const NLM_F_REQUEST = 0x1, NLM_F_MULTI = 0x2, NLM_F_ACK = 0x4, NLM_F_ROOT = 0x100, NLM_F_MATCH = 0x200,
  NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH, NLM_F_CAPPED = 0x100, NLM_F_ACK_TLVS = 0x200;

/** The rtnetlink message types this sentry knows (linux/rtnetlink.h); RTM_BASE is 16. */
export const RTM_NEWLINK = 16, RTM_GETLINK = 18, RTM_NEWADDR = 20, RTM_GETADDR = 22, RTM_NEWROUTE = 24,
  RTM_GETROUTE = 26, RTM_NEWNEIGH = 28, RTM_GETNEIGH = 30;
/** RTM_MAX is the highest rtnetlink message type Linux 6.x defines; above it is EOPNOTSUPP. */
export const RTM_MAX = 123;

/** align4 rounds a length up to netlink's 4-byte alignment (NLMSG_ALIGN, NLA_ALIGN). */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Header is a decoded struct nlmsghdr. */
export interface Header { len: number; type: number; flags: number; seq: number; pid: number }

/** Message is one whole netlink message: its header and its payload (after the header). */
export interface Message extends Header { body: Buffer }

/**
 * splitMessages walks the messages in `buf` as Linux's netlink_rcv_skb does: it stops at
 * the first header shorter than NLMSG_HDRLEN or longer than what is left, and steps by the
 * aligned length (the last message may omit its padding).
 */
export function splitMessages(buf: Buffer): Message[] {
  const out: Message[] = [];
  let off = 0;
  while (buf.length - off >= NLMSG_HDRLEN) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || len > buf.length - off) break;
    out.push({
      len, type: buf.readUInt16LE(off + 4), flags: buf.readUInt16LE(off + 6), seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12), body: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += Math.min(align4(len), buf.length - off);
  }
  return out;
}

/** encodeMessage lays out one message (header plus body), padded to 4 bytes. */
export function encodeMessage(type: number, flags: number, seq: number, pid: number, body: Buffer): Buffer {
  const len = NLMSG_HDRLEN + body.length;
  const b = Buffer.alloc(align4(len));
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq >>> 0, 8);
  b.writeUInt32LE(pid >>> 0, 12);
  body.copy(b, NLMSG_HDRLEN);
  return b;
}

/** Attr is one attribute: its type (flags masked off) and payload. */
export interface Attr { type: number; nested: boolean; data: Buffer }

const NLA_F_NESTED = 0x8000, NLA_TYPE_MASK = 0x3fff;

/** parseAttrs decodes the attributes in `buf`, stopping at the first one whose length lies. */
export function parseAttrs(buf: Buffer): Attr[] {
  const out: Attr[] = [];
  let off = 0;
  while (buf.length - off >= 4) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || len > buf.length - off) break;
    const t = buf.readUInt16LE(off + 2);
    out.push({ type: t & NLA_TYPE_MASK, nested: (t & NLA_F_NESTED) !== 0, data: buf.subarray(off + 4, off + len) });
    off += align4(len);
  }
  return out;
}

/** encodeAttr lays out one attribute, padded to 4 bytes. */
export function encodeAttr(type: number, data: Buffer): Buffer {
  const b = Buffer.alloc(align4(4 + data.length));
  b.writeUInt16LE(4 + data.length, 0);
  b.writeUInt16LE(type, 2);
  data.copy(b, 4);
  return b;
}

/** u32 encodes a 32-bit attribute payload. */
export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

/**
 * errorMessage builds an NLMSG_ERROR answer to `req` (an ack when errno is 0): the
 * negative errno, then the request's header and, for an error without `capAck`, its
 * whole payload (Linux's netlink_ack; NLM_F_CAPPED when the payload is left out), then
 * for a socket with NETLINK_EXT_ACK an error's message (NLMSGERR_ATTR_MSG, NLM_F_ACK_TLVS).
 */
export function errorMessage(req: Message, errno: number, pid: number, capAck: boolean, extMsg: string | null = null): Buffer {
  const capped = errno === 0 || capAck;
  const echo = Buffer.alloc(NLMSG_HDRLEN);
  echo.writeUInt32LE(req.len, 0);
  echo.writeUInt16LE(req.type, 4);
  echo.writeUInt16LE(req.flags, 6);
  echo.writeUInt32LE(req.seq, 8);
  echo.writeUInt32LE(req.pid, 12);
  const code = Buffer.alloc(4);
  code.writeInt32LE(-errno);
  const tlvs = extMsg !== null && errno !== 0 ? [encodeAttr(1 /* NLMSGERR_ATTR_MSG */, Buffer.from(`${extMsg}\0`, 'latin1'))] : [];
  // The echoed payload keeps its padding, so that the attributes after it are aligned.
  const payload = capped ? [] : [req.body, Buffer.alloc(align4(req.body.length) - req.body.length)];
  const body = Buffer.concat([code, echo, ...payload, ...tlvs]);
  return encodeMessage(NLMSG_ERROR, (capped ? NLM_F_CAPPED : 0) | (tlvs.length ? NLM_F_ACK_TLVS : 0), req.seq, pid, body);
}

/** doneMessage builds the NLMSG_DONE that ends a dump (its payload: the int 0). */
export function doneMessage(seq: number, pid: number): Buffer {
  return encodeMessage(NLMSG_DONE, NLM_F_MULTI, seq, pid, Buffer.alloc(4));
}

/** sockaddrNl lays out struct sockaddr_nl { u16 family; u16 pad; u32 pid; u32 groups; }. */
export function sockaddrNl(pid: number, groups: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16LE(AF_NETLINK, 0);
  b.writeUInt32LE(pid >>> 0, 4);
  b.writeUInt32LE(groups >>> 0, 8);
  return b;
}
