/**
 * loopbackUp sets `lo` up in the calling thread's network namespace, as runc does for a
 * container given a new network namespace (its "loopback" network strategy): the runtime
 * calls it right after making the sandbox's new, empty namespace, so that the sandbox's
 * netlink and /proc/net show `lo` UP with 127.0.0.1 and ::1 as under runc.
 *
 * One RTM_NEWLINK (index 1, IFF_UP in ifi_change and ifi_flags) with NLM_F_ACK on a
 * netlink socket made for it; the answer is read (blocking: the kernel answers within
 * the send) and the socket closed. Throws with the errno when the kernel refuses.
 */
import { check, HostError, libcFunc } from '../../../native/libc';
import { AF_NETLINK, encodeMessage, NETLINK_ROUTE, NLM_F_ACK, NLM_F_REQUEST, NLMSG_ERROR, RTM_NEWLINK, splitMessages } from './wire';

const SOCK_RAW = 3, SOCK_CLOEXEC = 0o2000000, IFF_UP = 0x1, LOOPBACK_INDEX = 1;

/** loopbackUp sets lo up (see the module comment). */
export function loopbackUp(): void {
  const fd = check('socket(AF_NETLINK)', libcFunc('int socket(int domain, int type, int protocol)')(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  try {
    // struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change; }
    const ifi = Buffer.alloc(16);
    ifi.writeInt32LE(LOOPBACK_INDEX, 4);
    ifi.writeUInt32LE(IFF_UP, 8);
    ifi.writeUInt32LE(IFF_UP, 12);
    const req = encodeMessage(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 1, 0, ifi);
    // SAFETY: send/recv of Buffers whose lengths are passed with them, on our own socket.
    check('send RTM_NEWLINK', libcFunc('intptr send(int fd, void *buf, size_t len, int flags)')(fd, req, req.length, 0));
    const buf = Buffer.alloc(4096);
    const n = check('recv RTM_NEWLINK ack', libcFunc('intptr recv(int fd, _Out_ void *buf, size_t len, int flags)')(fd, buf, buf.length, 0));
    const ack = splitMessages(buf.subarray(0, n)).find((m) => m.type === NLMSG_ERROR && m.seq === 1);
    const err = ack && ack.body.length >= 4 ? -ack.body.readInt32LE(0) : 5 /* EIO */;
    if (err !== 0) throw new HostError('RTM_NEWLINK lo up', err);
  } finally {
    libcFunc('int close(int fd)')(fd);
  }
}
