/**
 * Server is the gofer's event loop: one thread, poll(2) over the listening socket and
 * every connection, requests answered synchronously. No libuv round trip sits between a
 * request and its reply; the loop returns to Node's event loop only when idle (every
 * 200 ms) or after 50 ms of continuous work, so that signal handlers can run.
 *
 * With a control socket (a pod's gofer: members.ts) it also serves the runtime's
 * requests there, each of which may add a pod member's 9P connection; the control socket
 * keeps nothing alive: the server ends with its last 9P connection, as without it.
 */
import { Errno, errnoName } from '../../native/libc';
import { accept, closeFd, setNonBlocking, MsgBuffers, PollSet, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, SOCK_CLOEXEC, SOCK_NONBLOCK } from '../../native/unixsock';
import { Connection, type Logger } from './connection';
import type { Exports } from './export';
import { MAX_MSIZE } from './handlers/session';
import { MemberRegistry } from './members';

const IDLE_POLL_MS = 200;
const BUSY_SLICE_MS = 50;

/** ServerOptions says what to serve and where. */
export interface ServerOptions {
  exports: Exports;
  /** listenFd accepts new connections (--socket); -1 for none. */
  listenFd: number;
  /** connFds are already connected sockets (--fd). */
  connFds: number[];
  /** controlFd listens for pod members' control requests (--control, members.ts); -1 or absent for none. */
  controlFd?: number;
  log: Logger;
}

/** Server serves 9P2000.L to its connections until none is left and nothing listens. */
export class Server {
  private conns: Connection[] = [];
  private readonly poll = new PollSet();
  private readonly bufs = new MsgBuffers(MAX_MSIZE + 4096);
  private done!: () => void;
  /** members serves the control socket, when there is one. */
  readonly members: MemberRegistry | null;

  constructor(private readonly opts: ServerOptions) {
    if (opts.listenFd >= 0) setNonBlocking(opts.listenFd);
    for (const fd of opts.connFds) this.addConnection(fd);
    const controlFd = opts.controlFd ?? -1;
    this.members = controlFd >= 0 ? new MemberRegistry(controlFd, { serve: (fd, exports) => this.addConnection(fd, exports), log: opts.log }) : null;
  }

  private addConnection(fd: number, exports = this.opts.exports): Connection {
    setNonBlocking(fd);
    const c = new Connection(fd, exports, true, this.opts.log);
    this.conns.push(c);
    return c;
  }

  /** run serves until the last connection closes (with no listening socket). */
  run(): Promise<void> {
    return new Promise((resolve) => {
      this.done = resolve;
      this.loop();
    });
  }

  private loop = (): void => {
    const sliceEnd = Date.now() + BUSY_SLICE_MS;
    for (;;) {
      const { listenFd } = this.opts;
      if (listenFd < 0 && this.conns.length === 0) {
        this.done();
        return;
      }
      const entries: Array<[number, number]> = [];
      if (listenFd >= 0) entries.push([listenFd, POLLIN]);
      // A connection with replies still queued is not read until they drain; one whose
      // Tnotify is parked also waits for its host inotify descriptor.
      for (const c of this.conns) {
        entries.push([c.fd, c.wantsWrite ? POLLOUT : POLLIN]);
        entries.push([c.notifyFd, POLLIN]);
      }
      const controlAt = entries.length;
      for (const fd of this.members?.pollFds() ?? []) entries.push([fd, POLLIN]);
      this.poll.set(entries);
      const ready = this.poll.wait(IDLE_POLL_MS);
      if (ready < 0 && ready !== -Errno.EINTR) this.opts.log.error(`gofer: poll failed: ${errnoName(-ready)}`);
      if (ready > 0) {
        this.dispatch(listenFd);
        this.members?.dispatch((i) => (this.poll.revents(controlAt + i) & (POLLIN | POLLERR | POLLHUP)) !== 0, this.bufs);
        this.conns = this.conns.filter((c) => !c.closed); // a member removed
      }
      if (ready <= 0 || Date.now() > sliceEnd) {
        // Let Node's event loop run (signal handlers, timers), then come back.
        setImmediate(this.loop);
        return;
      }
    }
  };

  private dispatch(listenFd: number): void {
    const polled = this.conns.slice(); // in poll-set order; accepted ones join next round
    let i = 0;
    if (listenFd >= 0) {
      if (this.poll.revents(0) & POLLIN) this.acceptAll(listenFd);
      i = 1;
    }
    for (const c of polled) {
      const ev = this.poll.revents(i++);
      const nev = this.poll.revents(i++);
      if (ev & POLLOUT) c.flush(this.bufs);
      else if (ev & POLLIN) c.onReadable(this.bufs);
      else if (ev & (POLLERR | POLLHUP | POLLNVAL)) c.close('');
      if (nev & POLLIN && !c.closed) c.onNotify();
    }
    this.conns = this.conns.filter((c) => !c.closed);
  }

  private acceptAll(listenFd: number): void {
    for (;;) {
      const fd = accept(listenFd, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) return;
      this.addConnection(fd);
    }
  }

  /** close ends every connection. */
  close(): void {
    for (const c of this.conns) c.close('');
    this.conns = [];
    this.members?.close();
    if (this.opts.listenFd >= 0) closeFd(this.opts.listenFd);
  }
}
