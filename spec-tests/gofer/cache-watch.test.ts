/**
 * Cache watches (9P2000.L.fd's Tcachewatch, Tuncachewatch; gofer/server/cache-watches.ts
 * and sentry/fsimpl/gofer/cache-watch.ts): a bind mount's directory listed under a cache
 * watch answers lookups of its names from the sentry's cache without a round trip until
 * the host changes it; then the names are checked with the gofer again and the host's
 * change is seen. A file with more than one link, and a directory not watched itself,
 * are always checked.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { built, GoferProcess } from './harness';
import { Client } from '../../gofer/p9/client';
import { connectUnix } from '../../native/unixsock';
import { Errno } from '../../native/libc';
import { GoferFs, GoferInode } from '../../sentry/fsimpl/gofer/gofer-fs';
import { cacheWatchesOf } from '../../sentry/fsimpl/gofer/cache-watch';

if (!built) throw new Error('bin/tvisor is not built: run make build');

describe('cache watches of a bind mount', () => {
  let gofer: GoferProcess;
  let exp: string;
  let client: Client;
  beforeAll(async () => {
    exp = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-cachewatch-'));
    gofer = await GoferProcess.start(['--root', exp]);
  });
  afterAll(async () => {
    await gofer.stop();
    fs.rmSync(exp, { recursive: true, force: true });
  });
  beforeEach(() => {
    for (const n of fs.readdirSync(exp)) fs.rmSync(path.join(exp, n), { recursive: true, force: true });
    client = Client.overFd(connectUnix(gofer.socketPath));
  });
  afterEach(() => client.close());

  /** listed lists the export's root of a bind mount: the entries' inodes by name. */
  const listRoot = (): { gfs: GoferFs; root: GoferInode; byName: Map<string, GoferInode> } => {
    const gfs = new GoferFs(client, '', false, true);
    const got = gfs.root.listChildren(100);
    expect(got).not.toBeNull();
    return { gfs, root: gfs.root, byName: new Map(got!.map((e) => [e.name, e.inode as GoferInode])) };
  };
  /** trips counts the replies `fn` waited for. */
  const trips = (fn: () => unknown): number => {
    const before = client.engine.answered;
    fn();
    return client.engine.answered - before;
  };

  it('answers a listed name from the cache until the host changes it, then sees the change', () => {
    fs.writeFileSync(path.join(exp, 'a'), 'one');
    fs.writeFileSync(path.join(exp, 'b'), '');
    const { root, byName } = listRoot();
    expect(root.watchGen).not.toBe(0);
    const a = byName.get('a')!;
    expect(a.stat().size).toBe(3);
    expect(trips(() => expect(root.revalidate('a', a)).toBe(true))).toBe(0);
    const gen = root.watchGen;
    fs.appendFileSync(path.join(exp, 'a'), 'more');
    // The host's write ended the watch's trust: the name is checked with the gofer (its
    // ctime moved: not the file cached, so it is looked up afresh) and its size is new;
    // the directory is watched afresh in the same round trip.
    expect(trips(() => expect(root.revalidate('a', a)).toBe(false))).toBeGreaterThan(0);
    expect(root.watchGen).not.toBe(gen);
    expect(root.lookup('a').stat().size).toBe(7);
    expect(trips(() => expect(root.revalidate('b', byName.get('b')!)).toBe(true))).toBeGreaterThan(0);
  });

  it('sees a name removed, replaced or renamed over on the host', () => {
    for (const n of ['gone', 'replaced', 'moved']) fs.writeFileSync(path.join(exp, n), n);
    const { root, byName } = listRoot();
    fs.unlinkSync(path.join(exp, 'gone'));
    expect(root.revalidate('gone', byName.get('gone')!)).toBe(false);
    const { root: root2, byName: byName2 } = listRoot();
    fs.writeFileSync(path.join(exp, 'other'), 'x');
    fs.renameSync(path.join(exp, 'other'), path.join(exp, 'moved'));
    expect(root2.revalidate('moved', byName2.get('moved')!)).toBe(false);
    expect(root2.revalidate('replaced', byName2.get('replaced')!)).toBe(true);
  });

  it('always checks a file with two links and a directory not watched itself', () => {
    fs.writeFileSync(path.join(exp, 'linked'), '');
    fs.linkSync(path.join(exp, 'linked'), path.join(exp, 'link2'));
    fs.mkdirSync(path.join(exp, 'd'));
    const { root, byName } = listRoot();
    expect(trips(() => expect(root.revalidate('linked', byName.get('linked')!)).toBe(true))).toBeGreaterThan(0);
    const d = byName.get('d')!;
    expect(trips(() => expect(root.revalidate('d', d)).toBe(true))).toBeGreaterThan(0);
    // Listed (and so watched) itself, it is confirmed in its directory's watch.
    expect(d.listChildren(100)).toEqual([]);
    expect(trips(() => expect(root.revalidate('d', d)).toBe(true))).toBe(0);
    // A change inside it ends its own watch: it is checked again (its mtime moved).
    fs.writeFileSync(path.join(exp, 'd', 'new'), '');
    const mtime = d.stat().mtime;
    expect(trips(() => expect(root.revalidate('d', d)).toBe(true))).toBeGreaterThan(0);
    expect(d.stat().mtime).not.toEqual(mtime);
  });

  it('watches a directory not listed at the second lookup below it, in the same round trip', () => {
    fs.writeFileSync(path.join(exp, 'a'), 'a');
    const gfs = new GoferFs(client, '', false, true);
    const [a] = gfs.root.lookupChain(['a']).inodes as GoferInode[];
    expect(gfs.root.watchGen).toBe(0);
    // Rcachewatch and Rwalkstat: one round trip; then a is confirmed without one.
    expect(trips(() => expect(gfs.root.revalidate('a', a)).toBe(true))).toBe(2);
    expect(gfs.root.watchGen).not.toBe(0);
    expect(trips(() => expect(gfs.root.revalidate('a', a)).toBe(true))).toBe(0);
    fs.chmodSync(path.join(exp, 'a'), 0o600);
    expect(trips(() => expect(gfs.root.revalidate('a', a)).toBe(false))).toBeGreaterThan(0);
  });

  it('goes through a listed directory without checking it, but checks it as the last name', () => {
    fs.mkdirSync(path.join(exp, 'd'));
    fs.writeFileSync(path.join(exp, 'd', 'x'), 'x');
    const { root, byName } = listRoot();
    const d = byName.get('d')!;
    void d.fid; // walked to (a listed entry's fid is made on first use)
    // Only x is walked (one reply): d is confirmed by the root's watch.
    let r: ReturnType<GoferInode['lookupChain']> | undefined;
    expect(trips(() => (r = root.lookupChain(['d', 'x'], undefined, [d])))).toBe(1);
    expect(r!.valid).toBe(1);
    expect(r!.inodes.map((i) => i.stat().size)).toEqual([1]);
    // As the last name its own attributes are used: checked.
    expect(trips(() => expect(root.lookupChain(['d'], undefined, [d]).valid).toBe(1))).toBe(1);
    // Renamed away on the host: the walk through it finds it changed.
    fs.renameSync(path.join(exp, 'd'), path.join(exp, 'e'));
    fs.mkdirSync(path.join(exp, 'd'));
    expect(root.lookupChain(['d', 'x'], undefined, [d]).valid).toBe(0);
  });

  it('ends a watch with its inode; the gofer counts each Tcachewatch', () => {
    const { root } = listRoot();
    const wd = root.cacheWd;
    expect(wd).toBeGreaterThan(0);
    expect(cacheWatchesOf(client).size).toBe(1);
    // The same directory again: the same watch, and no descriptor (the instance was passed).
    expect(client.sync.cacheWatch(root.fid)).toEqual({ wd, fd: -1 });
    root.evict();
    expect(cacheWatchesOf(client).size).toBe(0);
    client.sync.uncacheWatch(wd);
    let errno = 0;
    try {
      client.sync.uncacheWatch(wd);
    } catch (e) {
      errno = (e as { errno: number }).errno;
    }
    expect(errno).toBe(Errno.EINVAL);
  });
});
