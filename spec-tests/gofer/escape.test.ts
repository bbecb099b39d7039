/**
 * Escape tests: nothing a 9P client sends makes the gofer read, write or create
 * anything outside its export. The export holds symlinks pointing out of it (to
 * /etc/shadow, to ../../.., to a sibling directory with a secret); the sibling and
 * /etc/shadow are checked unchanged afterwards. Extended attributes outside the "user."
 * namespace are neither read nor set (python3 sets and reads them on the host side).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { built, errnoOf, escapeGofer, expectKind, GoferProcess, makeEscapeTree, snapshot, type RawConn } from './harness';
import { Errno } from '../../native/libc';
import type { Message } from '../../gofer/p9';

const describeBuilt = built ? describe : describe.skip;
if (!built) console.warn('skipping gofer escape tests: bin/tvisor is not built (run make)');

const makeTree = () => makeEscapeTree('tvisor-escape-');

const O_WRONLY = 1, O_RDWR = 2, O_TRUNC = 0o1000;
const S_IFCHR = 0o020000, S_IFBLK = 0o060000, S_IFIFO = 0o010000;

describeBuilt('gofer confinement', () => {
  let tree: ReturnType<typeof makeTree>;
  let gofer: GoferProcess;
  let c: RawConn;
  let outsideBefore: string[];
  let shadowBefore: fs.Stats;
  let fid = 100;

  const walk = (from: number, names: string[]) => c.rpc({ kind: 'Twalk', fid: from, newfid: ++fid, names });
  const walkTo = async (names: string[]): Promise<number> => {
    const r = await walk(0, names);
    expectKind(r, 'Rwalk');
    expect(r.qids).toHaveLength(names.length);
    return fid;
  };

  beforeAll(async () => {
    tree = makeTree();
    outsideBefore = snapshot(tree.outside);
    shadowBefore = fs.statSync('/etc/shadow');
    gofer = await GoferProcess.start(['--root', tree.exp]);
    c = await gofer.connect();
    await c.handshake();
  });

  afterAll(async () => {
    c?.close();
    await gofer?.stop();
    expect(snapshot(tree.outside)).toEqual(outsideBefore);
    const shadowAfter = fs.statSync('/etc/shadow');
    expect([shadowAfter.mode, shadowAfter.uid, shadowAfter.gid, shadowAfter.nlink, shadowAfter.size, shadowAfter.mtimeMs])
      .toEqual([shadowBefore.mode, shadowBefore.uid, shadowBefore.gid, shadowBefore.nlink, shadowBefore.size, shadowBefore.mtimeMs]);
    expect(fs.readdirSync(tree.base).sort()).toEqual(['export', 'outside']);
    fs.rmSync(tree.base, { recursive: true, force: true });
  });

  it('returns a symlink to /etc/shadow as a symlink and never opens its target', async () => {
    const f = await walkTo(['link-shadow']);
    const attr = await c.rpc({ kind: 'Tgetattr', fid: f, requestMask: 0x7ff });
    expectKind(attr, 'Rgetattr');
    expect(attr.mode & 0o170000).toBe(0o120000);
    const rl = await c.rpc({ kind: 'Treadlink', fid: f });
    expectKind(rl, 'Rreadlink');
    expect(rl.target).toBe('/etc/shadow');
    expect(errnoOf(await c.rpc({ kind: 'Tlopen', fid: f, flags: 0 }))).toBe(Errno.ELOOP);
    const x = await c.rpc({ kind: 'Txattrwalk', fid: f, newfid: ++fid, name: 'user.x' });
    expect(errnoOf(x)).toBe(Errno.ENODATA);
    // Outside the "user." namespace nothing is read, whatever the file.
    expect(errnoOf(await c.rpc({ kind: 'Txattrwalk', fid: f, newfid: ++fid, name: 'security.selinux' }))).toBe(Errno.EOPNOTSUPP);
  });

  it('does not walk through symlinks, even relative ones', async () => {
    for (const names of [['link-dir', 'secret.txt'], ['link-up', 'etc'], ['link-up', 'tmp']]) {
      const r = await walk(0, names);
      expectKind(r, 'Rwalk');
      expect(r.qids).toHaveLength(1); // stops at the symlink
    }
  });

  it('keeps .. at the export root', async () => {
    const root = await c.rpc({ kind: 'Tgetattr', fid: 0, requestMask: 0x7ff });
    expectKind(root, 'Rgetattr');
    const r = await walk(0, ['..', '..', '..', 'etc', 'passwd']);
    expectKind(r, 'Rwalk');
    expect(r.qids).toHaveLength(3);
    for (const q of r.qids) expect(q.path).toBe(root.qid.path);
    const r2 = await walk(0, ['sub', '..', '..', 'outside']);
    expectKind(r2, 'Rwalk');
    expect(r2.qids.map((q) => q.path)).toEqual([r2.qids[0].path, root.qid.path, root.qid.path]);
    const f = await walkTo(['sub', '..', '..']);
    const a = await c.rpc({ kind: 'Tgetattr', fid: f, requestMask: 0x7ff });
    expectKind(a, 'Rgetattr');
    expect(a.qid.path).toBe(root.qid.path);
  });

  it('refuses names with a slash or a NUL, and empty names', async () => {
    for (const name of ['../outside', 'sub/../..', '/etc', 'a\0b', '']) {
      expect(errnoOf(await walk(0, [name]))).toBe(Errno.EINVAL);
    }
  });

  it('refuses renames, links and creations towards outside', async () => {
    const file = await walkTo(['file.txt']);
    const cases: Array<Promise<Message>> = [
      c.rpc({ kind: 'Trenameat', oldDirFid: 0, oldName: 'file.txt', newDirFid: 0, newName: '../outside/x' }),
      c.rpc({ kind: 'Trenameat', oldDirFid: 0, oldName: '../outside/secret.txt', newDirFid: 0, newName: 'stolen' }),
      c.rpc({ kind: 'Trename', fid: file, dfid: 0, name: '../../x' }),
      c.rpc({ kind: 'Tlink', dfid: 0, fid: file, name: '../outside/hard' }),
      c.rpc({ kind: 'Tmkdir', dfid: 0, name: '../made', mode: 0o755, gid: 0 }),
      c.rpc({ kind: 'Tsymlink', fid: 0, name: '../sym', target: 'x', gid: 0 }),
      c.rpc({ kind: 'Tunlinkat', dirFid: 0, name: '../outside/secret.txt', flags: 0 }),
      c.rpc({ kind: 'Tmkdir', dfid: 0, name: '..', mode: 0o755, gid: 0 }),
    ];
    for (const r of await Promise.all(cases)) expect(errnoOf(r)).toBe(Errno.EINVAL);
  });

  it('does not create or truncate through an existing symlink', async () => {
    const dir = await walkTo([]);
    const r = await c.rpc({ kind: 'Tlcreate', fid: dir, name: 'link-outside', flags: O_WRONLY | O_TRUNC, mode: 0o644, gid: 0 });
    expect(errnoOf(r)).toBe(Errno.ELOOP);
    const link = await walkTo(['link-outside']);
    const t = await c.rpc({ kind: 'Tsetattr', fid: link, valid: 0x8, mode: 0, uid: 0, gid: 0, size: 0, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0 });
    expect(errnoOf(t)).toBe(Errno.ELOOP);
    const m = await c.rpc({ kind: 'Tsetattr', fid: link, valid: 0x1, mode: 0o777, uid: 0, gid: 0, size: 0, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0 });
    expect(errnoOf(m)).toBe(Errno.EOPNOTSUPP);
  });

  it('links a symlink as the symlink itself, not its target', async () => {
    const link = await walkTo(['link-shadow']);
    expectKind(await c.rpc({ kind: 'Tlink', dfid: 0, fid: link, name: 'hard-shadow' }), 'Rlink');
    const st = fs.lstatSync(path.join(tree.exp, 'hard-shadow'));
    expect(st.isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(path.join(tree.exp, 'hard-shadow'))).toBe('/etc/shadow');
  });

  it('stores absolute symlink targets without resolving them', async () => {
    expectKind(await c.rpc({ kind: 'Tsymlink', fid: 0, name: 'evil', target: '/etc', gid: 0 }), 'Rsymlink');
    const r = await walk(0, ['evil', 'passwd']);
    expectKind(r, 'Rwalk');
    expect(r.qids).toHaveLength(1);
    expect(fs.readlinkSync(path.join(tree.exp, 'evil'))).toBe('/etc');
  });

  it('refuses device nodes but makes FIFOs', async () => {
    for (const mode of [S_IFCHR | 0o666, S_IFBLK | 0o600]) {
      const r = await c.rpc({ kind: 'Tmknod', dfid: 0, name: 'dev', mode, major: 1, minor: 3, gid: 0 });
      expect(errnoOf(r)).toBe(Errno.EPERM);
    }
    expect(fs.existsSync(path.join(tree.exp, 'dev'))).toBe(false);
    expectKind(await c.rpc({ kind: 'Tmknod', dfid: 0, name: 'fifo', mode: S_IFIFO | 0o644, major: 0, minor: 0, gid: 0 }), 'Rmknod');
    expect(fs.lstatSync(path.join(tree.exp, 'fifo')).isFIFO()).toBe(true);
  });

  it('reads and sets only "user." attributes: trusted. and security. (file capabilities) are refused and never listed', async () => {
    const file = path.join(tree.exp, 'file');
    const py = (code: string) => execFileSync('python3', ['-c', `import os, sys\n${code}`, file], { encoding: 'utf8' });
    // The host (root) gives the file a trusted. attribute the sandbox must not see.
    py("os.setxattr(sys.argv[1], 'trusted.hidden', b'host'); os.setxattr(sys.argv[1], 'user.seen', b'yes')");
    const f = await walkTo(['file']);
    const list = await c.rpc({ kind: 'Txattrwalk', fid: f, newfid: ++fid, name: '' });
    expectKind(list, 'Rxattrwalk');
    const names = await c.rpc({ kind: 'Tread', fid, offset: 0, count: 4096 });
    expectKind(names, 'Rread');
    expect(names.data.toString('latin1')).toBe('user.seen\0');
    for (const name of ['trusted.hidden', 'security.capability', 'system.posix_acl_access']) {
      expect(errnoOf(await c.rpc({ kind: 'Txattrwalk', fid: f, newfid: ++fid, name }))).toBe(Errno.EOPNOTSUPP);
      const w = await walkTo(['file']);
      expect(errnoOf(await c.rpc({ kind: 'Txattrcreate', fid: w, name, attrSize: 4, flags: 0 }))).toBe(Errno.EOPNOTSUPP);
    }
    // A user attribute is set on the host file at the clunk, and removed by a size of 0
    // with XATTR_REPLACE.
    const set = async (name: string, value: Buffer, flags: number) => {
      const w = await walkTo(['file']);
      expectKind(await c.rpc({ kind: 'Txattrcreate', fid: w, name, attrSize: value.length, flags }), 'Rxattrcreate');
      if (value.length) expectKind(await c.rpc({ kind: 'Twrite', fid: w, offset: 0, data: value }), 'Rwrite');
      return c.rpc({ kind: 'Tclunk', fid: w });
    };
    expectKind(await set('user.new', Buffer.from('v1'), 0), 'Rclunk');
    expect(py("print(sorted(os.listxattr(sys.argv[1])), os.getxattr(sys.argv[1], 'user.new'))")).toBe("['trusted.hidden', 'user.new', 'user.seen'] b'v1'\n");
    expectKind(await set('user.new', Buffer.alloc(0), 2), 'Rclunk');
    expect(errnoOf(await set('user.new', Buffer.alloc(0), 2))).toBe(Errno.ENODATA);
    expect(py('print(sorted(os.listxattr(sys.argv[1])))')).toBe("['trusted.hidden', 'user.seen']\n");
  });
});

describeBuilt('gofer read-only export', () => {
  it('answers EROFS to every mutating request and changes nothing', async () => {
    const tree = makeTree();
    const before = snapshot(tree.base);
    const gofer = await GoferProcess.start(['--root', tree.exp, '--ro']);
    const c = await gofer.connect();
    try {
      await c.handshake();
      const w = await c.rpc({ kind: 'Twalk', fid: 0, newfid: 1, names: ['file.txt'] });
      expectKind(w, 'Rwalk');
      const w2 = await c.rpc({ kind: 'Twalk', fid: 0, newfid: 2, names: [] });
      expectKind(w2, 'Rwalk');
      const setattr = { uid: 0, gid: 0, size: 0, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0, mode: 0o777 };
      const mutations: Array<Promise<Message>> = [
        c.rpc({ kind: 'Tlopen', fid: 1, flags: O_WRONLY }),
        c.rpc({ kind: 'Tlopen', fid: 1, flags: O_RDWR }),
        c.rpc({ kind: 'Tlopen', fid: 1, flags: O_TRUNC }),
        c.rpc({ kind: 'Tlcreate', fid: 2, name: 'new', flags: O_WRONLY, mode: 0o644, gid: 0 }),
        c.rpc({ kind: 'Tmkdir', dfid: 0, name: 'newdir', mode: 0o755, gid: 0 }),
        c.rpc({ kind: 'Tsymlink', fid: 0, name: 'newlink', target: 'x', gid: 0 }),
        c.rpc({ kind: 'Tmknod', dfid: 0, name: 'newfifo', mode: S_IFIFO | 0o644, major: 0, minor: 0, gid: 0 }),
        c.rpc({ kind: 'Trename', fid: 1, dfid: 0, name: 'renamed' }),
        c.rpc({ kind: 'Trenameat', oldDirFid: 0, oldName: 'file.txt', newDirFid: 0, newName: 'renamed' }),
        c.rpc({ kind: 'Tunlinkat', dirFid: 0, name: 'file.txt', flags: 0 }),
        c.rpc({ kind: 'Tlink', dfid: 0, fid: 1, name: 'hard' }),
        c.rpc({ kind: 'Tsetattr', fid: 1, valid: 0x1, ...setattr }),
        c.rpc({ kind: 'Tsetattr', fid: 1, valid: 0x8, ...setattr }),
        c.rpc({ kind: 'Tsetattr', fid: 1, valid: 0x6, ...setattr }),
        c.rpc({ kind: 'Tsetattr', fid: 1, valid: 0x30, ...setattr }),
        c.rpc({ kind: 'Txattrcreate', fid: 1, name: 'user.x', attrSize: 1, flags: 0 }),
      ];
      for (const r of await Promise.all(mutations)) expect(errnoOf(r)).toBe(Errno.EROFS);
      // Tremove clunks the fid even though it fails.
      expect(errnoOf(await c.rpc({ kind: 'Tremove', fid: 1 }))).toBe(Errno.EROFS);
      expect(errnoOf(await c.rpc({ kind: 'Tclunk', fid: 1 }))).toBe(Errno.EBADF);
      // Reading still works.
      const r = await c.rpc({ kind: 'Twalk', fid: 0, newfid: 3, names: ['file.txt'] });
      expectKind(r, 'Rwalk');
      expectKind(await c.rpc({ kind: 'Tlopen', fid: 3, flags: 0 }), 'Rlopen');
      const data = await c.rpc({ kind: 'Tread', fid: 3, offset: 0, count: 100 });
      expectKind(data, 'Rread');
      expect(data.data.toString()).toBe('inside\n');
      expect(errnoOf(await c.rpc({ kind: 'Twrite', fid: 3, offset: 0, data: Buffer.from('x') }))).toBe(Errno.EROFS);
    } finally {
      c.close();
      await gofer.stop();
    }
    expect(snapshot(tree.base)).toEqual(before);
    fs.rmSync(tree.base, { recursive: true, force: true });
  });
});

/**
 * `..` from a fid whose host parent has changed since the walk. The gofer's `..` is the
 * directory the fid was walked from: a host parent that now lies outside the export (a
 * directory moved out by the host, or a nested export's directory renamed through the
 * outer export so that the fid sits deeper than its walk) must not become reachable.
 */
