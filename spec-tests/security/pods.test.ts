/**
 * A pod's create request (sentry/exec-server.ts createContainer, sentry/kernel/containers.ts)
 * comes from a peer the sentry must not trust blindly: whatever it sends (no descriptors,
 * too many, a connection that is no 9P server, a bad id, a config without a process, a
 * request that is no object, a malformed line), the sentry answers one error line, keeps
 * no descriptor of the request, and the pod runs on (its container still answers exec).
 * The checks count the sentry's open descriptors from the host before and after.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, OciRuntime } from '../oci/harness';
import { closeFd, connectUnix, MsgBuffers, socketPair } from '../../native/unixsock';
import { addToPodGofer, goferControlPath, removeFromPodGofer } from '../../runtime/sandbox/pod-member';
import { errnoOf, expectKind, FdConn } from '../gofer/harness';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');
const SANDBOX = 'io.kubernetes.cri.container-type';
const SANDBOX_ID = 'io.kubernetes.cri.sandbox-id';
const ENOENT = 2, EROFS = 30;

/** send writes one line with `fds` attached to a socket (the exec socket, a gofer's control socket) and returns the first reply line. */
function send(sock: string, line: string, fds: number[]): Record<string, unknown> {
  const fd = connectUnix(sock);
  try {
    const msg = new MsgBuffers(4096);
    const body = Buffer.from(`${line}\n`);
    expect(msg.send(fd, body, body.length, fds)).toBe(body.length);
    let text = '';
    while (!text.includes('\n')) {
      const n = msg.recv(fd);
      for (const f of msg.fds) closeFd(f);
      if (n <= 0) break;
      text += msg.data.toString('utf8', 0, n);
    }
    return JSON.parse(text.slice(0, text.indexOf('\n')));
  } finally {
    closeFd(fd);
  }
}

