/**
 * console-socket.ts hands a container's pty master to the caller of `create
 * --console-socket`: connect to that AF_UNIX stream socket and send exactly one message
 * carrying the name of the terminal as data and the master fd as one SCM_RIGHTS control
 * message. That is runc's protocol, which go-runc's ReceiveMaster checks strictly (one
 * control message of CMSG_SPACE(sizeof(int)) bytes holding one fd).
 *
 * Node cannot send file descriptors over a Unix socket outside child IPC, so the socket
 * calls go through koffi (native/libc.ts); koffi is loaded when this module is first used.
 */
import { Errno, HostError, check, lastErrno, libcFunc } from '../../native/libc';
import koffi from 'koffi';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
/** SOCKADDR_UN_SIZE is sizeof(struct sockaddr_un): sa_family_t + 108 bytes of path. */
const SOCKADDR_UN_SIZE = 110;
/** CMSG_LEN_INT is CMSG_LEN(sizeof(int)) = 16 + 4; CMSG_SPACE_INT rounds it up to 24. */
const CMSG_LEN_INT = 20;
export const CMSG_SPACE_INT = 24;

/** sockaddrUn encodes a struct sockaddr_un for `path` (a pathname socket, NUL-terminated). */
export function sockaddrUn(path: string): Buffer {
  const bytes = Buffer.from(path, 'utf8');
  if (bytes.length === 0 || bytes.length > SOCKADDR_UN_SIZE - 3) {
    throw new Error(`console socket path "${path}" must be 1 to ${SOCKADDR_UN_SIZE - 3} bytes long`);
  }
  const addr = Buffer.alloc(SOCKADDR_UN_SIZE);
  addr.writeUInt16LE(AF_UNIX, 0);
  bytes.copy(addr, 2);
  return addr;
}

/**
 * msghdr lays out a struct msghdr (x86-64: 56 bytes) for one data buffer and one control
 * buffer. The returned buffers must stay referenced until the call using them returns.
 */
export function msghdr(data: Buffer, control: Buffer): { msg: Buffer; keep: Buffer[] } {
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(koffi.address(data), 0); // iov_base
  iov.writeBigUInt64LE(BigInt(data.length), 8); // iov_len
  const msg = Buffer.alloc(56);
  // msg_name (0) = NULL, msg_namelen (8) = 0: connected socket.
  msg.writeBigUInt64LE(koffi.address(iov), 16); // msg_iov
  msg.writeBigUInt64LE(1n, 24); // msg_iovlen
  msg.writeBigUInt64LE(koffi.address(control), 32); // msg_control
  msg.writeBigUInt64LE(BigInt(control.length), 40); // msg_controllen
  // msg_flags (48) = 0
  return { msg, keep: [data, control, iov] };
}

/** connectUnix returns a connected AF_UNIX stream socket fd (close-on-exec). */
export function connectUnix(path: string): number {
  const addr = sockaddrUn(path);
  // SAFETY: plain integer arguments; the returned fd is checked.
  const fd = check('socket', libcFunc('int socket(int domain, int type, int protocol)')(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  // SAFETY: addr is a Buffer of exactly SOCKADDR_UN_SIZE bytes, the length passed.
  if ((libcFunc('int connect(int fd, const void *addr, uint32_t len)')(fd, addr, addr.length) as number) < 0) {
    const errno = lastErrno();
    closeFd(fd);
    throw new Error(`cannot connect to console socket ${path}: ${new HostError('connect', errno).message}`);
  }
  return fd;
}

/** closeFd closes a descriptor opened through koffi. */
export function closeFd(fd: number): void {
  // SAFETY: fd is owned by the caller and not used after this call.
  libcFunc('int close(int fd)')(fd);
}

/** sendFd sends `data` with `fd` attached as a single SCM_RIGHTS message on socket `sock`. */
export function sendFd(sock: number, fd: number, data: Buffer): void {
  const control = Buffer.alloc(CMSG_SPACE_INT);
  control.writeBigUInt64LE(BigInt(CMSG_LEN_INT), 0); // cmsg_len
  control.writeInt32LE(SOL_SOCKET, 8); // cmsg_level
  control.writeInt32LE(SCM_RIGHTS, 12); // cmsg_type
  control.writeInt32LE(fd, 16); // the one fd
  const { msg, keep } = msghdr(data, control);
  for (;;) {
    // SAFETY: msg is a 56-byte struct msghdr whose pointers address `keep`, alive until return.
    const n = Number(libcFunc('intptr_t sendmsg(int fd, const void *msg, int flags)')(sock, msg, 0));
    if (n >= 0) {
      if (n !== data.length) throw new Error(`console socket: short send (${n} of ${data.length} bytes)`);
      break;
    }
    if (lastErrno() !== Errno.EINTR) throw new HostError('sendmsg', lastErrno());
  }
  void keep;
}

/**
 * sendConsoleFd connects to `socketPath` and sends the pty master `fd` with the terminal
 * name (runc sends the path it opened, e.g. /dev/pts/ptmx) in one message, then closes.
 */
export function sendConsoleFd(socketPath: string, fd: number, name = '/dev/ptmx'): void {
  const sock = connectUnix(socketPath);
  try {
    sendFd(sock, fd, Buffer.from(name, 'utf8'));
  } finally {
    closeFd(sock);
  }
}
