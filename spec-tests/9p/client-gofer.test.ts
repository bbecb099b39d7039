/**
 * tvisor's 9P client against tvisor's gofer (bin/tvisor gofer): the operation suite over
 * both transports, then the descriptor-passing dialect (9P2000.L.fd), checked by
 * reading and writing the received host descriptors directly.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Errno } from '../../native/libc';
import type { Client } from '../../gofer/p9/client';
import { VERSION_9P2000L, VERSION_FD } from '../../gofer/p9';
import { goferMissing, startGofer, type GoferPeer } from './peers';
import { operationSuite, populate } from './suite';

const why = goferMissing();
const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2;

operationSuite('9p client against the gofer (fd transport, 9P2000.L.fd)', why, async (dir) => (await startGofer(dir)).fd);
operationSuite('9p client against the gofer (stream transport, plain 9P2000.L)', why, async (dir) => (await startGofer(dir)).stream);

(why ? describe.skip : describe)('descriptor passing with the gofer (9P2000.L.fd)', () => {
  let dir: string;
  let gofer: GoferPeer;
  let roGofer: GoferPeer;
  let c: Client;
  let root: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-9p-fd-'));
    populate(dir);
    gofer = await startGofer(dir);
    roGofer = await startGofer(dir, ['--ro']);
    c = await gofer.fd.connect();
    root = c.sync.attach('').fid;
  });

  afterAll(async () => {
    c?.close();
    await gofer?.stop();
    await roGofer?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('negotiates 9P2000.L.fd over a descriptor and plain 9P2000.L over a stream', async () => {
    expect(c.dialect).toBe(VERSION_FD);
    expect(c.fdPassing).toBe(true);
    expect(c.msize).toBe(1 << 20);
    const plain = await gofer.stream.connect();
    expect(plain.dialect).toBe(VERSION_9P2000L);
    const w = await plain.walk((await plain.attach('')).fid, 'hello.txt');
    expect((await plain.lopen(w.fid, O_RDONLY)).hostFd).toBe(-1);
    plain.close();
    const refused = await gofer.fd.connect({ fdPassing: false });
    expect(refused.dialect).toBe(VERSION_9P2000L);
    refused.close();
  });

  it('reads a file through the descriptor that came with Rlopen', () => {
    const w = c.sync.walk(root, 'sub/nested/deep.txt');
    const o = c.sync.lopen(w.fid, O_RDONLY);
    expect(o.hostFd).toBeGreaterThanOrEqual(0);
    const buf = Buffer.alloc(64);
    const n = fs.readSync(o.hostFd, buf, 0, buf.length, 0);
    expect(buf.subarray(0, n).toString()).toBe(fs.readFileSync(path.join(dir, 'sub/nested/deep.txt'), 'utf8'));
    expect(fs.fstatSync(o.hostFd).ino).toBe(fs.statSync(path.join(dir, 'sub/nested/deep.txt')).ino);
    c.sync.clunk(w.fid);
    // The descriptor is ours: it outlives the fid.
    expect(fs.readSync(o.hostFd, buf, 0, 4, 0)).toBe(4);
    fs.closeSync(o.hostFd);
  });

  it('writes a created file through the descriptor that came with Rlcreate', () => {
    const d = c.sync.walk(root, []);
    const o = c.sync.lcreate(d.fid, 'via-fd.txt', O_RDWR, 0o644);
    expect(o.hostFd).toBeGreaterThanOrEqual(0);
    fs.writeSync(o.hostFd, 'written through the host descriptor');
    fs.closeSync(o.hostFd);
    c.sync.clunk(d.fid);
    expect(fs.readFileSync(path.join(dir, 'via-fd.txt'), 'utf8')).toBe('written through the host descriptor');
  });

  it('gives each of many pipelined opens the descriptor of its own file', async () => {
    const names = fs.readdirSync(path.join(dir, 'sub')).filter((n) => n.startsWith('f'));
    const walks = await Promise.all(names.map((n) => c.walk(root, ['sub', n])));
    const opens = await Promise.all(walks.map((w) => c.lopen(w.fid, O_RDONLY)));
    opens.forEach((o, i) => {
      expect(fs.readFileSync(o.hostFd, 'utf8')).toBe(fs.readFileSync(path.join(dir, 'sub', names[i]), 'utf8'));
      fs.closeSync(o.hostFd);
    });
    expect(new Set(opens.map((o) => o.hostFd)).size).toBe(names.length);
    await Promise.all(walks.map((w) => c.clunk(w.fid)));
  });

  it('passes read-only descriptors from a read-only export and refuses writes', async () => {
    const ro = await roGofer.fd.connect();
    const r = ro.sync.attach('').fid;
    const w = ro.sync.walk(r, 'hello.txt');
    expect(() => ro.sync.lopen(w.fid, O_WRONLY)).toThrow(expect.objectContaining({ errno: Errno.EROFS }));
    const o = ro.sync.lopen(w.fid, O_RDONLY);
    expect(fs.readFileSync(o.hostFd, 'utf8')).toBe('hello, 9p\n');
    expect(() => fs.writeSync(o.hostFd, 'x')).toThrow(/EBADF/);
    fs.closeSync(o.hostFd);
    expect(() => ro.sync.mkdir(r, 'nope')).toThrow('mkdir nope: EROFS');
    ro.close();
  });

  it('startWalkList sends a walk and listing at once, taken later as walkList\'s answer; dropped, its fid is clunked', () => {
    const now = c.sync.walkList(root, 'sub', 100);
    const before = c.engine.requested;
    const ahead = c.sync.startWalkList(root, 'sub', 100);
    // Sent and parked: nothing waits for it, and it counts as requests (a later one tells it is old).
    expect(c.engine.requested).toBe(before + 2);
    expect(ahead.requested).toBe(before + 2);
    expect(c.inFlight).toBe(0);
    const got = ahead.take();
    expect(got.walked?.attr.qid.path).toBe(now.walked!.attr.qid.path);
    const names = (r: typeof got) => (r.list instanceof Error ? [] : r.list.entries.map((e) => e.name)).sort();
    expect(names(got)).toEqual(names(now));
    expect(names(got)).toContain('nested');
    expect(() => ahead.take()).toThrow(/dropped/);
    // The fid is the caller's: a Tgetattr on it works.
    expect(c.sync.getattr(got.walked!.fid).qid.path).toBe(now.walked!.attr.qid.path);
    c.sync.clunk(got.walked!.fid);
    c.sync.clunk(now.walked!.fid);
    // A missing name: no fid; a dropped one: its fid is clunked, unwaited for.
    expect(c.sync.startWalkList(root, 'missing', 10).take().walked).toBeNull();
    const dropped = c.sync.startWalkList(root, 'sub', 10);
    dropped.drop();
    c.sync.getattr(root); // takes the replies on the way
    expect(() => c.sync.getattr(dropped.newfid)).toThrow();
  });
});
