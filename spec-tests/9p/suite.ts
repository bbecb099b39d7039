/**
 * The operation suite of the 9P client against a real server: every operation is
 * checked against what the host file system shows. One suite, run against each peer
 * (client-diod.test.ts, client-gofer.test.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Errno } from '../../native/libc';
import { Client, readAll } from '../../gofer/p9/client';
import { GetattrMask, LockStatus, LockType, QidType, SetattrMask } from '../../gofer/p9';
import type { Peer } from './peers';

const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_EXCL = 0o200, O_DIRECTORY = 0o200000;
const AT_REMOVEDIR = 0x200;
const S_IFMT = 0o170000, S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000;

/** populate fills an export with the tree the suite expects. */
export function populate(dir: string): void {
  fs.mkdirSync(path.join(dir, 'sub/nested'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello, 9p\n');
  fs.writeFileSync(path.join(dir, 'sub/nested/deep.txt'), 'deep\n');
  const big = Buffer.alloc(3 * 1024 * 1024 + 123);
  for (let i = 0; i + 4 <= big.length; i += 4) big.writeUInt32LE(Math.imul(i, 2654435761) >>> 0, i);
  fs.writeFileSync(path.join(dir, 'big.bin'), big);
  for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(dir, 'sub', `f${i}`), `file ${i}\n`);
  fs.symlinkSync('hello.txt', path.join(dir, 'link'));
}

/**
 * operationSuite defines the suite for one peer; `why` non-empty skips it with that
 * reason. `start` serves the given directory.
 */
export function operationSuite(title: string, why: string, start: (dir: string) => Promise<Peer>): void {
  if (why) console.warn(`skipping "${title}": ${why}`);
  (why ? describe.skip : describe)(title, () => {
    let dir: string;
    let peer: Peer;
    let c: Client;
    let root: number;
    const host = (p: string) => path.join(dir, p);

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-9p-suite-'));
      populate(dir);
      peer = await start(dir);
      c = await peer.connect();
      root = (await c.attach(peer.aname)).fid;
    });

    afterAll(async () => {
      c?.close();
      await peer?.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    /** open walks to p and opens it; a passed host descriptor is closed here. */
    async function open(p: string, flags: number): Promise<number> {
      const w = await c.walk(root, p);
      const o = await c.lopen(w.fid, flags);
      if (o.hostFd >= 0) fs.closeSync(o.hostFd);
      return w.fid;
    }

    it('attaches to the export root', async () => {
      const a = await c.getattr(root);
      expect(a.qid.type & QidType.DIR).toBe(QidType.DIR);
      expect(a.mode).toBe(fs.statSync(dir).mode);
    });

    it('walks several names at once; getattr matches the host', async () => {
      const w = await c.walk(root, 'sub/nested/deep.txt');
      expect(w.qids.map((q) => q.type & QidType.DIR)).toEqual([QidType.DIR, QidType.DIR, 0]);
      const a = await c.getattr(w.fid, GetattrMask.BASIC);
      const st = fs.statSync(host('sub/nested/deep.txt'));
      expect(a.mode).toBe(st.mode);
      expect(a.size).toBe(st.size);
      expect(a.nlink).toBe(st.nlink);
      expect(a.uid).toBe(st.uid);
      expect(a.mtimeSec).toBe(Math.floor(st.mtimeMs / 1000));
      const clone = await c.walk(w.fid, []);
      expect((await c.getattr(clone.fid)).size).toBe(st.size);
      await Promise.all([c.clunk(w.fid), c.clunk(clone.fid)]);
    });

    it('lists directories as the host does (readdir)', async () => {
      const fid = await open('sub', O_RDONLY | O_DIRECTORY);
      const entries = await c.readdirAll(fid);
      const names = entries.map((e) => e.name).filter((n) => n !== '.' && n !== '..');
      expect(names.sort()).toEqual(fs.readdirSync(host('sub')).sort());
      const nested = entries.find((e) => e.name === 'nested')!;
      expect(nested.qid.type & QidType.DIR).toBe(QidType.DIR);
      await c.clunk(fid);
    });

    it('reads files byte for byte, with pipelined reads across msize', async () => {
      const small = await open('hello.txt', O_RDONLY);
      expect((await c.read(small, 0, 100)).toString()).toBe(fs.readFileSync(host('hello.txt'), 'utf8'));
      expect((await c.read(small, 7, 100)).toString()).toBe('9p\n');
      expect((await c.read(small, 1000, 100)).length).toBe(0);
      const big = await open('big.bin', O_RDONLY);
      const expected = fs.readFileSync(host('big.bin'));
      const got = await readAll(c, big, expected.length + 1000, 4);
      expect(got.length).toBe(expected.length);
      expect(Buffer.compare(got, expected)).toBe(0);
      await Promise.all([c.clunk(small), c.clunk(big)]);
    });

    it('creates files and writes them (lcreate, write)', async () => {
      const d = await c.walk(root, []);
      const o = await c.lcreate(d.fid, 'created.txt', O_RDWR, 0o640);
      if (o.hostFd >= 0) fs.closeSync(o.hostFd);
      expect(o.qid.type & QidType.DIR).toBe(0);
      const data = Buffer.from('written through 9p\n');
      expect(await c.write(d.fid, 0, data)).toBe(data.length);
      expect(await c.write(d.fid, data.length, Buffer.from('more'))).toBe(4);
      await c.fsync(d.fid);
      await c.clunk(d.fid);
      expect(fs.readFileSync(host('created.txt'), 'utf8')).toBe('written through 9p\nmore');
      expect(fs.statSync(host('created.txt')).mode & 0o7777).toBe(0o640);
      const again = await c.walk(root, []);
      await expect(c.lcreate(again.fid, 'created.txt', O_RDWR | O_EXCL | O_CREAT, 0o644)).rejects.toMatchObject({ errno: Errno.EEXIST });
      await c.clunk(again.fid);
    });

    it('writes into an existing file at an offset and truncates it (setattr)', async () => {
      fs.writeFileSync(host('edit.txt'), 'aaaaaaaaaa');
      const fid = await open('edit.txt', O_WRONLY);
      expect(await c.write(fid, 3, Buffer.from('BBB'))).toBe(3);
      expect(fs.readFileSync(host('edit.txt'), 'utf8')).toBe('aaaBBBaaaa');
      await c.setattr(fid, { valid: SetattrMask.SIZE, size: 4 });
      expect(fs.readFileSync(host('edit.txt'), 'utf8')).toBe('aaaB');
      await c.setattr(fid, { valid: SetattrMask.MODE, mode: 0o600 });
      expect(fs.statSync(host('edit.txt')).mode & 0o7777).toBe(0o600);
      await c.clunk(fid);
    });

    it('makes directories (mkdir)', async () => {
      const qid = await c.mkdir(root, 'newdir', 0o750);
      expect(qid.type & QidType.DIR).toBe(QidType.DIR);
      const st = fs.statSync(host('newdir'));
      expect(st.mode & S_IFMT).toBe(S_IFDIR);
      expect(st.mode & 0o7777).toBe(0o750);
      await expect(c.mkdir(root, 'newdir', 0o755)).rejects.toMatchObject({ errno: Errno.EEXIST, message: 'mkdir newdir: EEXIST' });
    });

    it('renames files (rename and renameat)', async () => {
      fs.writeFileSync(host('r1.txt'), 'one');
      fs.mkdirSync(host('rdir'));
      const f = await c.walk(root, 'r1.txt');
      const d = await c.walk(root, 'rdir');
      await c.rename(f.fid, d.fid, 'r2.txt');
      expect(fs.existsSync(host('r1.txt'))).toBe(false);
      expect(fs.readFileSync(host('rdir/r2.txt'), 'utf8')).toBe('one');
      if (peer.quirks?.noAtOps) {
        await expect(c.renameat(d.fid, 'r2.txt', root, 'r3.txt')).rejects.toMatchObject({ errno: Errno.EOPNOTSUPP });
        await c.rename(f.fid, root, 'r3.txt');
      } else {
        await c.renameat(d.fid, 'r2.txt', root, 'r3.txt');
      }
      expect(fs.readdirSync(host('rdir'))).toEqual([]);
      expect(fs.readFileSync(host('r3.txt'), 'utf8')).toBe('one');
      await Promise.all([c.clunk(f.fid), c.clunk(d.fid)]);
    });

    it('unlinks files and directories (unlinkat, remove)', async () => {
      fs.mkdirSync(host('gone/inner'), { recursive: true });
      fs.writeFileSync(host('gone/file'), 'x');
      if (peer.quirks?.noAtOps) {
        await expect(c.unlinkat(root, 'gone', AT_REMOVEDIR)).rejects.toMatchObject({ errno: Errno.EOPNOTSUPP });
        const full = await c.walk(root, 'gone');
        await expect(c.remove(full.fid)).rejects.toMatchObject({ errno: Errno.ENOTEMPTY });
        for (const p of ['gone/file', 'gone/inner']) await c.remove((await c.walk(root, p)).fid);
      } else {
        const d = await c.walk(root, 'gone');
        await expect(c.unlinkat(root, 'gone', AT_REMOVEDIR)).rejects.toMatchObject({ errno: Errno.ENOTEMPTY });
        await expect(c.unlinkat(root, 'not-there', 0)).rejects.toMatchObject({ errno: Errno.ENOENT, message: 'unlinkat not-there: ENOENT' });
        await c.unlinkat(d.fid, 'file', 0);
        await c.unlinkat(d.fid, 'inner', AT_REMOVEDIR);
        await c.clunk(d.fid);
      }
      expect(fs.readdirSync(host('gone'))).toEqual([]);
      await c.remove((await c.walk(root, 'gone')).fid);
      expect(fs.existsSync(host('gone'))).toBe(false);
      fs.writeFileSync(host('removed.txt'), 'x');
      await c.remove((await c.walk(root, 'removed.txt')).fid);
      expect(fs.existsSync(host('removed.txt'))).toBe(false);
    });

    it('makes and reads symbolic links and hard links', async () => {
      const l = await c.walk(root, 'link');
      expect(l.qids[0].type & QidType.SYMLINK).toBe(QidType.SYMLINK);
      expect(await c.readlink(l.fid)).toBe(fs.readlinkSync(host('link')));
      expect((await c.getattr(l.fid)).mode & S_IFMT).toBe(S_IFLNK);
      await c.symlink(root, 'link2', 'sub/nested/deep.txt');
      expect(fs.readlinkSync(host('link2'))).toBe('sub/nested/deep.txt');
      fs.writeFileSync(host('orig.txt'), 'linked');
      const o = await c.walk(root, 'orig.txt');
      await c.link(root, o.fid, 'hard.txt');
      expect(fs.statSync(host('hard.txt')).ino).toBe(fs.statSync(host('orig.txt')).ino);
      expect((await c.getattr(o.fid)).nlink).toBe(2);
      await Promise.all([c.clunk(l.fid), c.clunk(o.fid)]);
    });

    it('answers errors with the errno the host gives', async () => {
      await expect(c.walk(root, 'no/such/file')).rejects.toMatchObject({ errno: Errno.ENOENT, message: 'walk no/such/file: ENOENT' });
      const partial = c.walk(root, 'sub/missing');
      await expect(partial).rejects.toMatchObject({ errno: Errno.ENOENT });
      await expect(partial.catch((e) => e.qids.length)).resolves.toBe(1);
      await expect(c.mkdir(root, 'hello.txt', 0o755)).rejects.toMatchObject({ errno: Errno.EEXIST });
      // The connection carries on.
      expect((await c.getattr(root)).mode & S_IFMT).toBe(S_IFDIR);
    });

    it('reports file system statistics, and takes locks', async () => {
      const s = await c.statfs(root);
      const host = fs.statfsSync(dir);
      expect(s.bsize).toBe(host.bsize);
      expect(s.fsType).toBe(peer.quirks?.statfsType ?? host.type);
      expect(s.blocks).toBe(host.blocks);
      fs.writeFileSync(path.join(dir, 'locked.txt'), 'x');
      const fid = await open('locked.txt', O_RDWR);
      expect(await c.lock(fid, { lockType: LockType.WRLCK, start: 0, length: 1, procId: 1, clientId: 'test' })).toBe(LockStatus.SUCCESS);
      expect(await c.lock(fid, { lockType: LockType.UNLCK, start: 0, length: 1, procId: 1, clientId: 'test' })).toBe(LockStatus.SUCCESS);
      const g = await c.getlock(fid, { lockType: LockType.WRLCK, start: 0, length: 1, procId: 1, clientId: 'test' });
      expect(g.lockType).toBe(LockType.UNLCK);
      await c.clunk(fid);
      expect(fs.statSync(path.join(dir, 'locked.txt')).mode & S_IFMT).toBe(S_IFREG);
    });
  });
}
