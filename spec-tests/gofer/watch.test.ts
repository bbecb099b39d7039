/**
 * Host change notification (9P2000.L.fd's Twatch, Tunwatch, Tnotify; gofer/server/
 * watches.ts): the gofer watches files of its export with host inotify and reports the
 * host's changes to a parked Tnotify, in order, with Linux's masks, names and cookies;
 * the host's reads too (IN_OPEN, IN_ACCESS, IN_CLOSE_NOWRITE, as Linux reports any
 * reader's); the client's own changes and reads are not reported back; a watch never
 * reaches outside the export; what a client sends wrong is answered with an errno and
 * the gofer goes on.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { built, errnoOf, escapeGofer, expectKind, GoferProcess } from './harness';
import { Client, FdTransport } from '../../gofer/p9/client';
import { connectUnix } from '../../native/unixsock';
import { Errno } from '../../native/libc';
import { NOTIFY_READS, NOTIFY_WAIT, type Note } from '../../gofer/p9';

if (!built) throw new Error('bin/tvisor is not built: run make build');

const IN_ACCESS = 0x1, IN_MODIFY = 0x2, IN_ATTRIB = 0x4, IN_CLOSE_WRITE = 0x8, IN_CLOSE_NOWRITE = 0x10, IN_OPEN = 0x20,
  IN_MOVED_FROM = 0x40, IN_MOVED_TO = 0x80, IN_CREATE = 0x100, IN_DELETE = 0x200, IN_DELETE_SELF = 0x400, IN_IGNORED = 0x8000,
  IN_ISDIR = 0x40000000;

describe('gofer host watches', () => {
  const g = escapeGofer('tvisor-watch-');
  let fid = 1000;
  const walk = async (names: string[]): Promise<number> => {
    const r = await g.c.rpc({ kind: 'Twalk', fid: 0, newfid: ++fid, names });
    expectKind(r, 'Rwalk');
    expect(r.qids).toHaveLength(names.length);
    return fid;
  };
  const watch = async (f: number): Promise<number> => {
    const r = await g.c.rpc({ kind: 'Twatch', fid: f });
    expectKind(r, 'Rwatch');
    return r.wd;
  };
  /** next parks a Tnotify, makes the host change `change`, and returns the next `n`
   * events (parking Tnotify again until they are in). */
  const next = async (n: number, change: () => void): Promise<Note[]> => {
    let p = g.c.rpc({ kind: 'Tnotify', flags: NOTIFY_WAIT, name: '' });
    // The Tnotify is parked before the change: a Tgetattr behind it is answered first.
    expectKind(await g.c.rpc({ kind: 'Tgetattr', fid: 0, requestMask: 0x7ff }), 'Rgetattr');
    change();
    const out: Note[] = [];
    for (;;) {
      const r = await p;
      expectKind(r, 'Rnotify');
      out.push(...r.events);
      if (out.length >= n) return out;
      p = g.c.rpc({ kind: 'Tnotify', flags: NOTIFY_WAIT, name: '' });
    }
  };
  const ex = (...p: string[]) => path.join(g.tree.exp, ...p);

  it('reports host creates, writes, attribute changes, renames and deletes in a watched directory', async () => {
    const d = await walk(['sub']);
    const wd = await watch(d);
    expect(await next(3, () => fs.writeFileSync(ex('sub', 'a'), ''))).toEqual([
      { wd, mask: IN_CREATE, cookie: 0, name: 'a' }, { wd, mask: IN_OPEN, cookie: 0, name: 'a' }, { wd, mask: IN_CLOSE_WRITE, cookie: 0, name: 'a' }]);
    expect(await next(3, () => fs.appendFileSync(ex('sub', 'a'), 'x'))).toEqual([
      { wd, mask: IN_OPEN, cookie: 0, name: 'a' }, { wd, mask: IN_MODIFY, cookie: 0, name: 'a' }, { wd, mask: IN_CLOSE_WRITE, cookie: 0, name: 'a' }]);
    expect(await next(3, () => fs.readFileSync(ex('sub', 'a')))).toEqual([
      { wd, mask: IN_OPEN, cookie: 0, name: 'a' }, { wd, mask: IN_ACCESS, cookie: 0, name: 'a' }, { wd, mask: IN_CLOSE_NOWRITE, cookie: 0, name: 'a' }]);
    expect(await next(1, () => fs.chmodSync(ex('sub', 'a'), 0o600))).toEqual([{ wd, mask: IN_ATTRIB, cookie: 0, name: 'a' }]);
    const moved = await next(2, () => fs.renameSync(ex('sub', 'a'), ex('sub', 'b')));
    expect(moved.map((e) => [e.mask, e.name])).toEqual([[IN_MOVED_FROM, 'a'], [IN_MOVED_TO, 'b']]);
    expect(moved[0].cookie).not.toBe(0);
    expect(moved[1].cookie).toBe(moved[0].cookie);
    expect(await next(1, () => fs.mkdirSync(ex('sub', 'dir')))).toEqual([{ wd, mask: IN_CREATE | IN_ISDIR, cookie: 0, name: 'dir' }]);
    expect(await next(1, () => fs.unlinkSync(ex('sub', 'b')))).toEqual([{ wd, mask: IN_DELETE, cookie: 0, name: 'b' }]);
    expectKind(await g.c.rpc({ kind: 'Tunwatch', wd }), 'Runwatch');
    expect(errnoOf(await g.c.rpc({ kind: 'Tunwatch', wd }))).toBe(Errno.EINVAL);
  });

  it('reports a watched file\'s deletion (IN_DELETE_SELF, IN_IGNORED); the same file watched twice has one wd', async () => {
    fs.writeFileSync(ex('gone'), 'x');
    const f = await walk(['gone']);
    const wd = await watch(f);
    const f2 = await walk(['gone']);
    expect(await watch(f2)).toBe(wd);
    // The gofer's own descriptors of the file would keep it alive (as any open does on Linux).
    for (const x of [f, f2]) expectKind(await g.c.rpc({ kind: 'Tclunk', fid: x }), 'Rclunk');
    const evs = await next(3, () => fs.unlinkSync(ex('gone')));
    expect(evs.map((e) => e.mask)).toEqual([IN_ATTRIB, IN_DELETE_SELF, IN_IGNORED]);
    expect(evs.every((e) => e.wd === wd && e.name === '')).toBe(true);
    expect(errnoOf(await g.c.rpc({ kind: 'Tunwatch', wd }))).toBe(Errno.EINVAL); // the host ended it
  });

  it('does not report the client\'s own changes, made by its requests', async () => {
    const d = await walk(['sub']);
    const wd = await watch(d);
    const walked = ++fid;
    expectKind(await g.c.rpc({ kind: 'Twalk', fid: d, newfid: walked, names: [] }), 'Rwalk');
    expectKind(await g.c.rpc({ kind: 'Tmkdir', dfid: d, name: 'mine', mode: 0o755, gid: 0 }), 'Rmkdir');
    expectKind(await g.c.rpc({ kind: 'Tlcreate', fid: walked, name: 'mine.txt', flags: 1, mode: 0o644, gid: 0 }), 'Rlcreate');
    expectKind(await g.c.rpc({ kind: 'Tunlinkat', dirFid: d, name: 'mine', flags: 0x200 }), 'Runlinkat');
    // Only the host's change that follows is reported.
    expect(await next(3, () => fs.writeFileSync(ex('sub', 'theirs'), ''))).toEqual([
      { wd, mask: IN_CREATE, cookie: 0, name: 'theirs' }, { wd, mask: IN_OPEN, cookie: 0, name: 'theirs' }, { wd, mask: IN_CLOSE_WRITE, cookie: 0, name: 'theirs' }]);
    // A barrier drops what the client changed without a request (its passed descriptor),
    // for the name it gives: a host change to another name before it stays.
    fs.appendFileSync(ex('sub', 'mine.txt'), 'as if through a passed descriptor');
    fs.unlinkSync(ex('sub', 'theirs'));
    expectKind(await g.c.rpc({ kind: 'Tnotify', flags: 0, name: 'mine.txt' }), 'Rnotify');
    expect(errnoOf(await g.c.rpc({ kind: 'Tnotify', flags: 0, name: 'a/b' }))).toBe(Errno.EINVAL);
    expect(await next(1, () => undefined)).toEqual([{ wd, mask: IN_DELETE, cookie: 0, name: 'theirs' }]);
    // A changing request drops the echo of its own names only.
    fs.writeFileSync(ex('sub', 'theirs2'), '');
    expectKind(await g.c.rpc({ kind: 'Tunlinkat', dirFid: d, name: 'mine.txt', flags: 0 }), 'Runlinkat');
    expect(await next(3, () => undefined)).toEqual([
      { wd, mask: IN_CREATE, cookie: 0, name: 'theirs2' }, { wd, mask: IN_OPEN, cookie: 0, name: 'theirs2' }, { wd, mask: IN_CLOSE_WRITE, cookie: 0, name: 'theirs2' }]);
    expectKind(await g.c.rpc({ kind: 'Tunwatch', wd }), 'Runwatch');
  });

  it('does not report the client\'s own walks, opens, reads and listings; a reads-only barrier keeps the host\'s changes', async () => {
    fs.mkdirSync(ex('rd'));
    fs.writeFileSync(ex('rd', 'r'), 'read me\n');
    const d = await walk(['rd']);
    const wd = await watch(d);
    const f = await walk(['rd', 'r']);
    const fwd = await watch(f);
    // Walks, an open, a read, a listing and the clunks: the host reports each (IN_OPEN,
    // IN_ACCESS, IN_CLOSE_NOWRITE), and each is the client's own.
    const o = ++fid;
    expectKind(await g.c.rpc({ kind: 'Twalk', fid: d, newfid: o, names: ['r'] }), 'Rwalk');
    expectKind(await g.c.rpc({ kind: 'Tlopen', fid: o, flags: 0 }), 'Rlopen');
    expectKind(await g.c.rpc({ kind: 'Tread', fid: o, offset: 0, count: 100 }), 'Rread');
    expectKind(await g.c.rpc({ kind: 'Tclunk', fid: o }), 'Rclunk');
    expectKind(await g.c.rpc({ kind: 'Treaddirstat', fid: d, offset: 0, count: 10 }), 'Rreaddirstat');
    expectKind(await g.c.rpc({ kind: 'Twalkstat', fid: 0, newfids: [0xffffffff, 0xffffffff], names: ['rd', 'r'] }), 'Rwalkstat');
    // A read and a change by the host, then a reads-only barrier for the file (as after the
    // client's reads through a passed descriptor): the reads go, the change stays.
    fs.readFileSync(ex('rd', 'r'));
    fs.appendFileSync(ex('rd', 'r'), 'more\n');
    expectKind(await g.c.rpc({ kind: 'Tnotify', flags: NOTIFY_READS, name: 'r' }), 'Rnotify');
    expect(errnoOf(await g.c.rpc({ kind: 'Tnotify', flags: NOTIFY_READS | NOTIFY_WAIT, name: '' }))).toBe(Errno.EINVAL);
    expect(await next(4, () => undefined)).toEqual([
      { wd, mask: IN_MODIFY, cookie: 0, name: 'r' }, { wd: fwd, mask: IN_MODIFY, cookie: 0, name: '' },
      { wd, mask: IN_CLOSE_WRITE, cookie: 0, name: 'r' }, { wd: fwd, mask: IN_CLOSE_WRITE, cookie: 0, name: '' }]);
    // The host's reads that follow are reported, on both watches.
    expect(await next(6, () => fs.readFileSync(ex('rd', 'r')))).toEqual([
      { wd, mask: IN_OPEN, cookie: 0, name: 'r' }, { wd: fwd, mask: IN_OPEN, cookie: 0, name: '' },
      { wd, mask: IN_ACCESS, cookie: 0, name: 'r' }, { wd: fwd, mask: IN_ACCESS, cookie: 0, name: '' },
      { wd, mask: IN_CLOSE_NOWRITE, cookie: 0, name: 'r' }, { wd: fwd, mask: IN_CLOSE_NOWRITE, cookie: 0, name: '' }]);
    for (const w of [wd, fwd]) expectKind(await g.c.rpc({ kind: 'Tunwatch', wd: w }), 'Runwatch');
  });

  it('a request or barrier for one file keeps the host\'s events of another watched file itself', async () => {
    fs.writeFileSync(ex('followed'), 'line 0\n');
    const f = await walk(['followed']);
    const fwd = await watch(f);
    const d = await walk(['sub']);
    expectKind(await g.c.rpc({ kind: 'Tmkdir', dfid: d, name: 'elsewhere', mode: 0o755, gid: 0 }), 'Rmkdir');
    // A host append to the followed file (as tail -f follows it), then a barrier naming
    // another file (the client wrote to it through a passed descriptor; the same rule
    // drops a request's echo after it): the append is still reported.
    fs.appendFileSync(ex('followed'), 'line 1\n');
    expectKind(await g.c.rpc({ kind: 'Tnotify', flags: 0, name: 'elsewhere' }), 'Rnotify');
    expect(await next(3, () => undefined)).toEqual([
      { wd: fwd, mask: IN_OPEN, cookie: 0, name: '' }, { wd: fwd, mask: IN_MODIFY, cookie: 0, name: '' }, { wd: fwd, mask: IN_CLOSE_WRITE, cookie: 0, name: '' }]);
    // A barrier naming the followed file drops them (the client's own write).
    fs.appendFileSync(ex('followed'), 'line 2\n');
    expectKind(await g.c.rpc({ kind: 'Tnotify', flags: 0, name: 'followed' }), 'Rnotify');
    expect(await next(1, () => fs.chmodSync(ex('followed'), 0o600))).toEqual([{ wd: fwd, mask: IN_ATTRIB, cookie: 0, name: '' }]);
    expectKind(await g.c.rpc({ kind: 'Tunwatch', wd: fwd }), 'Runwatch');
  });

  it('watches only files of the export, on their own descriptors: a symlink out is refused, `..` is the root', async () => {
    const link = await walk(['link-dir']);
    expect(errnoOf(await g.c.rpc({ kind: 'Twatch', fid: link }))).toBe(Errno.EOPNOTSUPP);
    const rootWd = await watch(0);
    expect(await watch(await walk(['..', '..']))).toBe(rootWd);
    expect(await watch(await walk(['sub', '..']))).toBe(rootWd);
    for (let i = 0; i < 3; i++) expectKind(await g.c.rpc({ kind: 'Tunwatch', wd: rootWd }), 'Runwatch');
  });

  it('answers malformed and abusive requests with an errno and goes on', async () => {
    expect(errnoOf(await g.c.rpc({ kind: 'Twatch', fid: 0xdead }))).toBe(Errno.EBADF);
    expect(errnoOf(await g.c.rpc({ kind: 'Tunwatch', wd: 12345 }))).toBe(Errno.EINVAL);
    expect(errnoOf(await g.c.rpc({ kind: 'Tnotify', flags: 6, name: '' }))).toBe(Errno.EINVAL);
    // One Tnotify waits at a time; a flushed one is never answered.
    const tag = g.c.allocTag();
    void g.c.rpc({ kind: 'Tnotify', tag, flags: NOTIFY_WAIT, name: '' });
    expect(errnoOf(await g.c.rpc({ kind: 'Tnotify', flags: NOTIFY_WAIT, name: '' }))).toBe(Errno.EBUSY);
    expectKind(await g.c.rpc({ kind: 'Tflush', oldtag: tag }), 'Rflush');
    // A flood of watches: past MAX_WATCHES (8192) distinct files, ENOSPC.
    const dir = ex('many');
    fs.mkdirSync(dir);
    for (let i = 0; i < 8200; i++) fs.writeFileSync(path.join(dir, `f${i}`), '');
    const d = await walk(['many']);
    const errs: number[] = [];
    for (let i = 0; i < 8200; i += 200) {
      const batch = Array.from({ length: 200 }, (_, j) => i + j);
      const got = await Promise.all(batch.map(async (k) => {
        const f = 50_000 + k;
        expectKind(await g.c.rpc({ kind: 'Twalk', fid: d, newfid: f, names: [`f${k}`] }), 'Rwalk');
        const w = await g.c.rpc({ kind: 'Twatch', fid: f });
        await g.c.rpc({ kind: 'Tclunk', fid: f });
        return errnoOf(w);
      }));
      errs.push(...got);
    }
    // The root's watches of the test before are gone: 8192 succeed, the rest ENOSPC.
    expect(errs.filter((e) => e === 0)).toHaveLength(8192 - 0);
    expect(new Set(errs.filter((e) => e !== 0))).toEqual(new Set([Errno.ENOSPC]));
    expect(g.gofer.alive).toBe(true);
    expectKind(await g.c.rpc({ kind: 'Tgetattr', fid: 0, requestMask: 0x7ff }), 'Rgetattr');
  }, 120_000);
});