describeBuilt('gofer confinement: .. after renames', () => {
  let base: string;
  let gofer: GoferProcess | undefined;
  let c: RawConn | undefined;

  beforeEach(() => {
    base = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'tvisor-escape-dotdot-'));
    fs.mkdirSync(path.join(base, 'outside'));
    fs.writeFileSync(path.join(base, 'outside', 'secret.txt'), 'TOP SECRET\n');
  });

  afterEach(async () => {
    c?.close();
    await gofer?.stop();
    c = gofer = undefined;
    expect(fs.readFileSync(path.join(base, 'outside', 'secret.txt'), 'utf8')).toBe('TOP SECRET\n');
    fs.rmSync(base, { recursive: true, force: true });
  });

  /** expectStopsShort: a walk that fails past its first name answers the qids walked so far. */
  const expectStopsShort = (r: Message, names: string[]) => {
    expectKind(r, 'Rwalk');
    expect(r.qids.length).toBeLessThan(names.length);
  };

  const qidOf = async (conn: RawConn, fid: number): Promise<bigint> => {
    const a = await conn.rpc({ kind: 'Tgetattr', fid, requestMask: 0x7ff });
    expectKind(a, 'Rgetattr');
    return a.qid.path;
  };

  it('a directory moved out of the export by the host: .. stops at the export root', async () => {
    const exp = path.join(base, 'export');
    fs.mkdirSync(path.join(exp, 'deep', 'a', 'b'), { recursive: true });
    gofer = await GoferProcess.start(['--root', exp]);
    c = await gofer.connect();
    await c.handshake();
    expectKind(await c.rpc({ kind: 'Twalk', fid: 0, newfid: 1, names: ['deep', 'a', 'b'] }), 'Rwalk');
    // The host moves the walked directories beside the secret.
    fs.renameSync(path.join(exp, 'deep'), path.join(base, 'outside', 'deep'));
    const up = await c.rpc({ kind: 'Twalk', fid: 1, newfid: 2, names: ['..', '..', '..', '..', '..'] });
    expectKind(up, 'Rwalk');
    expect(await qidOf(c, 2)).toBe(await qidOf(c, 0));
    for (const names of [['..', '..', '..', 'secret.txt'], ['..', '..', '..', '..', 'outside', 'secret.txt']]) {
      expectStopsShort(await c.rpc({ kind: 'Twalk', fid: 1, newfid: 3, names }), names);
    }
  });

  it('a nested export\'s directory renamed through the outer export: .. stays in the nested export', async () => {
    const data = path.join(base, 'data');
    fs.mkdirSync(path.join(data, 'sub', 'x', 'y', 'z', 'd', 'e'), { recursive: true });
    gofer = await GoferProcess.start(['--root', data, '--export', `/sub=${path.join(data, 'sub')}`]);
    c = await gofer.connect();
    await c.handshake('/sub');
    const outer = await c.rpc({ kind: 'Tattach', fid: 50, afid: 0xffffffff, uname: 'root', aname: '/', nUname: 0 });
    expectKind(outer, 'Rattach');
    expectKind(await c.rpc({ kind: 'Twalk', fid: 0, newfid: 1, names: ['x', 'y', 'z', 'd', 'e'] }), 'Rwalk');
    // Through the outer export, move sub/x/y/z/d up to the outer export's root.
    expectKind(await c.rpc({ kind: 'Twalk', fid: 50, newfid: 51, names: ['sub', 'x', 'y', 'z'] }), 'Rwalk');
    expectKind(await c.rpc({ kind: 'Trenameat', oldDirFid: 51, oldName: 'd', newDirFid: 50, newName: 'd' }), 'Rrenameat');
    // Six `..` from e: back to the nested export's root, and no further.
    const up = await c.rpc({ kind: 'Twalk', fid: 1, newfid: 2, names: ['..', '..', '..', '..', '..', '..'] });
    expectKind(up, 'Rwalk');
    expect(await qidOf(c, 2)).toBe(await qidOf(c, 0));
    const probe = path.relative('/', path.join(base, 'outside'));
    const names = [...Array(12).fill('..'), ...probe.split('/'), 'secret.txt'];
    expect(names.length).toBeLessThanOrEqual(16); // one Twalk carries at most 16 names
    expectStopsShort(await c.rpc({ kind: 'Twalk', fid: 1, newfid: 3, names }), names);
  });
});

