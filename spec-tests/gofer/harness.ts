/**
 * Black-box harness for the gofer: starts the real `bin/tvisor gofer` on a temporary
 * Unix socket and speaks raw 9P2000.L frames to it (the codec's encode/decode), so that
 * tests can send both well-formed requests and arbitrary bytes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { decode, encode, FrameSplitter, type Body, type Message, type MsgName } from '../../gofer/p9';
import { closeFd, connectUnix, MsgBuffers } from '../../native/unixsock';

/** TVISOR is the built binary under test. */
export const TVISOR = path.resolve(__dirname, '../../bin/tvisor');

/** GoferProcess is a running gofer serving one or more directories. */
export class GoferProcess {
  private constructor(readonly proc: ChildProcess, readonly socketPath: string, readonly stderr: string[]) {}

  /** start runs `tvisor gofer` with args (besides --socket) and waits for its socket. */
  static async start(args: string[]): Promise<GoferProcess> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tvisor-gofer-sock-'));
    const socketPath = path.join(dir, 'gofer.sock');
    const proc = spawn(TVISOR, ['gofer', ...args, '--socket', socketPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr: string[] = [];
    proc.stderr!.on('data', (d) => stderr.push(String(d)));
    const deadline = Date.now() + 10_000;
    while (!existsSync(socketPath)) {
      if (proc.exitCode !== null) throw new Error(`gofer exited ${proc.exitCode}: ${stderr.join('')}`);
      if (Date.now() > deadline) throw new Error(`gofer did not listen: ${stderr.join('')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return new GoferProcess(proc, socketPath, stderr);
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** openFds counts the gofer's open descriptors (from /proc). */
  openFds(): number {
    return readdirSync(`/proc/${this.proc.pid}/fd`).length;
  }

  async connect(): Promise<RawConn> {
    return RawConn.connect(this.socketPath);
  }

  /** connectFd opens a connection that receives passed descriptors (FdConn). */
  connectFd(): FdConn {
    return new FdConn(connectUnix(this.socketPath));
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    const done = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await done;
  }
}

/** RawConn is one 9P connection with tag-multiplexed requests. */
export class RawConn {
  private readonly splitter = new FrameSplitter(1 << 24);
  private readonly waiting = new Map<number, (m: Message) => void>();
  private nextTag = 1;
  closed = false;
  private closedWaiters: Array<() => void> = [];

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (chunk) => {
      this.splitter.push(chunk);
      for (let f = this.splitter.next(); f; f = this.splitter.next()) {
        const m = decode(f.buf, f.start, f.end);
        const w = this.waiting.get(m.tag);
        this.waiting.delete(m.tag);
        w?.(m);
      }
      this.splitter.retain();
    });
    sock.on('close', () => {
      this.closed = true;
      for (const w of this.closedWaiters) w();
      for (const [tag, w] of this.waiting) w({ kind: 'Rlerror', tag, ecode: -1 } as Message);
      this.waiting.clear();
    });
    sock.on('error', () => undefined);
  }

  static connect(socketPath: string): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(socketPath, () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  /** rpc sends one request (its tag is assigned here) and resolves with the reply. */
  rpc<N extends MsgName>(msg: { kind: N; tag?: number } & Body<N>): Promise<Message> {
    const tag = msg.tag ?? this.allocTag();
    return new Promise((resolve) => {
      this.waiting.set(tag, resolve);
      this.sock.write(encode({ ...msg, tag } as Message));
    });
  }

  /** sendRaw writes bytes as they are; `expectTags` replies are awaited (or the close). */
  sendRaw(bytes: Buffer, expectTags: number[] = []): Promise<Message[]> {
    const replies = expectTags.map((tag) => new Promise<Message>((resolve) => this.waiting.set(tag, resolve)));
    this.sock.write(bytes);
    return Promise.all(replies);
  }

  /** whenClosed resolves when the server closes the connection. */
  whenClosed(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((r) => this.closedWaiters.push(r));
  }

  allocTag(): number {
    const t = this.nextTag;
    this.nextTag = this.nextTag >= 0xfffe ? 1 : this.nextTag + 1;
    return t;
  }

  /** handshake negotiates 9P2000.L (or `version`, which the gofer must agree to) and
   * attaches fid 0 to the export `aname`. */
  async handshake(aname = '', msize = 65536, version = '9P2000.L'): Promise<void> {
    const v = await this.rpc({ kind: 'Tversion', tag: 0xffff, msize, version });
    expectKind(v, 'Rversion');
    expect(v.version).toBe(version);
    const a = await this.rpc({ kind: 'Tattach', fid: 0, afid: 0xffffffff, uname: 'root', aname, nUname: 0 });
    expectKind(a, 'Rattach');
  }

  close(): void {
    this.sock.destroy();
  }
}

/**
 * FdConn is one 9P connection over a blocking Unix socket that also receives the
 * descriptors a 9P2000.L.fd server attaches (SCM_RIGHTS), one request at a time: what a
 * sentry sees. The caller closes the descriptors each reply brings.
 */
export class FdConn {
  private readonly bufs = new MsgBuffers(1 << 20);
  private readonly splitter = new FrameSplitter(1 << 24);
  private readonly fds: number[] = [];

  constructor(readonly fd: number) {}

  /** rpc sends one request and returns its reply with every descriptor received with it. */
  rpc<N extends MsgName>(msg: { kind: N; tag?: number } & Body<N>): { msg: Message; fds: number[] } {
    const bytes = encode({ ...msg, tag: msg.tag ?? 1 } as Message);
    if (this.bufs.send(this.fd, bytes) !== bytes.length) throw new Error(`send of ${msg.kind} failed`);
    for (;;) {
      const f = this.splitter.next();
      if (f) {
        this.splitter.retain();
        return { msg: decode(f.buf, f.start, f.end), fds: this.fds.splice(0) };
      }
      const n = this.bufs.recv(this.fd);
      if (n <= 0) throw new Error(`connection closed or failed (${n}) awaiting the reply to ${msg.kind}`);
      this.fds.push(...this.bufs.fds);
      this.splitter.push(Buffer.from(this.bufs.data.subarray(0, n)));
    }
  }

  close(): void {
    closeFd(this.fd);
  }
}

/** expectKind narrows a reply, failing with the errno when it is an Rlerror. */
export function expectKind<N extends MsgName>(m: Message, kind: N): asserts m is Message<N> {
  if (m.kind !== kind) {
    const detail = m.kind === 'Rlerror' ? ` (errno ${(m as Message<'Rlerror'>).ecode})` : '';
    throw new Error(`expected ${kind}, got ${m.kind}${detail}`);
  }
}

/** errnoOf returns the ecode of an Rlerror reply, or 0 for any other reply. */
export function errnoOf(m: Message): number {
  return m.kind === 'Rlerror' ? (m as Message<'Rlerror'>).ecode : 0;
}

/** built tells whether bin/tvisor exists (tests skip with this reason otherwise). */
export const built = existsSync(TVISOR);

/**
 * snapshot lists every path under dir with its mode, owner, size, mtime and content (or
 * symlink target), for before/after comparisons of what a test must not change.
 */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    for (const name of readdirSync(p).sort()) {
      const full = path.join(p, name);
      const st = lstatSync(full);
      const content = st.isFile() ? readFileSync(full).toString('base64') : st.isSymbolicLink() ? readlinkSync(full) : '';
      out.push(`${path.relative(dir, full)} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs} ${content}`);
      if (st.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}

/**
 * makeEscapeTree builds base/export (the tree a gofer serves) beside base/outside (a
 * secret that must stay out of reach), with symlinks leading out of the export: to
 * /etc/shadow, to ../../.., to the secret and to the outside directory.
 */
export function makeEscapeTree(prefix: string): { base: string; exp: string; outside: string } {
  const base = mkdtempSync(path.join(os.tmpdir(), prefix));
  const exp = path.join(base, 'export');
  const outside = path.join(base, 'outside');
  mkdirSync(path.join(exp, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'secret.txt'), 'TOP SECRET\n');
  writeFileSync(path.join(exp, 'file.txt'), 'inside\n');
  writeFileSync(path.join(exp, 'file'), 'data');
  symlinkSync('/etc/shadow', path.join(exp, 'link-shadow'));
  symlinkSync('../../..', path.join(exp, 'link-up'));
  symlinkSync('../outside/secret.txt', path.join(exp, 'link-outside'));
  symlinkSync('../outside/secret.txt', path.join(exp, 'link-out'));
  symlinkSync('../outside', path.join(exp, 'link-dir'));
  return { base, exp, outside };
}

/** EscapeGofer is a gofer serving a fresh makeEscapeTree, connected and past the handshake. */
export interface EscapeGofer {
  readonly tree: ReturnType<typeof makeEscapeTree>;
  readonly gofer: GoferProcess;
  readonly c: RawConn;
}

/**
 * escapeGofer registers, in the calling describe block, the set-up and tear-down of an
 * EscapeGofer: the tree (with `populate` run on it), a gofer on it and one connection
 * (handshake with `version`); afterwards the outside directory must be unchanged and the
 * tree is removed. Read `tree` and `c` inside the tests.
 */
export function escapeGofer(prefix: string, version = '9P2000.L.fd', populate?: (tree: ReturnType<typeof makeEscapeTree>) => void): EscapeGofer {
  let tree: ReturnType<typeof makeEscapeTree> | undefined;
  let gofer: GoferProcess | undefined;
  let c: RawConn | undefined;
  let outsideBefore: string[] = [];
  beforeAll(async () => {
    tree = makeEscapeTree(prefix);
    populate?.(tree);
    outsideBefore = snapshot(tree.outside);
    gofer = await GoferProcess.start(['--root', tree.exp]);
    c = await gofer.connect();
    await c.handshake('', 65536, version);
  });
  afterAll(async () => {
    c?.close();
    await gofer?.stop();
    if (!tree) return;
    expect(snapshot(tree.outside)).toEqual(outsideBefore);
    rmSync(tree.base, { recursive: true, force: true });
  });
  return {
    get tree() { if (!tree) throw new Error('escapeGofer: used outside its tests'); return tree; },
    get gofer() { if (!gofer) throw new Error('escapeGofer: used outside its tests'); return gofer; },
    get c() { if (!c) throw new Error('escapeGofer: used outside its tests'); return c; },
  };
}