/**
 * The client's side (gofer/p9/client.ts waitNotify, the engine's parked requests, the fd
 * transport's pump), as the sentry uses it: a parked Tnotify is not in flight, so
 * synchronous calls go on meanwhile; its reply comes through pump() when idle.
 */
describe('9P client: a parked Tnotify', () => {
  let gofer: GoferProcess;
  let exp: string;
  beforeAll(async () => {
    exp = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-watch-client-'));
    gofer = await GoferProcess.start(['--root', exp]);
  });
  afterAll(async () => {
    await gofer.stop();
    fs.rmSync(exp, { recursive: true, force: true });
  });

  it('holds up no call, and its events come through pump()', async () => {
    const client = Client.overFd(connectUnix(gofer.socketPath));
    try {
      expect(client.fdPassing).toBe(true);
      const { fid } = client.sync.attach('');
      const wd = client.sync.watch(fid);
      let got: Note[] | null = null;
      client.waitNotify((err, events) => {
        if (err) throw err;
        got = events;
      });
      expect(client.inFlight).toBe(0);
      // A synchronous call while it is parked is answered (the gofer goes on).
      expect(client.sync.getattr(fid, 0x7ff).qid.type).toBe(0x80);
      fs.writeFileSync(path.join(exp, 'new'), '');
      const transport = client.engine.transport as FdTransport;
      for (let i = 0; i < 500 && got === null; i++) {
        transport.pump();
        if (got === null) await new Promise((r) => setTimeout(r, 10));
      }
      expect(got).not.toBeNull();
      expect(got![0]).toEqual({ wd, mask: IN_CREATE, cookie: 0, name: 'new' });
      client.sync.unwatch(wd);
    } finally {
      client.close();
    }
    expect(gofer.alive).toBe(true);
  });
});
