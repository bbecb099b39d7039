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

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');
const SANDBOX = 'io.kubernetes.cri.container-type';

/** send writes one line with `fds` attached to the exec socket and returns the first reply line. */
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
