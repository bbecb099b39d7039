/**
 * ExecServer runs `tvisor exec` requests in a running sandbox. A client connects to the
 * exec socket and sends one message: a JSON line {"process": <OCI process>} with its
 * stdin, stdout and stderr attached as descriptors (SCM_RIGHTS). The sandbox answers
 * {"pid": N} (or {"error": "..."}), later {"exit": code} when the process exits; the
 * client may send {"signal": n} lines meanwhile. With "terminal": true in the process, the
 * request carries no descriptors: the sandbox opens a new pty, makes its slave the
 * process's terminal (/dev/pts/N, the controlling terminal of its new session) and sends
 * the master with the pid reply ({"pid": N, "tty": "/dev/pts/N"} and one SCM_RIGHTS fd). A client that goes away kills its
 * process. Node's net module cannot receive descriptors, so this socket is served with
 * koffi calls, woken by the sentry's host-I/O reactor (net/reactor.ts): no timer, no
 * polling. The reactor is edge-triggered: each wake-up reads until EAGAIN.
 */
import { Errno } from '../native/libc';
import { closeFd, MsgBuffers } from '../native/unixsock';
import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLRDHUP, reactor } from './net/reactor';
import { UnixListener } from './net/unix-listener';
import type { Process } from '../oci/config';
import type { Kernel } from './kernel/kernel';
import { sendToGroup } from './kernel/signals';
import { SIGKILL, SI_USER } from './kernel/signal-types';
import { spawnProcess } from './kernel/spawn';
import type { ThreadGroup } from './kernel/thread-group';
import type { SentryLog } from './log';
import { HostFile } from './fsimpl/host/host-file';
import { openPty, Terminal } from './fsimpl/host/tty';
import { O_RDONLY, O_WRONLY, type FileDescription } from './vfs/file';
import { exitCode } from './exit-code';
import { profileMark } from '../native/startup-profile';
import type { Spec } from '../oci/config';
import type { PodContainers } from './kernel/containers';

const MSG_DONTWAIT = 0x40;

interface Conn {
  fd: number;
  buf: string;
  tg: ThreadGroup | null;
}

/** ExecServer serves one exec socket. */
export class ExecServer {
  private readonly listener: UnixListener;
  private readonly conns = new Set<Conn>();
  private readonly io = new MsgBuffers(1 << 20);

  /** pods, when set, serves {"create": {"id", "spec"}} requests and {"process", "container"} execs (kernel/containers.ts). */
  constructor(readonly path: string, private readonly k: Kernel, private readonly log: SentryLog, private readonly pods?: PodContainers) {
    this.listener = new UnixListener(path, (fd) => this.accepted(fd));
  }

  private accepted(fd: number): void {
    const c: Conn = { fd, buf: '', tg: null };
    this.conns.add(c);
    profileMark('exec-accepted');
    reactor().watch(fd, EPOLLIN | EPOLLRDHUP, (ev) => {
      if (ev & EPOLLIN) this.readAll(c);
      else if (ev & (EPOLLHUP | EPOLLERR)) this.drop(c);
    });
    this.readAll(c); // a request may have arrived before the watch
  }

  /** readAll reads what the connection holds, until EAGAIN (the reactor is edge-triggered). */
  private readAll(c: Conn): void {
    while (this.conns.has(c) && this.readFrom(c));
  }

  /** readFrom reads one message; false when there is nothing more to read now. */
  private readFrom(c: Conn): boolean {
    const n = this.io.recv(c.fd, 0, this.io.data.length, MSG_DONTWAIT);
    const fds = this.io.fds;
    if (n === -Errno.EAGAIN) return false;
    if (n <= 0) {
      for (const fd of fds) closeFd(fd);
      this.drop(c);
      return false;
    }
    c.buf += this.io.data.toString('utf8', 0, n);
    let nl: number;
    while ((nl = c.buf.indexOf('\n')) >= 0) {
      const line = c.buf.slice(0, nl);
      c.buf = c.buf.slice(nl + 1);
      this.handle(c, line, fds.splice(0));
    }
    for (const fd of fds) closeFd(fd);
    return true;
  }

  private send(c: Conn, msg: Record<string, unknown>, fds: number[] = []): void {
    const b = Buffer.from(`${JSON.stringify(msg)}\n`);
    this.io.send(c.fd, b, b.length, fds);
  }

