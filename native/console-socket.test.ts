import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import koffi from 'koffi';
import { check, libcFunc } from './libc';
import { closeFd, pinned } from './unixsock';
import { sendConsoleFd } from './console-socket';

/** CMSG_SPACE_INT is CMSG_SPACE(sizeof(int)), what go-runc requires of the control data. */
const CMSG_SPACE_INT = 24;

/** sockaddrUn encodes a struct sockaddr_un (this receiver is written apart from the sender on purpose). */
function sockaddrUn(p: string): Buffer {
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(1, 0);
  Buffer.from(p).copy(addr, 2);
  return addr;
}

/** msghdr lays out a struct msghdr over pinned buffers (they must stay referenced during the call). */
function msghdr(data: Buffer, control: Buffer): { msg: Buffer; keep: Buffer[] } {
  const iov = pinned(16);
  iov.writeBigUInt64LE(koffi.address(data), 0);
  iov.writeBigUInt64LE(BigInt(data.length), 8);
  const msg = pinned(56);
  msg.writeBigUInt64LE(koffi.address(iov), 16);
  msg.writeBigUInt64LE(1n, 24);
  msg.writeBigUInt64LE(koffi.address(control), 32);
  msg.writeBigUInt64LE(BigInt(control.length), 40);
  return { msg, keep: [data, control, iov] };
}

/** listenUnix binds and listens on `p` the way go-runc's NewTempConsoleSocket does. */
function listenUnix(p: string): number {
  const fd = check('socket', libcFunc('int socket(int, int, int)')(1, 1, 0));
  const addr = sockaddrUn(p);
  check('bind', libcFunc('int bind(int, const void *, uint32_t)')(fd, addr, addr.length));
  check('listen', libcFunc('int listen(int, int)')(fd, 1));
  return fd;
}

/** receive accepts one connection and reads one message as go-runc's recvFd does. */
function receive(listener: number): { name: string; fds: number[]; controlLen: number; cmsgCount: number } {
  const conn = check('accept', libcFunc('int accept(int, void *, void *)')(listener, null, null));
  try {
    const data = pinned(4096);
    const control = pinned(CMSG_SPACE_INT * 2);
    const { msg, keep } = msghdr(data, control);
    const n = check('recvmsg', libcFunc('intptr_t recvmsg(int, void *, int)')(conn, msg, 0));
    const controlLen = Number(msg.readBigUInt64LE(40));
    const fds: number[] = [];
    let cmsgCount = 0;
    for (let off = 0; off + 16 <= controlLen;) {
      const len = Number(control.readBigUInt64LE(off));
      cmsgCount++;
      if (control.readInt32LE(off + 8) === 1 && control.readInt32LE(off + 12) === 1) {
        for (let p = off + 16; p + 4 <= off + len; p += 4) fds.push(control.readInt32LE(p));
      }
      off += (len + 7) & ~7;
    }
    void keep;
    return { name: data.subarray(0, n).toString('utf8'), fds, controlLen, cmsgCount };
  } finally {
    closeFd(conn);
  }
}

describe('sendConsoleFd', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-console-')); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  test('sends exactly one fd in one SCM_RIGHTS message that go-runc accepts', () => {
    const sockPath = path.join(dir, 'console.sock');
    const listener = listenUnix(sockPath);
    const file = path.join(dir, 'pty-stand-in');
    fs.writeFileSync(file, 'x');
    const fd = fs.openSync(file, 'r');
    try {
      // The connection waits in the listen backlog, so send completes before accept.
      sendConsoleFd(sockPath, fd, '/dev/pts/ptmx');
      const got = receive(listener);
      expect(got.name).toBe('/dev/pts/ptmx');
      expect(got.controlLen).toBe(CMSG_SPACE_INT); // go-runc: oobn must equal CmsgSpace(4)
      expect(got.cmsgCount).toBe(1);
      expect(got.fds).toHaveLength(1);
      expect(got.fds[0]).not.toBe(fd);
      expect(fs.fstatSync(got.fds[0]).ino).toBe(fs.fstatSync(fd).ino);
      fs.closeSync(got.fds[0]);
    } finally {
      fs.closeSync(fd);
      closeFd(listener);
    }
  });

  test('names the socket when nobody listens', () => {
    const sockPath = path.join(dir, 'absent.sock');
    expect(() => sendConsoleFd(sockPath, 0)).toThrow(`cannot connect to console socket ${sockPath}: connect: ENOENT`);
  });

  test('rejects a path too long for sockaddr_un', () => {
    expect(() => sendConsoleFd('/' + 'x'.repeat(200), 0)).toThrow(/at most 107/);
  });
});
