/**
 * Host-file integrity (issue 17): what a container's process may do to the host's copy of
 * its files. Each finding runs one program (programs/fileops.c, one operation per
 * argument, each answered "ok" or an errno name) in the same bundle under runc and
 * tvisor; the two outputs must be equal, and the host's files are checked afterwards.
 *
 * 1. O_RDONLY|O_TRUNC by uid 1000 on a root-owned 0644 file (EACCES, file intact);
 *    O_NOATIME on another's file (EPERM); O_CREAT in a root-owned 0755 directory (EACCES).
 * 2. linux.uidMappings/gidMappings (0 -> 100000, 65536 ids) with a user namespace: what
 *    container root creates belongs to host uid 100000; a host root file in a bind mount
 *    reads as 65534 and cannot be overwritten (EACCES); chown to 1000 is host 101000;
 *    a set-user-ID file made by container root is not set-user-ID root on the host; nor
 *    can container root chmod that host file or remove a host root file from a sticky
 *    directory (EPERM: its capabilities do not apply to unmapped owners).
 * 3. uid 1000 cannot hard-link a root-owned set-user-ID file in a writable bind mount
 *    (EPERM, as fs.protected_hardlinks makes Linux answer).
 * 4. With the mappings, container root's capabilities do not reach a host root file:
 *    it cannot read a 0600 one, nor list or search a 0700 directory (EACCES); it reads
 *    a 0600 file of container uid 1000 (host 101000). Nor can it add O_NOATIME with fcntl
 *    to a host root file (EPERM: CAP_FOWNER does not apply).
 * 5. With the mappings, uid 1000 runs an execute-only (0711) program of container root,
 *    cannot read container root's 0600 file, and cannot add O_NOATIME with fcntl to a
 *    file it does not own (EPERM, as open's O_NOATIME).
 *
 * And the gofer's own line, spoken to directly as a compromised sentry would: ids outside
 * the mappings and capabilities beyond the filesystem ones are refused, container root
 * gets no privilege over a host root file, lookups and opens for reading are checked as
 * the caller, an open for execve (LOPEN_EXEC) reads only what the caller may execute,
 * and only a regular file's host descriptor is ever passed (none for a directory).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Spec } from '../../oci/config';
import { decodeDirents, GetattrMask, LOPEN_EXEC, VERSION_FD } from '../../gofer/p9';
import { errnoOf, expectKind, type FdConn, GoferProcess, type RawConn } from '../gofer/harness';
import { BUSYBOX, OciRuntime } from '../oci/harness';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');
const RUNC = '/usr/sbin/runc';
const SOURCE = path.join(__dirname, 'programs', 'fileops.c');
const FS_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID'];

let work = '';
let fileops = '';

/** prerequisites fails the suite, naming what is missing. */
function prerequisites(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const f of [TVISOR, RUNC, BUSYBOX]) if (!fs.existsSync(f)) missing.push(f);
  if (spawnSync('cc', ['--version']).status !== 0) missing.push('cc');
  if (fs.readFileSync('/proc/sys/fs/protected_hardlinks', 'utf8').trim() !== '1') missing.push('fs.protected_hardlinks = 1');
  if (missing.length) throw new Error(`security/files: missing prerequisites: ${missing.join(', ')}`);
}

