/**
 * The sentry's own NETLINK_ROUTE socket on the host, through which it asks the host
 * kernel for the state of the sandbox's network namespace (links, addresses, routes,
 * neighbours). The sentry runs in that namespace (runtime/sandbox/netns.ts), so one
 * socket opened at start-up, before confinement, answers for it for the sandbox's whole
 * life: each question is asked when the application asks (a prestart hook configures
 * the namespace after the sentry starts), never cached.
 *
 * Only read requests (RTM_GET*) are ever sent, built here from a type and a family; no
 * byte of the application's reaches the host. Replies are read with MSG_DONTWAIT: Linux
 * queues a dump's first part during the send and each next part during the receive that
 * takes the one before, so a reply is always there and the sentry never waits on the host.
 * Once confined, the sentry uses only send (sendto) and recvmsg on it, both already in its
 * allowlist; the socket itself is made before the seccomp filter goes on.
 */
import { libcFunc, lastErrno } from '../../../native/libc';
import { MsgBuffers } from '../../../native/unixsock';
import {
  AF_NETLINK, encodeMessage, NETLINK_ROUTE, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, parseAttrs,
  SOL_NETLINK, splitMessages, type Message,
} from './wire';

const SOCK_RAW = 3, SOCK_CLOEXEC = 0o2000000, MSG_DONTWAIT = 0x40, NETLINK_CAP_ACK = 10, NETLINK_EXT_ACK = 11;

/** HostQuery asks the namespace's kernel a read-only rtnetlink question (a fake in unit tests). */
export interface HostQuery {
  /** dump returns the messages of a dump of `type` for `family`, or -errno. */
  dump(type: number, family: number): Message[] | number;
  /** get sends one GET without NLM_F_DUMP whose body the caller built, and returns the replies or the refusal. */
  get(type: number, body: Buffer): Message[] | Refusal;
}

/** Refusal is the kernel's NLMSG_ERROR: the errno and its extended-ack message, if any (NLMSGERR_ATTR_MSG). */
export interface Refusal { errno: number; msg: string | null }

let fd = -1;
let openErrno = 0;
/** attempted: the open was tried (once confined, a second try would be a refused socket(2): SIGSYS). */
let attempted = false;
let seq = 1;
let bufs: MsgBuffers | null = null;

/**
 * openHostRoute opens the sentry's host NETLINK_ROUTE socket; called once at start-up,
 * before confinement (a failure is kept and answered as that errno later, never retried).
 */
export function openHostRoute(): void {
  if (attempted) return;
  attempted = true;
  // SAFETY: socket(2) with constant arguments; the descriptor is the sentry's own, close-on-exec.
  const r = libcFunc('int socket(int domain, int type, int protocol)')(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (r < 0) { openErrno = lastErrno(); return; }
  fd = r;
  bufs = new MsgBuffers(64 << 10);
  // Extended acks carry the kernel's error messages (ip(8) prints them); CAP_ACK leaves the
  // request's payload out of error replies. Best effort: without them, errors come bare.
  const setsockopt = libcFunc('int setsockopt(int fd, int level, int name, void *value, uint32 len)');
  // SAFETY: setsockopt of a 4-byte int Buffer, length 4, on our own socket.
  for (const opt of [NETLINK_EXT_ACK, NETLINK_CAP_ACK]) setsockopt(fd, SOL_NETLINK, opt, Buffer.from([1, 0, 0, 0]), 4);
}

/** MAX_DUMP_BYTES bounds what one host dump may bring in (a namespace with a huge table). */
const MAX_DUMP_BYTES = 8 << 20;

/** hostRoute is the HostQuery of the real namespace. */
export const hostRoute: HostQuery = {
  dump(type: number, family: number): Message[] | number {
    // Every GET request starts with its family byte, in its fixed header (zeroed).
    const body = Buffer.alloc(type === 18 || type === 22 || type === 26 || type === 30 ? bodyLen(type) : 4);
    body.writeUInt8(family, 0);
    const r = ask(type, NLM_F_REQUEST | NLM_F_DUMP, body);
    return Array.isArray(r) ? r : -r.errno;
  },
  get(type: number, body: Buffer): Message[] | Refusal {
    // NLM_F_ACK: the kernel's ack after the reply ends the answer as NLMSG_DONE ends a dump.
    return ask(type, NLM_F_REQUEST | NLM_F_ACK, body);
  },
};

const NLM_F_ACK_TLVS = 0x200, NLMSGERR_ATTR_MSG = 1, MAX_EXT_MSG = 200;

/**
 * refusal decodes an NLMSG_ERROR's payload: int error, the request's header (the socket
 * has NETLINK_CAP_ACK: no request payload), then with NLM_F_ACK_TLVS the extended-ack
 * attributes, of which only the message is kept (printable text, bounded).
 */
function refusal(m: Message): Refusal {
  const errno = m.body.length >= 4 ? -m.body.readInt32LE(0) : 5;
  let msg: string | null = null;
  if (m.flags & NLM_F_ACK_TLVS && m.body.length > 20) {
    const a = parseAttrs(m.body.subarray(20)).find((x) => x.type === NLMSGERR_ATTR_MSG);
    const end = a ? a.data.indexOf(0) : -1;
    const text = a ? a.data.subarray(0, end < 0 ? a.data.length : end).toString('latin1') : '';
    if (text && text.length <= MAX_EXT_MSG && /^[\x20-\x7e]+$/.test(text)) msg = text;
  }
  return { errno, msg };
}

/** ask sends one request built here and collects the replies until NLMSG_DONE or NLMSG_ERROR. */
function ask(type: number, flags: number, body: Buffer): Message[] | Refusal {
  openHostRoute(); // a no-op after the first call: in the sentry, main() made it before confinement
  if (fd < 0) return { errno: openErrno || 97 /* EAFNOSUPPORT */, msg: null };
  const mySeq = seq++ >>> 0;
  const req = encodeMessage(type, flags, mySeq, 0, body);
  // SAFETY: send(2) of a Buffer of req.length bytes on the sentry's own netlink socket.
  const sent = Number(libcFunc('intptr send(int fd, void *buf, size_t len, int flags)')(fd, req, req.length, 0));
  if (sent < 0) return { errno: lastErrno(), msg: null };
  const out: Message[] = [];
  let total = 0;
  for (;;) {
    const n = bufs!.recv(fd, 0, bufs!.data.length, MSG_DONTWAIT);
    if (n < 0) return { errno: -n, msg: null };
    if (n === 0) return { errno: 5 /* EIO */, msg: null };
    total += n;
    for (const m of splitMessages(Buffer.from(bufs!.data.subarray(0, n)))) {
      if (m.seq !== mySeq) continue; // a reply to an earlier question that gave up
      if (m.type === NLMSG_DONE) return out;
      if (m.type === NLMSG_ERROR) {
        const r = refusal(m);
        return r.errno === 0 ? out : r;
      }
      out.push(m);
    }
    if (total > MAX_DUMP_BYTES) { drain(); return { errno: 105 /* ENOBUFS */, msg: null }; }
  }
}

/** bodyLen is the fixed header of each GET request (ifinfomsg 16, ifaddrmsg 8, rtmsg 12, ndmsg 12). */
function bodyLen(type: number): number {
  return type === 18 ? 16 : type === 22 ? 8 : 12;
}

/** drain discards what is left of an abandoned dump. */
function drain(): void {
  while (bufs!.recv(fd, 0, bufs!.data.length, MSG_DONTWAIT) > 0) { /* discard */ }
}
