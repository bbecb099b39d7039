/**
 * Unit tests of a connection's host watches (watches.ts) and of what a request counts as
 * its own (handlers/notify.ts ownChanges): the host's events that come while a request
 * is handled are dropped only where that request changed the same file or the same name
 * in the same directory. Before, every event of a watched file itself was dropped with
 * any changing request, so that a host unlink racing a sandbox's create elsewhere lost
 * its IN_ATTRIB (and the sandbox's synthesized IN_DELETE_SELF): a watcher hung.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as sys from '../hostfs/sys';
import * as inotify from '../hostfs/inotify';
import type { Message, Note, RequestName } from '../p9';
import type { Export } from './export';
import { File, procSelfFd } from './file';
import { ownChanges } from './handlers/notify';
import type { Session } from './session';
import { hostKey, WatchTable } from './watches';

const IN_MODIFY = 0x2, IN_ATTRIB = 0x4, IN_CLOSE_WRITE = 0x8, IN_CREATE = 0x100;

describe('host watches: a request drops only its own echo', () => {
  const cwd = process.cwd();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-watches-'));
  const files: File[] = [];
  /** open makes a File of `rel` under base (its parent given), as a walk would. */
  const open = (rel: string, parent: File | null): File => {
    const fd = sys.openat(sys.AT_FDCWD, path.join(base, rel), sys.O_PATH | sys.O_CLOEXEC);
    expect(fd).toBeGreaterThanOrEqual(0);
    const st = sys.fstat(fd) as sys.Stat;
    const f = new File({} as Export, fd, st.mode, { type: 0, version: 0, path: st.ino }, parent, path.basename(rel));
    files.push(f);
    return f;
  };
  const session = (fids: File[]): Session => ({ fids: new Map(fids.map((file, i) => [i + 1, { file }])) }) as unknown as Session;
  const msg = (m: Record<string, unknown>): Message<RequestName> => ({ tag: 1, ...m }) as unknown as Message<RequestName>;
  /** queued takes what the table holds, as [wd, mask, name]. */
  const queued = (w: WatchTable): Array<[number, number, string]> => w.take().map((e: Note) => [e.wd, e.mask, e.name]);

  beforeAll(() => {
    for (const d of ['sub1', 'sub2']) fs.mkdirSync(path.join(base, d));
    for (const f of ['f', 'g']) fs.writeFileSync(path.join(base, f), 'x');
    // addWatch names a descriptor by its number in the working directory (/proc/self/fd).
    expect(inotify.enterProcFd(procSelfFd())).toBe(0);
  });
  afterAll(() => {
    process.chdir(cwd);
    for (const f of files) sys.close(f.fd);
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('keeps the host\'s events of other files and of the same name in another directory', () => {
    const root = open('', null);
    const sub1 = open('sub1', root), sub2 = open('sub2', root), f = open('f', root), g = open('g', root);
    const w = new WatchTable();
    const wdSub2 = w.add(sub2), wdF = w.add(f), wdG = w.add(g);
    expect(Math.min(wdSub2, wdF, wdG)).toBeGreaterThan(0);
    expect(hostKey(f.fd)).not.toBeNull();

    // The sandbox creates sub1/x and chmods g; meanwhile the host makes sub2/x and
    // unlinks f (its watch sees IN_ATTRIB: the descriptor here keeps it alive).
    const create = ownChanges(session([sub1]), msg({ kind: 'Tlcreate', fid: 1, name: 'x', flags: 0, mode: 0, gid: 0 }));
    const chmod = ownChanges(session([g]), msg({ kind: 'Tsetattr', fid: 1 }));
    w.drain(null);
    fs.writeFileSync(path.join(base, 'sub2', 'x'), '');
    fs.unlinkSync(path.join(base, 'f'));
    w.drain(create);
    fs.chmodSync(path.join(base, 'g'), 0o600);
    w.drain(chmod);
    expect(queued(w)).toEqual([[wdSub2, IN_CREATE, 'x'], [wdSub2, IN_CLOSE_WRITE, 'x'], [wdF, IN_ATTRIB, '']]);

    // The same name in the same directory, and the same file itself, are the request's.
    const write = ownChanges(session([sub2]), msg({ kind: 'Tlcreate', fid: 1, name: 'y', flags: 0, mode: 0, gid: 0 }));
    fs.writeFileSync(path.join(base, 'sub2', 'y'), 'mine');
    fs.appendFileSync(path.join(base, 'g'), 'theirs');
    w.drain(write);
    expect(queued(w)).toEqual([[wdG, IN_MODIFY, ''], [wdG, IN_CLOSE_WRITE, '']]);

    // An unlink's victim is named by its inode: its own events are the request's.
    const unlink = ownChanges(session([root]), msg({ kind: 'Tunlinkat', dirFid: 1, name: 'g', flags: 0 }));
    fs.unlinkSync(path.join(base, 'g'));
    w.drain(unlink);
    expect(queued(w)).toEqual([]);

    // A barrier names no directory nor file: that name anywhere and every file itself.
    fs.writeFileSync(path.join(base, 'sub2', 'z'), '');
    w.drain({ entries: [[null, 'z']], files: null });
    expect(queued(w)).toEqual([]);
    w.close();
  });

  it('counts nothing as its own for a request that changes nothing', () => {
    expect(ownChanges(session([]), msg({ kind: 'Tgetattr', fid: 1, requestMask: 0 }))).toBeNull();
    // A fid not held names nothing: no entry's directory is known, nothing is dropped by it.
    expect(ownChanges(session([]), msg({ kind: 'Tsetattr', fid: 9 }))).toEqual({ entries: [], files: [] });
  });
});