beforeAll(() => {
  prerequisites();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sec-files-'));
  fileops = path.join(work, 'fileops');
  const cc = spawnSync('cc', ['-static', '-O2', '-Wall', '-Wextra', '-Werror', '-o', fileops, SOURCE], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cannot build fileops: ${cc.stderr}`);
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Case is one bundle: the process's user, its operations, and the host files around it. */
interface Case {
  ops: string[];
  uid: number;
  gid: number;
  /** setup prepares the rootfs and a `shared` host directory (bind-mounted at /shared). */
  setup(rootfs: string, shared: string): void;
  change?(spec: Spec): void;
}

/** Outcome is what one runtime printed and where its host files are. */
interface Outcome {
  out: string;
  rootfs: string;
  shared: string;
}

let seq = 0;

/** runUnder runs the case's program in a fresh bundle under one runtime. */
function runUnder(name: string, bin: string, c: Case, keep: OciRuntime[]): Outcome {
  const rt = new OciRuntime(name, bin);
  keep.push(rt);
  const shared = path.join(rt.dir, 'shared');
  fs.mkdirSync(shared);
  const bundle = rt.bundle('b', ['/fileops', ...c.ops], (s) => {
    s.root = { path: 'rootfs', readonly: false };
    s.process!.user = { uid: c.uid, gid: c.gid };
    s.mounts = [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/shared', type: 'bind', source: shared, options: ['rbind', 'rw'] },
    ];
    c.change?.(s);
  });
  const rootfs = path.join(bundle, 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'shared'));
  fs.copyFileSync(fileops, path.join(rootfs, 'fileops'));
  fs.chmodSync(path.join(rootfs, 'fileops'), 0o755);
  c.setup(rootfs, shared);
  const id = `sec-files-${name}-${process.pid}-${++seq}`;
  const r = rt.run('run', '--bundle', bundle, id);
  if (r.status !== 0) throw new Error(`${name} run failed (${r.status}): ${r.stderr}`);
  return { out: r.stdout, rootfs, shared };
}

/** both runs the case under runc and tvisor, checks that they print the same, and hands
 * both outcomes to `check` before cleaning up. */
function both(c: Case, check: (o: Outcome, name: string) => void): string {
  const keep: OciRuntime[] = [];
  try {
    const runc = runUnder('runc', RUNC, c, keep);
    const tvisor = runUnder('tvisor', TVISOR, c, keep);
    expect(tvisor.out).toBe(runc.out);
    check(runc, 'runc');
    check(tvisor, 'tvisor');
    return tvisor.out;
  } finally {
    for (const rt of keep) rt.cleanup();
  }
}

/** chownTree gives a whole tree to uid:gid (without following symlinks). */
function chownTree(p: string, uid: number, gid: number): void {
  fs.lchownSync(p, uid, gid);
  if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid, gid);
}

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\n';
const busyboxSize = () => fs.statSync(BUSYBOX).size;

test('1. open flags: O_RDONLY|O_TRUNC (EACCES), O_NOATIME (EPERM), O_CREAT in root 0755 dir (EACCES) as uid 1000', () => {
  const out = both({
    uid: 1000, gid: 1000,
    ops: ['trunc-ro,/etc/passwd', 'trunc-ro,/bin/busybox', 'noatime,/etc/passwd', 'creat,/etc/new,644', 'creat,/shared/mine,644',
      'trunc-ro,/shared/mine'],
    setup(rootfs, shared) {
      fs.mkdirSync(path.join(rootfs, 'etc'), { mode: 0o755 });
      fs.writeFileSync(path.join(rootfs, 'etc', 'passwd'), PASSWD, { mode: 0o644 });
      fs.chmodSync(shared, 0o1777);
    },
  }, (o, name) => {
    const passwd = path.join(o.rootfs, 'etc', 'passwd');
    expect([name, fs.readFileSync(passwd, 'utf8')]).toEqual([name, PASSWD]);
    expect([name, fs.statSync(passwd).mode & 0o7777]).toEqual([name, 0o644]);
    expect([name, fs.statSync(path.join(o.rootfs, 'bin', 'busybox')).size]).toEqual([name, busyboxSize()]);
    expect([name, fs.existsSync(path.join(o.rootfs, 'etc', 'new'))]).toEqual([name, false]);
    expect([name, fs.statSync(path.join(o.shared, 'mine')).uid]).toEqual([name, 1000]);
  });
  expect(out).toBe([
    'trunc-ro EACCES', 'trunc-ro EACCES', 'noatime EPERM', 'creat EACCES', 'creat ok', 'trunc-ro ok', '',
  ].join('\n'));
});

const MAPPED = (s: Spec) => {
  s.linux!.namespaces = [...(s.linux!.namespaces ?? []), { type: 'user' }];
  s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.process!.capabilities = { bounding: FS_CAPS, effective: FS_CAPS, permitted: FS_CAPS };
};

test('2. uid/gid mappings: container root owns as host 100000, sees host root as 65534 and cannot overwrite it', () => {
  const HOST = 'host root file\n';
  const out = both({
    uid: 0, gid: 0,
    ops: ['creat,/shared/mine,644', 'stat,/shared/mine', 'stat,/shared/hostfile', 'write,/shared/hostfile,pwned',
      'trunc-ro,/shared/hostfile', 'creat,/shared/suid,4755', 'stat,/shared/suid', 'chown,/shared/mine,1000,1000',
      'stat,/shared/mine', 'creat,/made-by-root,644', 'chmod,/shared/hostfile,4777', 'unlink,/shared/sticky/rootown'],
    setup(rootfs, shared) {
      fs.writeFileSync(path.join(shared, 'hostfile'), HOST, { mode: 0o644 });
      fs.chmodSync(shared, 0o755);
      fs.chownSync(shared, 100000, 100000);
      // A sticky directory of container uid 1000, open to all, holding a host root file.
      fs.mkdirSync(path.join(shared, 'sticky'));
      fs.chownSync(path.join(shared, 'sticky'), 101000, 101000);
      fs.chmodSync(path.join(shared, 'sticky'), 0o1777);
      fs.writeFileSync(path.join(shared, 'sticky', 'rootown'), HOST, { mode: 0o644 });
      chownTree(rootfs, 100000, 100000);
      // runc's container root (host 100000) must reach the bundle.
      fs.chmodSync(path.dirname(path.dirname(rootfs)), 0o755);
    },
    change: MAPPED,
  }, (o, name) => {
    const host = path.join(o.shared, 'hostfile');
    expect([name, fs.readFileSync(host, 'utf8')]).toEqual([name, HOST]);
    const hs = fs.statSync(host);
    expect([name, hs.uid, hs.gid, hs.mode & 0o7777]).toEqual([name, 0, 0, 0o644]);
    const mine = fs.statSync(path.join(o.shared, 'mine'));
    expect([name, mine.uid, mine.gid]).toEqual([name, 101000, 101000]);
    const suid = fs.statSync(path.join(o.shared, 'suid'));
    expect([name, suid.uid, suid.gid, suid.mode & 0o7777]).toEqual([name, 100000, 100000, 0o4755]);
    expect([name, fs.readFileSync(path.join(o.shared, 'sticky', 'rootown'), 'utf8')]).toEqual([name, HOST]);
    const made = fs.statSync(path.join(o.rootfs, 'made-by-root'));
    expect([name, made.uid, made.gid]).toEqual([name, 100000, 100000]);
  });
  expect(out).toBe([
    'creat ok', 'stat 0 0 644', 'stat 65534 65534 644', 'write EACCES', 'trunc-ro EACCES', 'creat ok', 'stat 0 0 4755',
    'chown ok', 'stat 1000 1000 644', 'creat ok', 'chmod EPERM', 'unlink EPERM', '',
  ].join('\n'));
});

test('3. hard links: uid 1000 cannot link a root-owned set-user-ID file in a writable bind mount (EPERM)', () => {
  const out = both({
    uid: 1000, gid: 1000,
    ops: ['link,/shared/suid,/shared/mylink', 'link,/shared/rootfile,/shared/link2', 'creat,/shared/own,600', 'link,/shared/own,/shared/ownlink'],
    setup(_rootfs, shared) {
      fs.chmodSync(shared, 0o777);
      fs.copyFileSync(BUSYBOX, path.join(shared, 'suid'));
      fs.chmodSync(path.join(shared, 'suid'), 0o4755);
      fs.writeFileSync(path.join(shared, 'rootfile'), 'x', { mode: 0o644 });
    },
  }, (o, name) => {
    const st = fs.statSync(path.join(o.shared, 'suid'));
    expect([name, st.nlink, st.uid, st.mode & 0o7777, st.size]).toEqual([name, 1, 0, 0o4755, busyboxSize()]);
    expect([name, fs.existsSync(path.join(o.shared, 'mylink')), fs.existsSync(path.join(o.shared, 'link2'))]).toEqual([name, false, false]);
    expect([name, fs.statSync(path.join(o.shared, 'own')).nlink]).toEqual([name, 2]);
  });
  expect(out).toBe(['link EPERM', 'link EPERM', 'creat ok', 'link ok', ''].join('\n'));
});

/** mappedShared prepares a bundle for the mappings: its rootfs belongs to container root
 * and runc's container users (host 100000 and up) can reach the bundle and /shared. */
function mappedShared(rootfs: string, shared: string): void {
  fs.chmodSync(shared, 0o755);
  fs.chownSync(shared, 100000, 100000);
  chownTree(rootfs, 100000, 100000);
  fs.chmodSync(path.dirname(path.dirname(rootfs)), 0o755);
}

/** hostFile writes a host file with an owner (host ids) and a mode. */
function hostFile(p: string, text: string | Buffer, uid: number, gid: number, mode: number): void {
  fs.writeFileSync(p, text);
  fs.chownSync(p, uid, gid);
  fs.chmodSync(p, mode);
}

/** hostDir makes a host directory with an owner (host ids) and a mode. */
function hostDir(p: string, uid: number, gid: number, mode: number): void {
  fs.mkdirSync(p);
  fs.chownSync(p, uid, gid);
  fs.chmodSync(p, mode);
}

const SECRET = 'host secret\n';

test('4. uid/gid mappings: container root cannot read a host root 0600 file nor list or search a 0700 directory; it reads mapped files', () => {
  const out = both({
    uid: 0, gid: 0,
    ops: ['read,/shared/secret', 'list,/shared/private', 'stat,/shared/private/inner', 'read,/shared/public',
      'read,/shared/user-file', 'list,/shared/userdir', 'stat,/shared/userdir/inner', 'setfl-noatime,/shared/public',
      'setfl-noatime,/shared/user-file'],
    setup(rootfs, shared) {
      mappedShared(rootfs, shared);
      hostFile(path.join(shared, 'secret'), SECRET, 0, 0, 0o600);
      hostDir(path.join(shared, 'private'), 0, 0, 0o700);
      hostFile(path.join(shared, 'private', 'inner'), SECRET, 0, 0, 0o644);
      hostFile(path.join(shared, 'public'), 'host public\n', 0, 0, 0o644);
      // Container uid 1000's (host 101000): container root's capabilities apply.
      hostFile(path.join(shared, 'user-file'), 'user file\n', 101000, 101000, 0o600);
      hostDir(path.join(shared, 'userdir'), 101000, 101000, 0o700);
      hostFile(path.join(shared, 'userdir', 'inner'), 'x', 101000, 101000, 0o600);
    },
    change: MAPPED,
  }, (o, name) => {
    const st = fs.statSync(path.join(o.shared, 'secret'));
    expect([name, fs.readFileSync(path.join(o.shared, 'secret'), 'utf8'), st.uid, st.mode & 0o7777]).toEqual([name, SECRET, 0, 0o600]);
    expect([name, fs.readdirSync(path.join(o.shared, 'private'))]).toEqual([name, ['inner']]);
  });
  expect(out).toBe([
    'read EACCES', 'list EACCES', 'stat EACCES', 'read host public', 'read user file', 'list 1', 'stat 1000 1000 600',
    'setfl-noatime EPERM', 'setfl-noatime ok', '',
  ].join('\n'));
});

test('5. uid/gid mappings, as uid 1000: an execute-only program runs; container root\'s 0600 file is unreadable; fcntl cannot add O_NOATIME to another\'s file', () => {
  const ROOTS = 'container root file\n';
  const out = both({
    uid: 1000, gid: 1000,
    ops: ['exec,/shared/xonly', 'read,/shared/xonly', 'read,/shared/roots', 'setfl-noatime,/shared/public', 'setfl-noatime,/shared/mine',
      'noatime,/shared/public'],
    setup(rootfs, shared) {
      mappedShared(rootfs, shared);
      hostFile(path.join(shared, 'xonly'), fs.readFileSync(fileops), 100000, 100000, 0o711);
      hostFile(path.join(shared, 'roots'), ROOTS, 100000, 100000, 0o600);
      hostFile(path.join(shared, 'public'), 'public\n', 100000, 100000, 0o644);
      hostFile(path.join(shared, 'mine'), 'mine\n', 101000, 101000, 0o644);
    },
    change: MAPPED,
  }, (o, name) => {
    const st = fs.statSync(path.join(o.shared, 'roots'));
    expect([name, fs.readFileSync(path.join(o.shared, 'roots'), 'utf8'), st.uid, st.mode & 0o7777]).toEqual([name, ROOTS, 100000, 0o600]);
    expect([name, fs.statSync(path.join(o.shared, 'xonly')).mode & 0o7777]).toEqual([name, 0o711]);
  });
  expect(out).toBe([
    'exec ok', 'read EACCES', 'read EACCES', 'setfl-noatime EPERM', 'setfl-noatime ok', 'noatime EPERM', '',
  ].join('\n'));
});

describe('the gofer does not trust the sentry (raw 9P2000.L.fd, uid/gid map 0 -> 100000)', () => {
  let gofer: GoferProcess;
  let exp = '';
  const HOST = 'host root file\n';
  const EINVAL = 22, EACCES = 13, EPERM = 1, EOPNOTSUPP = 95;
  const O_RDONLY = 0, O_WRONLY = 1, O_TRUNC = 0o1000, O_DIRECTORY = 0o200000;
  const ALL_FS = 0x1f;
  const groups = (...g: number[]) => Buffer.from(new Uint32Array(g).buffer);

  beforeAll(async () => {
    exp = fs.mkdtempSync(path.join(os.tmpdir(), 'sec-files-gofer-'));
    fs.chmodSync(exp, 0o755);
    fs.chownSync(exp, 100000, 100000);
    fs.writeFileSync(path.join(exp, 'hostfile'), HOST, { mode: 0o644 });
    fs.mkdirSync(path.join(exp, 'pub'));
    fs.chmodSync(path.join(exp, 'pub'), 0o777);
    fs.writeFileSync(path.join(exp, 'pub', 'suid'), HOST);
    fs.chmodSync(path.join(exp, 'pub', 'suid'), 0o4755);
    hostFile(path.join(exp, 'secret'), SECRET, 0, 0, 0o600);
    hostDir(path.join(exp, 'private'), 0, 0, 0o700);
    hostFile(path.join(exp, 'private', 'inner'), SECRET, 0, 0, 0o644);
    hostDir(path.join(exp, 'rootdir'), 100000, 100000, 0o700);
    hostFile(path.join(exp, 'rootdir', 'inner'), SECRET, 100000, 100000, 0o644);
    hostFile(path.join(exp, 'roots'), 'container root file\n', 100000, 100000, 0o600);
    hostFile(path.join(exp, 'xonly'), 'execute only\n', 100000, 100000, 0o711);
    gofer = await GoferProcess.start(['--root', exp, '--uid-map', '0:100000:65536', '--gid-map', '0:100000:65536']);
  });

  afterAll(async () => {
    await gofer?.stop();
    if (exp) fs.rmSync(exp, { recursive: true, force: true });
  });

  async function session(version: string): Promise<RawConn> {
    const c = await gofer.connect();
    const v = await c.rpc({ kind: 'Tversion', tag: 0xffff, msize: 65536, version });
    expectKind(v, 'Rversion');
    expectKind(await c.rpc({ kind: 'Tattach', fid: 0, afid: 0xffffffff, uname: 'root', aname: '', nUname: 0 }), 'Rattach');
    return c;
  }

  test('ids outside the mappings, capabilities beyond the filesystem ones, and plain 9P2000.L are refused', async () => {
    const c = await session(VERSION_FD);
    try {
      const setcreds = (uid: number, gid: number, caps: number, g: Buffer) => c.rpc({ kind: 'Tsetcreds', uid, gid, caps, groups: g });
      expect(errnoOf(await setcreds(65536, 0, 0, groups()))).toBe(EINVAL);
      expect(errnoOf(await setcreds(0, 70000, 0, groups()))).toBe(EINVAL);
      expect(errnoOf(await setcreds(0, 0, 0, groups(0, 65536)))).toBe(EINVAL);
      expect(errnoOf(await setcreds(0, 0, 1 << 21, groups()))).toBe(EINVAL); // CAP_SYS_ADMIN
      expect(errnoOf(await setcreds(0, 0, ALL_FS, Buffer.alloc(3)))).toBe(EINVAL);
      expectKind(await setcreds(1000, 1000, 0, groups(1000)), 'Rsetcreds');
    } finally {
      c.close();
    }
    const plain = await session('9P2000.L');
    try {
      expect(errnoOf(await plain.rpc({ kind: 'Tsetcreds', uid: 0, gid: 0, caps: 0, groups: groups() }))).toBe(EOPNOTSUPP);
    } finally {
      plain.close();
    }
  });

  // Before any Tsetcreds the connection acts for container root with every filesystem
  // capability: the most a sentry could claim.
  test('container root, as a sentry may claim it, cannot truncate, chmod or chown a host root file', async () => {
    const c = await session(VERSION_FD);
    try {
      expectKind(await c.rpc({ kind: 'Twalk', fid: 0, newfid: 1, names: ['hostfile'] }), 'Rwalk');
      const attr = await c.rpc({ kind: 'Tgetattr', fid: 1, requestMask: 0x7ff });
      expectKind(attr, 'Rgetattr');
      expect([attr.uid, attr.gid]).toEqual([65534, 65534]);
      expect(errnoOf(await c.rpc({ kind: 'Tlopen', fid: 1, flags: O_WRONLY | O_TRUNC }))).toBe(EACCES);
      const setattr = { kind: 'Tsetattr' as const, fid: 1, mode: 0, uid: 0, gid: 0, size: 0, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0 };
      expect(errnoOf(await c.rpc({ ...setattr, valid: 0x1, mode: 0o4777 }))).toBe(EPERM);
      expect(errnoOf(await c.rpc({ ...setattr, valid: 0x2, uid: 0 }))).toBe(EPERM);
      expect(errnoOf(await c.rpc({ ...setattr, valid: 0x8, size: 0 }))).toBe(EACCES);
      expect(errnoOf(await c.rpc({ ...setattr, valid: 0x2, uid: 70000 }))).toBe(EINVAL);
      expectKind(await c.rpc({ kind: 'Tmkdir', dfid: 0, name: 'made', mode: 0o755, gid: 0 }), 'Rmkdir');
    } finally {
      c.close();
    }
    const st = fs.statSync(path.join(exp, 'hostfile'));
    expect([fs.readFileSync(path.join(exp, 'hostfile'), 'utf8'), st.uid, st.gid, st.mode & 0o7777]).toEqual([HOST, 0, 0, 0o644]);
    const made = fs.statSync(path.join(exp, 'made'));
    expect([made.uid, made.gid]).toEqual([100000, 100000]);
  });

  /** openRead walks fid 0 to `name` as `newfid` and opens it with `flags`: the Rread of
   * its first bytes, or the errno of the walk or the open. */
  async function openRead(c: RawConn, newfid: number, name: string, flags: number): Promise<string | number> {
    expectKind(await c.rpc({ kind: 'Twalk', fid: 0, newfid, names: [name] }), 'Rwalk');
    const o = await c.rpc({ kind: 'Tlopen', fid: newfid, flags });
    if (o.kind === 'Rlerror') return o.ecode;
    if (flags & O_DIRECTORY) return 'opened';
    const r = await c.rpc({ kind: 'Tread', fid: newfid, offset: 0, count: 64 });
    expectKind(r, 'Rread');
    return r.data.toString();
  }

  test('container root, as a sentry may claim it, cannot read a host root 0600 file (nor its xattrs\' values), list or search a 0700 directory; getattr says unmapped', async () => {
    const c = await session(VERSION_FD);
    try {
      expect(await openRead(c, 10, 'secret', O_RDONLY)).toBe(EACCES);
      expect(await openRead(c, 11, 'private', O_RDONLY | O_DIRECTORY)).toBe(EACCES);
      expect(errnoOf(await c.rpc({ kind: 'Twalk', fid: 11, newfid: 14, names: ['inner'] }))).toBe(EACCES);
      expect(await openRead(c, 12, 'roots', O_RDONLY)).toBe('container root file\n');
      const attr = async (fid: number) => {
        const a = await c.rpc({ kind: 'Tgetattr', fid, requestMask: 0x7ff });
        expectKind(a, 'Rgetattr');
        return [a.uid, (a.valid & GetattrMask.UNMAPPED) !== 0];
      };
      expect(await attr(10)).toEqual([65534, true]);
      expect(await attr(12)).toEqual([0, false]);
      // Its attributes' values are not readable; the list of their names is, as on Linux.
      expect(errnoOf(await c.rpc({ kind: 'Txattrwalk', fid: 10, newfid: 13, name: 'user.x' }))).toBe(EACCES);
      expectKind(await c.rpc({ kind: 'Txattrwalk', fid: 10, newfid: 13, name: '' }), 'Rxattrwalk');
    } finally {
      c.close();
    }
  });

  test('container uid 1000, as a sentry may claim it, reads no file of container root nor searches its 0700 directory; an exec open needs execute permission only', async () => {
    const c = await session(VERSION_FD);
    try {
      expectKind(await c.rpc({ kind: 'Tsetcreds', uid: 1000, gid: 1000, caps: 0, groups: groups() }), 'Rsetcreds');
      expect(await openRead(c, 20, 'roots', O_RDONLY)).toBe(EACCES);
      expect(await openRead(c, 21, 'roots', O_RDONLY | LOPEN_EXEC)).toBe(EACCES);
      expect(await openRead(c, 22, 'xonly', O_RDONLY)).toBe(EACCES);
      expect(await openRead(c, 23, 'xonly', O_RDONLY | LOPEN_EXEC)).toBe('execute only\n');
      expect(await openRead(c, 24, 'xonly', O_WRONLY | LOPEN_EXEC)).toBe(EINVAL);
      expect(await openRead(c, 25, 'pub', O_RDONLY | O_DIRECTORY | LOPEN_EXEC)).toBe(EINVAL);
      expectKind(await c.rpc({ kind: 'Twalk', fid: 0, newfid: 26, names: ['rootdir'] }), 'Rwalk');
      expect(errnoOf(await c.rpc({ kind: 'Twalk', fid: 26, newfid: 27, names: ['inner'] }))).toBe(EACCES);
    } finally {
      c.close();
    }
  });

  // A directory descriptor in the sentry would let it stat host paths through `..`
  // (newfstatat and statx take any directory descriptor; seccomp cannot see the path).
  test('Tlopen and Tlcreate pass the descriptor of a regular file only: none for a directory (listed with Treaddir), none in plain 9P2000.L', () => {
    const open = (c: FdConn, fid: number, names: string[], flags: number) => {
      expectKind(c.rpc({ kind: 'Twalk', fid: 0, newfid: fid, names }).msg, 'Rwalk');
      const r = c.rpc({ kind: 'Tlopen', fid, flags });
      expectKind(r.msg, 'Rlopen');
      return r.fds;
    };
    const c = gofer.connectFd();
    const passed: number[] = [];
    try {
      expectKind(c.rpc({ kind: 'Tversion', tag: 0xffff, msize: 65536, version: VERSION_FD }).msg, 'Rversion');
      expectKind(c.rpc({ kind: 'Tattach', fid: 0, afid: 0xffffffff, uname: 'root', aname: '', nUname: 0 }).msg, 'Rattach');
      expect(open(c, 1, [], O_RDONLY | O_DIRECTORY)).toEqual([]); // the export's root
      expect(open(c, 2, ['pub'], O_RDONLY | O_DIRECTORY)).toEqual([]);
      expect(open(c, 3, ['pub'], O_RDONLY)).toEqual([]);
      const list = c.rpc({ kind: 'Treaddir', fid: 2, offset: 0n, count: 8192 });
      expectKind(list.msg, 'Rreaddir');
      expect(decodeDirents(list.msg.data).map((d) => d.name)).toContain('suid');
      expect(list.fds).toEqual([]);
      expectKind(c.rpc({ kind: 'Tfsync', fid: 2, datasync: 0 }).msg, 'Rfsync');
      const file = open(c, 4, ['hostfile'], O_RDONLY);
      passed.push(...file);
      expect(file).toHaveLength(1);
      const st = fs.fstatSync(file[0]);
      expect([st.isFile(), st.ino]).toEqual([true, fs.statSync(path.join(exp, 'hostfile')).ino]);
      expectKind(c.rpc({ kind: 'Twalk', fid: 0, newfid: 5, names: ['pub'] }).msg, 'Rwalk');
      const made = c.rpc({ kind: 'Tlcreate', fid: 5, name: 'created', flags: O_WRONLY, mode: 0o644, gid: 0 });
      expectKind(made.msg, 'Rlcreate');
      passed.push(...made.fds);
      expect(made.fds).toHaveLength(1);
      expect(fs.fstatSync(made.fds[0]).ino).toBe(fs.statSync(path.join(exp, 'pub', 'created')).ino);
    } finally {
      passed.forEach((fd) => fs.closeSync(fd));
      c.close();
    }
    const plain = gofer.connectFd();
    try {
      expectKind(plain.rpc({ kind: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000.L' }).msg, 'Rversion');
      expectKind(plain.rpc({ kind: 'Tattach', fid: 0, afid: 0xffffffff, uname: 'root', aname: '', nUname: 0 }).msg, 'Rattach');
      expect(open(plain, 1, ['hostfile'], O_RDONLY)).toEqual([]);
    } finally {
      plain.close();
    }
  });

  test('container uid 1000, as a sentry may claim it, cannot hard-link a host root set-user-ID file', async () => {
    const c = await session(VERSION_FD);
    try {
      expectKind(await c.rpc({ kind: 'Tsetcreds', uid: 1000, gid: 1000, caps: 0, groups: groups() }), 'Rsetcreds');
      expectKind(await c.rpc({ kind: 'Twalk', fid: 0, newfid: 2, names: ['pub'] }), 'Rwalk');
      expectKind(await c.rpc({ kind: 'Twalk', fid: 2, newfid: 3, names: ['suid'] }), 'Rwalk');
      expect(errnoOf(await c.rpc({ kind: 'Tlink', dfid: 2, fid: 3, name: 'mylink' }))).toBe(EPERM);
    } finally {
      c.close();
    }
    expect(fs.statSync(path.join(exp, 'pub', 'suid')).nlink).toBe(1);
    expect(fs.existsSync(path.join(exp, 'pub', 'mylink'))).toBe(false);
  });
});
