/**
 * console-socket.ts hands a container's pty master to the caller of `create
 * --console-socket`: connect to that AF_UNIX stream socket and send exactly one message
 * carrying the name of the terminal as data and the master fd as one SCM_RIGHTS control
 * message. That is runc's protocol, which go-runc's ReceiveMaster checks strictly (one
 * control message of CMSG_SPACE(sizeof(int)) = 24 bytes holding one fd): native/unixsock's
 * MsgBuffers.send lays out exactly that for one descriptor.
 */
import { HostError } from './libc';
import { closeFd, connectUnix, MsgBuffers } from './unixsock';

/**
 * sendConsoleFd connects to `socketPath` and sends the pty master `fd` with the terminal
 * name (runc sends the path it opened, e.g. /dev/pts/ptmx) in one message, then closes.
 */
export function sendConsoleFd(socketPath: string, fd: number, name = '/dev/ptmx'): void {
  let sock: number;
  try {
    sock = connectUnix(socketPath);
  } catch (e) {
    const detail = e instanceof HostError ? `connect: ${e.message.split(': ').pop()}` : (e as Error).message;
    throw new Error(`cannot connect to console socket ${socketPath}: ${detail}`);
  }
  try {
    const data = Buffer.from(name, 'utf8');
    const n = new MsgBuffers(16).send(sock, data, data.length, [fd]);
    if (n < 0) throw new HostError('sendmsg', -n);
    if (n !== data.length) throw new Error(`console socket: short send (${n} of ${data.length} bytes)`);
  } finally {
    closeFd(sock);
  }
}
