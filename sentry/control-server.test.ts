/**
 * The sandbox's control socket served through the reactor (control-server.ts), driven by
 * node:net clients as the runtime's own (runtime/sandbox/sentry-sandbox.ts control()):
 * several requests on one connection answered in order, an answer larger than the
 * socket's buffer sent whole (the write queue), a late answer still delivered after the
 * client has ended its side, and errors as one JSON line.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ControlServer, MAX_LINE, type ControlReply } from './control-server';
import { reactor } from './net/reactor';

/** talk sends `lines` on one connection (then ends its side when `end`) and resolves with `want` answer lines. */
function talk(sock: string, lines: string[], want: number, end = false): Promise<ControlReply[]> {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(sock);
    const chunks: Buffer[] = [];
    c.on('connect', () => {
      c.write(lines.map((l) => `${l}\n`).join(''));
      if (end) c.end();
    });
    c.on('data', (d) => {
      chunks.push(d);
      const text = Buffer.concat(chunks).toString('utf8');
      const got = text.split('\n').slice(0, -1);
      if (got.length >= want) {
        c.destroy();
        resolve(got.map((l) => JSON.parse(l) as ControlReply));
      }
    });
    c.on('error', reject);
    c.on('close', () => reject(new Error(`closed after ${Buffer.concat(chunks).length} bytes`)));
  });
}

describe('control server', () => {
  let dir: string;
  let server: ControlServer;
  let sock: string;
  let release: (() => void) | null = null;
  const big = 'p'.repeat(3 << 20); // larger than a Unix socket's send buffer

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `tvisor-control-${process.pid}-`));
    sock = path.join(dir, 'control.sock');
    server = new ControlServer(sock, (req) => {
      if (req.cmd === 'echo') return { ok: true, n: req.n };
      if (req.cmd === 'big') return { ok: true, big };
      if (req.cmd === 'later') return new Promise((res) => { release = () => res({ ok: true, later: true }); });
      if (req.cmd === 'reject') return Promise.reject(new Error('refused later'));
      throw new Error(`unknown command ${String(req.cmd)}`);
    });
  });

  afterAll(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
    expect(reactor().watching).toBe(0);
  });

  it('answers several requests on one connection, in order', async () => {
    const got = await talk(sock, [1, 2, 3].map((n) => JSON.stringify({ cmd: 'echo', n })), 3);
    expect(got).toEqual([{ ok: true, n: 1 }, { ok: true, n: 2 }, { ok: true, n: 3 }]);
  });

  it('sends an answer larger than the socket takes at once, whole', async () => {
    const [r] = await talk(sock, [JSON.stringify({ cmd: 'big' })], 1);
    expect(r.ok).toBe(true);
    expect(r.big).toBe(big);
  });

  it('answers a late request after the client ended its side', async () => {
    const p = talk(sock, [JSON.stringify({ cmd: 'later' }), JSON.stringify({ cmd: 'reject' })], 2, true);
    await new Promise((res) => setTimeout(res, 50));
    expect(release).not.toBeNull();
    release!();
    // The rejection is answered at once, the late answer after it.
    expect(await p).toEqual([{ error: 'refused later' }, { ok: true, later: true }]);
  });

  it('answers errors as one line: a throw, malformed JSON, a non-object, a line too long', async () => {
    const got = await talk(sock, [JSON.stringify({ cmd: 'nope' }), '{not json', '42'], 3);
    expect(got).toEqual([{ error: 'unknown command nope' }, { error: 'malformed request' }, { error: 'malformed request' }]);
    const [long] = await talk(sock, ['x'.repeat(MAX_LINE + 10)], 1);
    expect(long).toEqual({ error: `request longer than ${MAX_LINE} bytes` });
  });

  it('closes every connection whose client has gone', async () => {
    await talk(sock, [JSON.stringify({ cmd: 'echo', n: 0 })], 1);
    for (let i = 0; i < 100 && server.connections > 0; i++) await new Promise((res) => setTimeout(res, 10));
    expect(server.connections).toBe(0);
  });
});
