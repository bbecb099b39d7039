import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { check, libcFunc } from '../../native/libc';
import { CMSG_SPACE_INT, closeFd, msghdr, sendConsoleFd, sockaddrUn } from './console-socket';

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
    const data = Buffer.alloc(4096);
    const control = Buffer.alloc(CMSG_SPACE_INT * 2);
    const { msg } = msghdr(data, control);
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
    expect(() => sockaddrUn('/' + 'x'.repeat(200))).toThrow(/must be 1 to 107 bytes/);
  });
});