/**
 * Twalkstat (9P2000.L.fd) walks several names and reads each one's attributes in one
 * request: it is confined exactly as Twalk is (no symlink followed, `..` stops at the
 * export root and is the directory walked from, names with a slash or NUL refused), and
 * its fids are checked before anything is walked.
 */
describeBuilt('gofer confinement: Twalkstat', () => {
  const NOFID = 0xffffffff;
  const g = escapeGofer('tvisor-escape-');
  const walkstat = (fid: number, names: string[], newfids: number[] = names.map(() => NOFID)) =>
    g.c.rpc({ kind: 'Twalkstat', fid, newfids, names });

  it('keeps .. at the export root and answers each name\'s attributes', async () => {
    const root = await g.c.rpc({ kind: 'Tgetattr', fid: 0, requestMask: 0x7ff });
    expectKind(root, 'Rgetattr');
    const r = await walkstat(0, ['..', '..', '..', 'etc', 'passwd']);
    expectKind(r, 'Rwalkstat');
    expect(r.attrs).toHaveLength(3); // etc is not in the export
    for (const a of r.attrs) expect(a.qid.path).toBe(root.qid.path);
    const r2 = await walkstat(0, ['sub', '..', '..', 'file.txt'], [NOFID, NOFID, 7, 8]);
    expectKind(r2, 'Rwalkstat');
    expect(r2.attrs.map((a) => a.qid.path)).toEqual([r2.attrs[0].qid.path, root.qid.path, root.qid.path, r2.attrs[3].qid.path]);
    expect(r2.attrs[3].size).toBe(fs.statSync(path.join(g.tree.exp, 'file.txt')).size);
    const kept = await g.c.rpc({ kind: 'Tgetattr', fid: 7, requestMask: 0x7ff });
    expectKind(kept, 'Rgetattr');
    expect(kept.qid.path).toBe(root.qid.path);
    const rd = await g.c.rpc({ kind: 'Tread', fid: 8, offset: 0, count: 100 });
    expect(errnoOf(rd)).toBe(Errno.EBADF); // a walked fid, not an opened one
  });

  it('does not walk through symlinks: the chain stops at the link', async () => {
    for (const names of [['link-dir', 'secret.txt'], ['link-up', 'etc'], ['link-shadow', 'x'], ['sub', '..', 'link-dir', 'secret.txt']]) {
      const r = await walkstat(0, names);
      expectKind(r, 'Rwalkstat');
      expect(r.attrs).toHaveLength(names.indexOf(names.find((n) => n.startsWith('link'))!) + 1);
      expect(r.attrs[r.attrs.length - 1].mode & 0o170000).toBe(0o120000);
    }
  });

  it('refuses names with a slash or a NUL, and empty names', async () => {
    for (const name of ['../outside', 'sub/../..', '/etc', 'a\0b', '']) {
      expect(errnoOf(await walkstat(0, [name]))).toBe(Errno.EINVAL);
      const later = await walkstat(0, ['sub', name], [NOFID, 20]);
      expectKind(later, 'Rwalkstat');
      expect(later.attrs).toHaveLength(1);
      expect(errnoOf(await g.c.rpc({ kind: 'Tgetattr', fid: 20, requestMask: 0x7ff }))).toBe(Errno.EBADF);
    }
  });

  it('checks its fids before walking: one in use, one twice, a count that does not match the names', async () => {
    expect(errnoOf(await walkstat(0, ['sub'], [0]))).toBe(Errno.EBADF);
    expect(errnoOf(await walkstat(0, ['sub', '..'], [30, 30]))).toBe(Errno.EBADF);
    expect(errnoOf(await g.c.rpc({ kind: 'Tgetattr', fid: 30, requestMask: 0x7ff }))).toBe(Errno.EBADF);
    expect(errnoOf(await walkstat(0, ['sub', '..'], [NOFID]))).toBe(Errno.EINVAL);
    expect(errnoOf(await walkstat(0, []))).toBe(Errno.EINVAL);
    expect(errnoOf(await walkstat(999, ['sub']))).toBe(Errno.EBADF);
  });

  it('a directory moved out of the export by the host: .. from it stops at the export root', async () => {
    fs.mkdirSync(path.join(g.tree.exp, 'deep', 'a', 'b'), { recursive: true });
    const r = await walkstat(0, ['deep', 'a', 'b'], [NOFID, NOFID, 40]);
    expectKind(r, 'Rwalkstat');
    fs.renameSync(path.join(g.tree.exp, 'deep'), path.join(g.tree.base, 'deep-moved'));
    try {
      const root = await g.c.rpc({ kind: 'Tgetattr', fid: 0, requestMask: 0x7ff });
      expectKind(root, 'Rgetattr');
      const up = await walkstat(40, ['..', '..', '..', '..', '..']);
      expectKind(up, 'Rwalkstat');
      expect(up.attrs[4].qid.path).toBe(root.qid.path);
      const names = ['..', '..', '..', '..', 'outside', 'secret.txt'];
      const probe = await walkstat(40, names);
      expectKind(probe, 'Rwalkstat');
      expect(probe.attrs.length).toBeLessThan(names.length);
    } finally {
      fs.renameSync(path.join(g.tree.base, 'deep-moved'), path.join(g.tree.exp, 'deep'));
    }
  });

  it('is refused in plain 9P2000.L', async () => {
    const plain = await g.gofer.connect();
    try {
      await plain.handshake();
      expect(errnoOf(await plain.rpc({ kind: 'Twalkstat', fid: 0, newfids: [NOFID], names: ['sub'] }))).toBe(Errno.EOPNOTSUPP);
    } finally {
      plain.close();
    }
  });
});