/** spin waits `ms` without returning to the event loop (the test's checks are synchronous). */
function spin(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** openFds lists a process's open descriptor numbers (from the host). */
function openFds(pid: number): string[] {
  return fs.readdirSync(`/proc/${pid}/fd`).sort();
}

describe('a pod\'s create request the sentry cannot honour', () => {
  let rt: OciRuntime;
  const id = `sec-pods-${process.pid}`;
  let sock = '';
  let sentry = 0;
  beforeAll(() => {
    const missing = [process.getuid?.() === 0 ? '' : 'root', ...[BUSYBOX, TVISOR].filter((f) => !fs.existsSync(f))].filter(Boolean);
    if (missing.length) throw new Error(`security/pods: missing prerequisites: ${missing.join(', ')}`);
    rt = new OciRuntime('tvisor', TVISOR);
    const b = rt.bundle('pause', ['sleep', '100000'], (s) => {
      s.annotations = { [SANDBOX]: 'sandbox' };
    });
    expect(rt.run('create', '--bundle', b, id).status).toBe(0);
    expect(rt.run('start', id).status).toBe(0);
    sock = path.join(rt.root, id, 'sandbox.sock.exec');
    sentry = rt.state(id)!.pid;
  });
  afterAll(() => {
    rt.run('delete', '--force', id);
    rt.cleanup();
  });

  const spec = (over: Record<string, unknown> = {}) => ({ ociVersion: '1.0.2', process: { args: ['true'], cwd: '/', env: [], user: { uid: 0, gid: 0 } }, root: { path: 'rootfs' }, ...over });
  /** notNineP is a connected socket whose other end says nothing 9P: the sentry's handshake fails on its end-of-file. */
  const notNineP = () => {
    const [a, b] = socketPair();
    closeFd(b);
    return a;
  };

  test.each([
    ['no descriptors', () => ({ line: JSON.stringify({ create: { id: 'c1', spec: spec() } }), fds: [] as number[] }), /expected 5 descriptors/],
    ['too many descriptors', () => ({ line: JSON.stringify({ create: { id: 'c1', spec: spec() } }), fds: [0, 1, 2, 0, 1, 2] }), /expected 5 descriptors/],
    ['a bad id', () => ({ line: JSON.stringify({ create: { id: '../x', spec: spec() } }), fds: [notNineP(), 0, 0, 1, 2] }), /is not a container id/],
    ['no process', () => ({ line: JSON.stringify({ create: { id: 'c1', spec: spec({ process: null }) } }), fds: [notNineP(), 0, 0, 1, 2] }), /process.args: must be a non-empty array/],
    ['a spec that is no object', () => ({ line: JSON.stringify({ create: 'x' }), fds: [notNineP(), 0, 0, 1, 2] }), /is not a container id/],
    ['a connection that is no 9P server', () => ({ line: JSON.stringify({ create: { id: 'c1', spec: spec() } }), fds: [notNineP(), 0, 0, 1, 2] }), /./],
    ['a malformed line', () => ({ line: '{"create":', fds: [0, 1] }), /malformed request/],
  ])('%s: one error line, no descriptor kept, the pod runs on', (_what, make, want) => {
    const before = openFds(sentry);
    const { line, fds } = make();
    let reply: Record<string, unknown>;
    try {
      reply = send(sock, line, fds);
    } finally {
      for (const f of fds) if (f > 2) closeFd(f);
    }
    expect(Object.keys(reply)).toEqual(['error']);
    expect(String(reply.error)).toMatch(want);
    // The sentry closes its end of the connection once it sees ours closed: waited for.
    const deadline = Date.now() + 10_000;
    while (openFds(sentry).join() !== before.join() && Date.now() < deadline) spin(20);
    expect(openFds(sentry)).toEqual(before);
    const r = rt.run('exec', id, 'echo', 'alive');
    expect(`${r.status} ${r.stdout}`).toBe('0 alive\n');
  }, 60_000);
});

/**
 * One gofer serves a whole pod (gofer/server/members.ts): each member's exports are bound
 * to the 9P connection the gofer serves them on. Acting as `create` does
 * (runtime/sandbox/pod-member.ts addToPodGofer), the test registers two members with the
 * pod's real, confined gofer, then speaks 9P on each member's connection as its sentry
 * would: a member attaches its own rootfs and bind mount, and no name of the other
 * member's nor of the sandbox container's gets it anything else; `..` stays at its root;
 * its read-only export answers EROFS. Bad control requests get one error line and leave
 * no descriptor; removing a member (delete) or closing its connection (the sentry's end)
 * leaves the gofer with the descriptors it had before.
 */
describe('a pod\'s gofer serves each member only its own exports', () => {
  let rt: OciRuntime;
  const pod = `sec-podgofer-${process.pid}`;
  let control = '';
  let gofer = 0;
  let dir = '';
  const conns: FdConn[] = [];
  beforeAll(() => {
    const missing = [process.getuid?.() === 0 ? '' : 'root', ...[BUSYBOX, TVISOR].filter((f) => !fs.existsSync(f))].filter(Boolean);
    if (missing.length) throw new Error(`security/pods: missing prerequisites: ${missing.join(', ')}`);
    rt = new OciRuntime('tvisor', TVISOR);
    const b = rt.bundle('podgofer-pause', ['sleep', '100000'], (s) => {
      s.annotations = { [SANDBOX]: 'sandbox' };
    });
    fs.writeFileSync(path.join(b, 'rootfs', 'pause-only'), 'pause\n');
    expect(rt.run('create', '--bundle', b, pod).status).toBe(0);
    expect(rt.run('start', pod).status).toBe(0);
    control = goferControlPath(path.join(rt.root, pod));
    gofer = JSON.parse(fs.readFileSync(path.join(rt.root, pod, 'state.json'), 'utf8')).sandbox.goferPid;
    dir = fs.mkdtempSync(path.join(rt.dir, 'members-'));
    for (const m of ['a', 'b']) {
      fs.mkdirSync(path.join(dir, m, 'rootfs'), { recursive: true });
      fs.mkdirSync(path.join(dir, m, 'data'));
      fs.writeFileSync(path.join(dir, m, 'rootfs', `only-${m}`), `${m}\n`);
      fs.writeFileSync(path.join(dir, m, 'data', `data-${m}`), `${m}\n`);
    }
  });
  afterAll(() => {
    for (const c of conns) c.close();
    rt.run('delete', '--force', pod);
    rt.cleanup();
  });

  /** exportsOf is member m's rootfs ('/') and its read-only bind mount at /data-<m>. */
  const exportsOf = (m: string) => [
    { name: '/', hostPath: path.join(dir, m, 'rootfs'), readonly: false },
    { name: `/data-${m}`, hostPath: path.join(dir, m, 'data'), readonly: true },
  ];
  /** addMember registers member `id` and returns a 9P connection on its end, past Tversion. */
  const addMember = (id: string, m: string): FdConn => {
    const [mine, theirs] = socketPair();
    try {
      addToPodGofer(control, pod, id, exportsOf(m), { uid: [], gid: [] }, theirs);
    } catch (e) {
      closeFd(mine);
      throw e;
    } finally {
      closeFd(theirs);
    }
    const c = new FdConn(mine);
    conns.push(c);
    expectKind(c.rpc({ kind: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000.L' }).msg, 'Rversion');
    return c;
  };
  const attach = (c: FdConn, fid: number, aname: string) => c.rpc({ kind: 'Tattach', fid, afid: 0xffffffff, uname: 'root', aname, nUname: 0 }).msg;
  const walk = (c: FdConn, fid: number, newfid: number, names: string[]) => c.rpc({ kind: 'Twalk', fid, newfid, names }).msg;
  /** waitFds waits until the gofer holds `want` descriptors (it lets go after answering) and returns what it holds. */
  const waitFds = (want: string[]): string[] => {
    const deadline = Date.now() + 10_000;
    while (openFds(gofer).join() !== want.join() && Date.now() < deadline) spin(20);
    return openFds(gofer);
  };

  test('a member attaches its own rootfs and bind mount; the other member\'s names, the sandbox container\'s files and .. get it nothing else', () => {
    const before = openFds(gofer);
    const a = addMember(`a-${process.pid}`, 'a');
    const b = addMember(`b-${process.pid}`, 'b');
    expect(gofer > 0 && fs.existsSync(`/proc/${gofer}`)).toBe(true);
    const root = attach(a, 0, '/');
    expectKind(root, 'Rattach');
    expectKind(walk(a, 0, 1, ['only-a']), 'Rwalk');
    expect(errnoOf(walk(a, 0, 2, ['only-b']))).toBe(ENOENT);
    expect(errnoOf(walk(a, 0, 2, ['pause-only']))).toBe(ENOENT);
    // `..` of the root is the root (as the kernel's at a chroot): the same qid.
    const up = walk(a, 0, 3, ['..', '..', '..']);
    expectKind(up, 'Rwalk');
    expect(up.qids[up.qids.length - 1].path).toBe(root.qid.path);
    expect(errnoOf(walk(a, 3, 4, ['only-b']))).toBe(ENOENT);
    expectKind(walk(a, 3, 4, ['only-a']), 'Rwalk');
    // b's export names, and names that are no export of a's, answer ENOENT on a's connection.
    for (const [fid, aname] of [[10, '/data-b'], [11, 'data-b'], [12, '/data-b/'], [13, '/data-b/..'], [14, '/..'], [15, '../b'], [16, '/data']] as const) {
      expect([aname, errnoOf(attach(a, fid, aname))]).toEqual([aname, ENOENT]);
    }
    // a's bind mount is its own, and read-only.
    const data = attach(a, 20, '/data-a');
    expectKind(data, 'Rattach');
    expectKind(walk(a, 20, 21, ['data-a']), 'Rwalk');
    expect(errnoOf(walk(a, 20, 22, ['data-b']))).toBe(ENOENT);
    expect(errnoOf(a.rpc({ kind: 'Tmkdir', dfid: 20, name: 'new', mode: 0o755, gid: 0 }).msg)).toBe(EROFS);
    expect(fs.existsSync(path.join(dir, 'a', 'data', 'new'))).toBe(false);
    // And the same the other way round.
    expectKind(attach(b, 0, ''), 'Rattach');
    expectKind(walk(b, 0, 1, ['only-b']), 'Rwalk');
    expect(errnoOf(walk(b, 0, 2, ['only-a']))).toBe(ENOENT);
    expect(errnoOf(attach(b, 5, '/data-a'))).toBe(ENOENT);
    // Delete: the gofer lets go of a member's connection, fids and exports.
    removeFromPodGofer(control, pod, `a-${process.pid}`);
    removeFromPodGofer(control, pod, `b-${process.pid}`);
    expect(waitFds(before)).toEqual(before);
    expect(() => a.rpc({ kind: 'Tclunk', fid: 1 })).toThrow(/connection closed|send of Tclunk failed/);
  }, 60_000);

  test('a member whose connection ends (its sentry\'s end closes) leaves no descriptor in the gofer', () => {
    const before = openFds(gofer);
    const c = addMember(`c-${process.pid}`, 'a');
    expectKind(attach(c, 0, '/'), 'Rattach');
    expectKind(walk(c, 0, 1, ['only-a']), 'Rwalk');
    expectKind(c.rpc({ kind: 'Tlopen', fid: 1, flags: 0 }).msg, 'Rlopen');
    expect(openFds(gofer).length).toBeGreaterThan(before.length);
    c.close();
    conns.splice(conns.indexOf(c), 1);
    expect(waitFds(before)).toEqual(before);
  }, 60_000);

  test.each([
    ['a member id given twice', () => {
      addMember(`d-${process.pid}`, 'a');
      return () => addMember(`d-${process.pid}`, 'b');
    }, /member d-\d+ is already served/],
    ['a rootfs that does not exist (create\'s own check, the gofer\'s words)', () => () => {
      const [x, y] = socketPair();
      try {
        addToPodGofer(control, pod, `e-${process.pid}`, [{ name: '/', hostPath: path.join(dir, 'missing'), readonly: false }], { uid: [], gid: [] }, y);
      } finally {
        closeFd(x);
        closeFd(y);
      }
    }, /^export \/.*\/missing: cannot open: ENOENT$/],
    ['no root export', () => () => {
      const [x, y] = socketPair();
      try {
        addToPodGofer(control, pod, `f-${process.pid}`, [exportsOf('a')[1]], { uid: [], gid: [] }, y);
      } finally {
        closeFd(x);
        closeFd(y);
      }
    }, /member f-\d+ has no root export/],
    ['a bad id mapping', () => () => {
      const [x, y] = socketPair();
      try {
        addToPodGofer(control, pod, `g-${process.pid}`, exportsOf('a'), { uid: ['0:x:1'], gid: [] }, y);
      } finally {
        closeFd(x);
        closeFd(y);
      }
    }, /id mapping "0:x:1"/],
  ])('%s: one error line, nothing kept', (_what, setUp, want) => {
    const before = openFds(gofer);
    const attempt = setUp();
    expect(attempt).toThrow(want);
    for (const id of [`d-${process.pid}`]) removeFromPodGofer(control, pod, id);
    for (const c of conns.splice(0)) c.close();
    expect(waitFds(before)).toEqual(before);
  }, 60_000);

  test.each([
    ['a malformed line', '{"export":', 1, /one JSON object per line/],
    ['an unknown request', '{"mount":{"member":"x"}}', 0, /unknown request "mount"/],
    ['a bad member id', '{"remove":{"member":"../x"}}', 0, /is not a member id/],
    ['an export without its descriptor', '{"export":{"member":"x","name":"/","hostPath":"/","readonly":false}}', 0, /export carries 1 descriptor, not 0/],
    ['an export with two descriptors', '{"export":{"member":"x","name":"/","hostPath":"/","readonly":false}}', 2, /export carries 1 descriptor, not 2/],
    ['an export of no directory or regular file', '{"export":{"member":"x","name":"/","hostPath":"a socket","readonly":false}}', 1, /export a socket: not a directory or a regular file/],
  ])('%s: one error line, no descriptor kept, the gofer serves on', (_what, line, nfds, want) => {
    const before = openFds(gofer);
    const fds = Array.from({ length: nfds }, () => socketPair());
    let reply: Record<string, unknown>;
    try {
      reply = send(control, line, fds.map(([x]) => x));
    } finally {
      for (const [x, y] of fds) {
        closeFd(x);
        closeFd(y);
      }
    }
    expect(Object.keys(reply)).toEqual(['error']);
    expect(String(reply.error)).toMatch(want);
    expect(waitFds(before)).toEqual(before);
    const r = rt.run('exec', pod, 'echo', 'alive');
    expect(`${r.status} ${r.stdout}`).toBe('0 alive\n');
  }, 60_000);

  test('a pod whose gofer is gone takes no new container: create fails naming it and leaves no state (no gofer of its own instead)', () => {
    process.kill(gofer, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (fs.existsSync(`/proc/${gofer}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${gofer}/status`, 'utf8')) && Date.now() < deadline) spin(20);
    const id = `sec-podgofer-member-${process.pid}`;
    const b = rt.bundle('podgofer-member', ['sleep', '100000'], (s) => {
      s.annotations = { [SANDBOX]: 'container', [SANDBOX_ID]: pod };
    });
    const r = rt.run('create', '--bundle', b, id);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`the gofer of pod "${pod}" does not answer: the pod has ended \\(connect .*gofer.sock: ECONNREFUSED`));
    expect(rt.run('list', '-q').stdout.split('\n')).not.toContain(id);
    expect(fs.existsSync(path.join(rt.root, id))).toBe(false);
  }, 60_000);
});
