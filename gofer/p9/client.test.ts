/**
 * The 9P client against an in-process fake server (client-fake-server.ts, run in a worker
 * thread on the other end of a socketpair): tags, pipelining, errors, descriptor passing,
 * version fallback, flush, both transports.
 */
import { buildSync } from 'esbuild';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Errno } from '../../native/libc';
import { socketPair } from '../../native/unixsock';
import { Client, P9Error, StreamTransport, WalkError } from './client';
import type { FakeEvent, FakeServerOptions } from './client-fake-server';
import { VERSION_9P2000L, VERSION_FD } from './messages';

let workerCode = '';
let tmp: string;
let hostFile: string;
const CONTENT = 'root:x:0:0:root:/root:/bin/sh\n';
const HOST_CONTENT = 'the host file behind the descriptor\n';

beforeAll(() => {
  // The responder is TypeScript: bundle it for the worker (koffi stays a normal require).
  const out = buildSync({
    stdin: { contents: "import { runFakeWorker } from './client-fake-server'; runFakeWorker();", resolveDir: __dirname, loader: 'ts' },
    bundle: true, platform: 'node', format: 'cjs', external: ['koffi'], write: false, logLevel: 'error',
  });
  workerCode = out.outputFiles[0].text;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-p9client-'));
  hostFile = path.join(tmp, 'host.txt');
  fs.writeFileSync(hostFile, HOST_CONTENT);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Fake {
  clientFd: number;
  events: FakeEvent[];
  /** batches lists the request kinds of each receive of the server. */
  batches(): string[][];
  exited: Promise<void>;
}

function startFake(opts: Partial<FakeServerOptions> = {}): Fake {
  const [clientFd, serverFd] = socketPair();
  const full: FakeServerOptions = { dialect: 'fd', hostFile, content: CONTENT, ...opts };
  const worker = new Worker(workerCode, { eval: true, workerData: { fd: serverFd, opts: full } });
  const events: FakeEvent[] = [];
  worker.on('message', (e: FakeEvent) => events.push(e));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('error', (e) => events.push({ version: `worker error: ${e.message}` }));
  return { clientFd, events, exited, batches: () => events.flatMap((e) => ('kinds' in e ? [e.kinds] : [])) };
}

/** settle lets the worker's reports reach this thread. */
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('9p client over a descriptor (the sentry transport)', () => {
  it('negotiates 9P2000.L.fd and receives the opened descriptor with Rlopen', async () => {
    const fake = startFake();
    const c = Client.overFd(fake.clientFd);
    expect(c.dialect).toBe(VERSION_FD);
    expect(c.fdPassing).toBe(true);
    const root = c.sync.attach('');
    const w = c.sync.walk(root.fid, 'etc/passwd');
    expect(w.qids.map((q) => q.path)).toEqual([2n, 3n]);
    const o = c.sync.lopen(w.fid, 0);
    expect(o.hostFd).toBeGreaterThanOrEqual(0);
    const buf = Buffer.alloc(100);
    const n = fs.readSync(o.hostFd, buf, 0, buf.length, 0);
    expect(buf.subarray(0, n).toString()).toBe(HOST_CONTENT);
    fs.closeSync(o.hostFd);
    expect(c.sync.read(w.fid, 0, 4).toString()).toBe(CONTENT.slice(0, 4));
    // Asynchronous calls on the same transport, descriptors in reply order; a
    // directory's Rlopen brings none, and the file's after it still gets its own.
    const [a, d, b] = await Promise.all([c.walk(root.fid, 'etc/passwd'), c.walk(root.fid, 'etc'), c.walk(root.fid, 'etc/passwd')]);
    const [oa, od, ob] = await Promise.all([c.lopen(a.fid, 0), c.lopen(d.fid, 0), c.lopen(b.fid, 0)]);
    expect(od.hostFd).toBe(-1);
    expect(oa.hostFd).toBeGreaterThanOrEqual(0);
    expect(ob.hostFd).toBeGreaterThanOrEqual(0);
    expect(oa.hostFd).not.toBe(ob.hostFd);
    for (const fd of [oa.hostFd, ob.hostFd]) {
      expect(fs.readFileSync(fd, 'utf8')).toBe(HOST_CONTENT);
      fs.closeSync(fd);
    }
    c.close();
    await fake.exited;
  });

  it('clunkDetached sends a Tclunk nothing waits for; its fid is reused only once the reply was taken by a later call', async () => {
    const fake = startFake();
    const c = Client.overFd(fake.clientFd);
    const root = c.sync.attach('');
    const w = c.sync.walk(root.fid, 'etc');
    c.clunkDetached(w.fid);
    // Parked: no synchronous call nor the transport's end-of-tick drive waits for it.
    expect(c.inFlight).toBe(0);
    expect(c.detached).toBe(1);
    // The next call is answered after it (the server answers in order): the Rclunk is
    // taken on the way, and only then is the fid number free again.
    const w2 = c.sync.walk(root.fid, 'etc');
    expect(w2.fid).not.toBe(w.fid);
    expect(c.detached).toBe(0);
    const w3 = c.sync.walk(root.fid, 'etc');
    expect(w3.fid).toBe(w.fid);
    await settle();
    expect(fake.batches().flat().filter((k) => k === 'Tclunk')).toHaveLength(1);
    // On a closed connection the fid is released at once, without an error.
    c.close();
    c.clunkDetached(w3.fid);
    expect(c.detached).toBe(0);
    await fake.exited;
  });

  it('speaks plain 9P2000.L when the server answers 9P2000.L', async () => {
    const fake = startFake({ dialect: 'plain' });
    const c = Client.overFd(fake.clientFd);
    expect(c.dialect).toBe(VERSION_9P2000L);
    const root = c.sync.attach('');
    const w = c.sync.walk(root.fid, ['etc', 'passwd']);
    expect(c.sync.lopen(w.fid, 0).hostFd).toBe(-1);
    expect(c.sync.read(w.fid, 5, 100).toString()).toBe(CONTENT.slice(5));
    c.close();
    await fake.exited;
    expect(fake.events.filter((e) => 'version' in e)).toEqual([{ version: VERSION_FD }]);
  });

  it("retries with 9P2000.L when the server answers 'unknown'", async () => {
    const fake = startFake({ dialect: 'strict' });
    const c = Client.overFd(fake.clientFd);
    expect(c.dialect).toBe(VERSION_9P2000L);
    expect(c.fdPassing).toBe(false);
    expect(c.sync.getattr(c.sync.attach('').fid).mode & 0o170000).toBe(0o040000);
    c.close();
    await fake.exited;
    expect(fake.events.filter((e) => 'version' in e)).toEqual([{ version: VERSION_FD }, { version: VERSION_9P2000L }]);
  });

  it('sends the requests of one tick together and matches replies by tag', async () => {
    const fake = startFake();
    const c = Client.overFd(fake.clientFd);
    const root = c.sync.attach('');
    const paths = ['etc', 'etc/passwd', 'loop', 'loop/loop', 'etc', 'loop/loop/loop'];
    const calls = paths.map((p) => c.walk(root.fid, p));
    expect(new Set(calls.map((x) => x.tag)).size).toBe(paths.length);
    const walks = await Promise.all(calls);
    expect(walks.map((w) => w.qids.length)).toEqual([1, 2, 1, 2, 1, 3]);
    expect(walks[1].qids[1].path).toBe(3n);
    expect(new Set(walks.map((w) => w.fid)).size).toBe(paths.length);
    await Promise.all(walks.map((w) => c.clunk(w.fid)));
    await settle();
    const walkBatch = fake.batches().find((b) => b[0] === 'Twalk');
    expect(walkBatch).toEqual(paths.map(() => 'Twalk'));
    expect(fake.batches().find((b) => b[0] === 'Tclunk')).toHaveLength(paths.length);
    // Released fids are reused.
    const again = c.sync.walk(root.fid, 'etc');
    expect(walks.map((w) => w.fid)).toContain(again.fid);
    c.close();
    await fake.exited;
  });

  it('walks more than 16 names in several Twalks', async () => {
    const fake = startFake();
    const c = Client.overFd(fake.clientFd);
    const root = c.sync.attach('');
    const names = new Array(40).fill('loop');
    const w = c.sync.walk(root.fid, names);
    expect(w.qids).toHaveLength(40);
    expect(w.qids.every((q) => q.path === 4n)).toBe(true);
    c.close();
    await fake.exited;
    expect(fake.batches().flat().filter((k) => k === 'Twalk')).toHaveLength(3);
  });

  it('walkChain looks several names up, each with its own fid and attributes, in one batch', async () => {
    const fake = startFake({ dialect: 'plain' });
    const c = Client.overFd(fake.clientFd);
    const root = c.sync.attach('');
    const chain = c.sync.walkChain(root.fid, ['etc', 'passwd']);
    expect(chain.error).toBeNull();
    expect(chain.walked.map((w) => w.attr.qid.path)).toEqual([2n, 3n]);
    expect(c.sync.read(chain.walked[1].fid, 0, 4).toString()).toBe(CONTENT.slice(0, 4));
    // A missing name ends the chain with its errno; what follows it is not returned.
    const short = c.sync.walkChain(root.fid, ['etc', 'nothing', 'more']);
    expect(short.walked.map((w) => w.attr.qid.path)).toEqual([2n]);
    expect((short.error as P9Error).errno).toBe(Errno.ENOENT);
    // Known fids: 'etc' is checked (walked, read, clunked) and the chain goes on from the
    // caller's own fid for it.
    const checked = c.sync.walkChain(root.fid, ['etc', 'passwd'], [chain.walked[0].fid]);
    expect(checked.walked.map((w) => w.fid)[0]).toBe(chain.walked[0].fid);
    expect(checked.walked[1].attr.qid.path).toBe(3n);
    c.close();
    await fake.exited;
    const batches = fake.batches();
    expect(batches).toContainEqual(['Twalk', 'Tgetattr', 'Twalk', 'Tgetattr']);
    expect(batches).toContainEqual(['Twalk', 'Tgetattr', 'Tclunk', 'Twalk', 'Tgetattr']);
  });

  it('walkChain in 9P2000.L.fd is one Twalkstat: fids for the new names, none for the checked ones', async () => {
    const fake = startFake();
    const c = Client.overFd(fake.clientFd);
    const root = c.sync.attach('');
    const chain = c.sync.walkChain(root.fid, ['etc', 'passwd']);
    expect(chain.error).toBeNull();
    expect(chain.walked.map((w) => w.attr.qid.path)).toEqual([2n, 3n]);
    expect(c.sync.read(chain.walked[1].fid, 0, 4).toString()).toBe(CONTENT.slice(0, 4));
    const short = c.sync.walkChain(root.fid, ['etc', 'nothing', 'more']);
    expect(short.walked.map((w) => w.attr.qid.path)).toEqual([2n]);
    expect((short.error as P9Error).errno).toBe(Errno.ENOENT);
    const missing = c.sync.walkChain(root.fid, ['nothing']);
    expect(missing.walked).toEqual([]);
    expect((missing.error as P9Error).errno).toBe(Errno.ENOENT);
    const checked = c.sync.walkChain(root.fid, ['etc', 'passwd'], [chain.walked[0].fid]);
    expect(checked.walked.map((w) => w.fid)[0]).toBe(chain.walked[0].fid);
    expect(checked.walked[1].attr.qid.path).toBe(3n);
    expect(c.sync.read(checked.walked[1].fid, 0, 4).toString()).toBe(CONTENT.slice(0, 4));
    c.close();
    await fake.exited;
    const walks = fake.batches().filter((b) => b.includes('Twalkstat') || b.includes('Twalk'));
    expect(walks).toEqual([['Twalkstat'], ['Twalkstat'], ['Twalkstat'], ['Twalkstat']]);
  });

  it('walkChain falls back to pipelined Twalks when a 9P2000.L.fd server lacks Twalkstat', async () => {
    const fake = startFake({ noWalkStat: true });
    const c = Client.overFd(fake.clientFd);
    const root = c.sync.attach('');
    for (let i = 0; i < 2; i++) {
      const chain = c.sync.walkChain(root.fid, ['etc', 'passwd']);
      expect(chain.error).toBeNull();
      expect(chain.walked.map((w) => w.attr.qid.path)).toEqual([2n, 3n]);
    }
    c.close();
    await fake.exited;
    const walks = fake.batches().filter((b) => b.includes('Twalkstat') || b.includes('Twalk'));
    expect(walks).toEqual([['Twalkstat'], ['Twalk', 'Tgetattr', 'Twalk', 'Tgetattr'], ['Twalk', 'Tgetattr', 'Twalk', 'Tgetattr']]);
  });

  it('turns Rlerror and partial walks into P9Errors carrying the errno', async () => {
    const fake = startFake();
    const c = Client.overFd(fake.clientFd);
    const root = c.sync.attach('');
    const fail = (f: () => unknown): P9Error => {
      try {
        f();
      } catch (e) {
        return e as P9Error;
      }
      throw new Error('expected a failure');
    };
    const first = fail(() => c.sync.walk(root.fid, 'nothing/here'));
    expect(first).toBeInstanceOf(WalkError);
    expect(first.errno).toBe(Errno.ENOENT);
    expect(first.message).toBe('walk nothing/here: ENOENT');
    const partial = fail(() => c.sync.walk(root.fid, 'etc/shadow')) as WalkError;
    expect(partial.errno).toBe(Errno.ENOENT);
    expect(partial.message).toMatch(/^walk etc\/shadow: ENOENT/);
    expect(partial.qids.map((q) => q.path)).toEqual([2n]);
    const nosys = fail(() => c.sync.statfs(root.fid));
    expect(nosys.errno).toBe(Errno.ENOSYS);
    expect(nosys.code).toBe('ENOSYS');
    expect(nosys.message).toBe(`statfs fid ${root.fid}: ENOSYS`);
    await expect(c.mkdir(root.fid, 'd')).rejects.toMatchObject({ errno: Errno.ENOSYS, message: 'mkdir d: ENOSYS' });
    // The connection still works after errors.
    expect(c.sync.readdirAll(c.sync.walk(root.fid, 'etc').fid).map((d) => d.name)).toEqual(['passwd']);
    c.close();
    await fake.exited;
  });

  it('fails every call once the server is gone', async () => {
    const fake = startFake();
    const c = Client.overFd(fake.clientFd, { owned: false });
    c.sync.attach('');
    fs.closeSync(fake.clientFd); // both our ends gone: the worker sees EOF and exits
    await fake.exited;
    expect(() => c.sync.attach('')).toThrow(P9Error);
  });
});

describe('9p client over a stream socket (plain 9P2000.L)', () => {
  async function streamClient(fake: Fake): Promise<Client> {
    const socket = new net.Socket({ fd: fake.clientFd, readable: true, writable: true });
    // Node forgets the descriptor only once the socket has closed: wait for that before the
    // worker exits (and the number is reused), or Node warns that it was opened twice.
    const closed = new Promise((r) => socket.once('close', r));
    fake.exited = fake.exited.then(() => closed).then(() => undefined);
    const c = Client.over(new StreamTransport(socket, 'fake'), 1 << 16);
    c.dialect = (await c.version(1 << 16)).version;
    return c;
  }

  it('pipelines, never passes descriptors, and refuses synchronous calls', async () => {
    const fake = startFake();
    const c = await streamClient(fake);
    expect(c.dialect).toBe(VERSION_9P2000L);
    expect(c.msize).toBe(1 << 16);
    const root = await c.attach('');
    const attrs = await Promise.all(Array.from({ length: 10 }, () => c.getattr(root.fid)));
    expect(attrs.every((a) => a.qid.path === 1n)).toBe(true);
    const w = await c.walk(root.fid, 'etc/passwd');
    expect((await c.lopen(w.fid, 0)).hostFd).toBe(-1);
    expect((await c.read(w.fid, 0, 1000)).toString()).toBe(CONTENT);
    expect(() => c.sync.getattr(root.fid)).toThrow(/cannot make synchronous calls/);
    c.close();
    await fake.exited;
    expect(fake.batches().some((b) => b.length === 10 && b.every((k) => k === 'Tgetattr'))).toBe(true);
  });

  it('holds a slot per request in flight only: 1,000 pipelined requests, then none (not one per possible tag)', async () => {
    const fake = startFake({ dialect: 'plain' });
    const c = await streamClient(fake);
    const root = await c.attach('');
    const attrs = Array.from({ length: 1000 }, () => c.getattr(root.fid));
    expect(c.engine.tagsHeld).toBe(1000);
    expect((await Promise.all(attrs)).every((a) => a.qid.path === 1n)).toBe(true);
    expect(c.engine.tagsHeld).toBe(0);
    c.close();
    await fake.exited;
  });

  it('flushes a request the server holds: it fails with ECANCELED and its tag is reused', async () => {
    const fake = startFake({ holdReads: true });
    const c = await streamClient(fake);
    const root = await c.attach('');
    const w = await c.walk(root.fid, 'etc/passwd');
    await c.lopen(w.fid, 0);
    const read = c.read(w.fid, 0, 10);
    const readFailed = expect(read).rejects.toMatchObject({ errno: Errno.ECANCELED });
    await settle();
    expect(c.inFlight).toBe(1);
    await c.flush(read.tag);
    await readFailed;
    expect(c.inFlight).toBe(0);
    const g = c.getattr(w.fid);
    expect(g.tag).toBe(read.tag);
    expect((await g).size).toBe(CONTENT.length);
    // Closing the connection fails what is still in flight.
    const held = c.read(w.fid, 0, 10);
    await settle();
    c.close();
    await expect(held).rejects.toMatchObject({ errno: Errno.ECONNRESET });
    await fake.exited;
  });
});
