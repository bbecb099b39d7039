/**
 * The sandbox's exec socket serves a request however it arrives after the connection:
 * at once (the usual client), long after Node has accepted the connection (past the
 * server's first looks for it: its periodic poll then takes it), or split across two
 * writes (the descriptors with the second). Each request runs `true` and is answered with its pid, then exit status 0, as
 * `tvisor exec` sees it (runtime/sandbox/sentry-exec.ts is the usual client).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, OciRuntime } from './harness';
import { closeFd, connectUnix, MsgBuffers } from '../../native/unixsock';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** request runs `true` through the exec socket, sending the request in `parts` after `delays`; it returns the reply lines. */
async function request(sock: string, delays: number[]): Promise<Record<string, unknown>[]> {
  const fd = connectUnix(sock);
  try {
    const line = Buffer.from(`${JSON.stringify({ process: { args: ['/bin/true'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } } })}\n`);
    const msg = new MsgBuffers(4096);
    const cut = delays.length > 1 ? Math.floor(line.length / 2) : line.length;
    const parts = delays.length > 1 ? [line.subarray(0, cut), line.subarray(cut)] : [line];
    for (const [i, part] of parts.entries()) {
      await sleep(delays[i]);
      // The descriptors travel with the part that ends the line (the server takes them with the line they arrive in).
      expect(msg.send(fd, part, part.length, i === parts.length - 1 ? [0, 1, 2] : [])).toBe(part.length);
    }
    let text = '';
    while (!text.includes('"exit"') && !text.includes('"error"')) {
      const n = msg.recv(fd);
      for (const f of msg.fds) closeFd(f);
      if (n <= 0) break;
      text += msg.data.toString('utf8', 0, n);
    }
    return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } finally {
    closeFd(fd);
  }
}

describe('exec socket', () => {
  if (process.getuid?.() !== 0 || !fs.existsSync(BUSYBOX) || !fs.existsSync(TVISOR)) {
    test('prerequisites', () => {
      throw new Error(`needs root, ${BUSYBOX} (busybox-static) and ${TVISOR} (make build)`);
    });
    return;
  }
  let rt: OciRuntime;
  const id = `exec-socket-${process.pid}`;
  beforeAll(() => {
    rt = new OciRuntime('tvisor', TVISOR);
    expect(rt.run('create', '--bundle', rt.bundle('b', ['sleep', '100']), id).status).toBe(0);
    expect(rt.run('start', id).status).toBe(0);
  });
  afterAll(() => {
    rt.run('delete', '--force', id);
    rt.cleanup();
  });

  test.each([
    ['at once', [0]],
    ['after the server has stopped looking for it (its poll takes it)', [150]],
    ['split in two writes, the second late', [0, 100]],
  ])('a request sent %s runs and reports exit 0', async (_what, delays) => {
    const replies = await request(path.join(rt.root, id, 'sandbox.sock.exec'), delays as number[]);
    expect(replies.map((r) => Object.keys(r)[0])).toEqual(['pid', 'exit']);
    expect(replies[1].exit).toBe(0);
  });
});