  private handle(c: Conn, line: string, fds: number[]): void {
    let req: { process?: Process; signal?: number; container?: string; create?: { id: string; spec: Spec } };
    try {
      req = JSON.parse(line);
    } catch {
      for (const fd of fds) closeFd(fd);
      this.send(c, { error: 'malformed request' });
      return;
    }
    if (req.create !== undefined && this.pods && !c.tg) {
      this.createContainer(c, req.create, fds);
      return;
    }
    if (req.signal !== undefined) {
      const sig = Number(req.signal);
      if (c.tg && Number.isInteger(sig) && sig >= 1 && sig <= 64) sendToGroup(c.tg, { signo: sig, code: SI_USER, pid: 0, uid: 0 }, true);
      return;
    }
    if (!req.process || c.tg) {
      this.send(c, { error: 'expected one process' });
      return;
    }
    const terminal = req.process.terminal === true;
    const want = terminal ? 0 : 3;
    if (fds.length !== want) {
      for (const fd of fds) closeFd(fd);
      this.send(c, { error: terminal ? `expected no descriptors with a terminal, got ${fds.length}` : `expected 3 descriptors (stdin, stdout, stderr), got ${fds.length}` });
      return;
    }
    let master = -1;
    let term: Terminal | null = null;
    let stdio: FileDescription[] = [];
    try {
      if (terminal) {
        ({ master, term, stdio } = this.openTerminal(req.process));
      } else {
        stdio = [new HostFile(fds[0], O_RDONLY, 'stdin', true), new HostFile(fds[1], O_WRONLY, 'stdout', true), new HostFile(fds[2], O_WRONLY, 'stderr', true)];
      }
      profileMark('exec-request');
      const task = req.container !== undefined && this.pods ? this.pods.spawnIn(req.container, req.process, stdio) : spawnProcess(this.k, req.process, stdio);
      profileMark('exec-loaded');
      // The process leads a new session (spawnProcess): the terminal becomes its controlling one.
      if (term) term.sid = task.tg.sid;
      c.tg = task.tg;
      task.tg.exitWatcher = (status) => {
        this.send(c, { exit: exitCode(status) });
        this.drop(c);
      };
      // With a terminal, the master goes to the client with the pid; the sentry keeps only the slave.
      this.send(c, term ? { pid: task.pid, tty: `/dev/pts/${term.index}` } : { pid: task.pid }, master >= 0 ? [master] : []);
      this.k.sched.wake(task);
    } catch (e) {
      this.log.debug(`exec: ${(e as Error).message}`);
      this.send(c, { error: (e as Error).message });
      // A process that failed before taking its stdio leaves the terminal open: close it.
      if (term && this.k.terminals.has(term)) for (const f of stdio) f.unref();
    } finally {
      if (master >= 0) closeFd(master);
    }
  }

  /** openTerminal opens a new pty for a process with a terminal: its master (for the client) and the slave as its stdio. */
  private openTerminal(proc: Process): { master: number; term: Terminal; stdio: FileDescription[] } {
    const size = proc.consoleSize;
    const [master, slave] = openPty(size?.height ?? 0, size?.width ?? 0, false);
    let term: Terminal;
    try {
      term = new Terminal(slave, this.k, { lineDiscipline: true });
    } catch (e) {
      closeFd(slave);
      closeFd(master);
      throw e;
    }
    const tty = term.open();
    return { master, term, stdio: [tty, tty.ref(), tty.ref()] };
  }

  /**
   * createContainer serves {"create": {id, spec}}: a container of the pod (kernel/containers.ts),
   * with the gofer connection and the waiter's pipe attached, then stdin, stdout and stderr,
   * or, with process.terminal, a new pty whose master goes back with the reply (as an exec's).
   */
  private createContainer(c: Conn, create: { id: string; spec: Spec } | undefined, fds: number[]): void {
    const terminal = create?.spec?.process?.terminal === true;
    let tty: ReturnType<ExecServer['openTerminal']> | null = null;
    let handed = false;
    try {
      if (terminal) {
        if (fds.length !== 2) throw new Error(`create: expected 2 descriptors (gofer, waiter) with a terminal, got ${fds.length}`);
        tty = this.openTerminal(create!.spec.process!);
      }
      // The descriptors are the pod's from here, whatever happens (containers.ts).
      handed = true;
      const init = this.pods!.create(create?.id as string, create?.spec as Spec, fds, tty?.stdio);
      if (tty) tty.term.sid = init.tg.sid;
      this.send(c, tty ? { pid: init.tg.tgid, tty: `/dev/pts/${tty.term.index}` } : { pid: init.tg.tgid }, tty ? [tty.master] : []);
    } catch (e) {
      if (!handed) for (const fd of fds) closeFd(fd);
      if (tty && this.k.terminals.has(tty.term)) for (const f of tty.stdio) f.unref();
      this.send(c, { error: (e as Error).message });
    } finally {
      if (tty) closeFd(tty.master);
    }
  }

  private drop(c: Conn): void {
    if (!this.conns.delete(c)) return;
    reactor().unwatch(c.fd);
    closeFd(c.fd);
    // A client that went away takes its process with it.
    if (c.tg && c.tg.alive && !c.tg.zombie) {
      c.tg.exitWatcher = null;
      sendToGroup(c.tg, { signo: SIGKILL, code: SI_USER, pid: 0, uid: 0 }, true);
    }
  }

  close(): void {
    for (const c of [...this.conns]) this.drop(c);
    this.listener.close();
  }
}
