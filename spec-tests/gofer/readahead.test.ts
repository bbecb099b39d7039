/**
 * Listings read ahead (GoferInode.readahead, SyncClient.startWalkList): the walk to a
 * directory of the rootfs and its listing, sent before a path walk needs them, are used by
 * the lookup that comes for that name only while nothing but clunks went to the gofer
 * since; else they are dropped (their fid clunked) and the directory is walked and listed
 * afresh, so a change the sandbox made in between is seen. Never on a bind mount.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { built, GoferProcess } from './harness';
import { Client } from '../../gofer/p9/client';
import { connectUnix } from '../../native/unixsock';
import { GoferFs, GoferInode } from '../../sentry/fsimpl/gofer/gofer-fs';

if (!built) throw new Error('bin/tvisor is not built: run make build');

describe('listings read ahead', () => {
  let gofer: GoferProcess;
  let exp: string;
  let client: Client;
  beforeAll(async () => {
    exp = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-readahead-'));
    for (let d = 0; d < 4; d++) {
      fs.mkdirSync(path.join(exp, 'p', `d${d}`), { recursive: true });
      for (let f = 0; f < 5; f++) fs.writeFileSync(path.join(exp, 'p', `d${d}`, `f${f}`), `${d}.${f}`);
    }
    gofer = await GoferProcess.start(['--root', exp]);
  });
  afterAll(async () => {
    await gofer.stop();
    fs.rmSync(exp, { recursive: true, force: true });
  });
  beforeEach(() => {
    client = Client.overFd(connectUnix(gofer.socketPath));
  });
  afterEach(() => client.close());

  const names = (r: { entries: Array<{ name: string }> | null } | null) => (r?.entries ?? []).map((e) => e.name).sort();
  const dirP = (revalidate = false) => {
    const gfs = new GoferFs(client, '', false, revalidate);
    return { gfs, p: gfs.root.lookup('p') as GoferInode };
  };

  it('a listing read ahead answers the lookup of its name with no request of its own', () => {
    const { gfs, p } = dirP();
    p.readahead('d1', 100);
    expect(gfs.ahead?.pending.name).toBe('d1');
    const before = client.engine.requested;
    const got = p.lookupListing('d1', 100);
    expect(client.engine.requested).toBe(before);
    expect(gfs.ahead).toBeNull();
    expect(names(got)).toEqual(['f0', 'f1', 'f2', 'f3', 'f4']);
    expect((got!.inode as GoferInode).stat().ino).toBe(fs.statSync(path.join(exp, 'p', 'd1')).ino);
    // A listed entry's inode (a directory named by p's listing, not walked to yet) takes it
    // through listChildren the same way.
    const listed = new Map(p.listChildren(100)!.map((e) => [e.name, e.inode as GoferInode]));
    p.readahead('d2', 100, undefined, listed.get('d2'));
    const n = client.engine.requested;
    expect(names({ entries: listed.get('d2')!.listChildren(100) })).toEqual(['f0', 'f1', 'f2', 'f3', 'f4']);
    expect(client.engine.requested).toBe(n);
  });

  it('is dropped when another request went to the gofer since: a change made in between is seen', () => {
    const { gfs, p } = dirP();
    p.readahead('d3', 100);
    const pending = gfs.ahead!.pending;
    // The sandbox creates a file in d3 (any request but a clunk ends the read-ahead's trust).
    const w = client.sync.walk(p.fid, 'd3');
    const made = client.sync.lcreate(w.fid, 'new', 0, 0o644);
    if (made.hostFd >= 0) fs.closeSync(made.hostFd);
    client.sync.clunk(w.fid);
    const before = client.engine.requested;
    const got = p.lookupListing('d3', 100);
    expect(client.engine.requested).toBe(before + 2); // walked and listed afresh
    expect(names(got)).toContain('new');
    // The dropped one's fid was clunked: the gofer no longer knows it.
    client.sync.getattr(p.fid);
    expect(() => client.sync.getattr(pending.newfid)).toThrow();
    fs.rmSync(path.join(exp, 'p', 'd3', 'new'));
  });

  it('is dropped for another name, more entries than the lookup allows, or its directory evicted; refused for a walked child and on a bind mount', () => {
    const { gfs, p } = dirP();
    p.readahead('d1', 100);
    let before = client.engine.requested;
    expect(names(p.lookupListing('d2', 100))).toEqual(['f0', 'f1', 'f2', 'f3', 'f4']);
    expect(client.engine.requested).toBe(before + 2);
    expect(gfs.ahead).toBeNull();
    p.readahead('d1', 100);
    before = client.engine.requested;
    p.lookupListing('d1', 50);
    expect(client.engine.requested).toBe(before + 2);
    p.readahead('d1', 100);
    expect(gfs.ahead).not.toBeNull();
    p.evict();
    expect(gfs.ahead).toBeNull();
    // A child walked to already (it may hold files open: never read ahead).
    const { gfs: g2, p: p2 } = dirP();
    p2.readahead('d0', 100, undefined, p2.lookup('d0'));
    expect(g2.ahead).toBeNull();
    // A bind mount's names change behind the sandbox: nothing is read ahead.
    const { gfs: g3, p: p3 } = dirP(true);
    p3.readahead('d0', 100);
    expect(g3.ahead).toBeNull();
  });
});
