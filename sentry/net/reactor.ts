/**
 * Reactor is the sentry's one readiness notifier for host descriptors: an epoll fd that
 * libuv watches (native/net/reactor.cc), so a host socket (or terminal, or control
 * socket) becoming readable or writable runs its callback from Node's event loop, with no
 * polling timer. Descriptors are registered edge-triggered: a callback runs on each
 * change of readiness, and whoever it wakes retries its non-blocking call (which either
 * completes or, failing with EAGAIN, waits for the next edge). Callbacks run on the main
 * thread between scheduler batches, never inside a syscall handler.
 */
import { loadNetAddon } from '../../native/net/net-native';

export const EPOLLIN = 0x1, EPOLLPRI = 0x2, EPOLLOUT = 0x4, EPOLLERR = 0x8, EPOLLHUP = 0x10, EPOLLRDHUP = 0x2000,
  EPOLLET = 0x80000000;
const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;

/** ReactorError is a failed epoll_ctl, naming the descriptor. */
export class ReactorError extends Error {
  constructor(readonly errno: number, message: string) {
    super(message);
    this.name = 'ReactorError';
  }
}

/** Reactor maps watched host fds to their callbacks. */
export class Reactor {
  private readonly watches = new Map<number, (events: number) => void>();

  constructor() {
    const r = loadNetAddon().open((pairs) => this.dispatch(pairs));
    if (r < 0) throw new ReactorError(-r, `reactor: epoll_create1 or uv_poll failed: errno ${-r}`);
  }

  /**
   * watch calls cb(events) on each readiness change of fd for `events` (EPOLLIN, EPOLLOUT,
   * ...; EPOLLET is added); a second watch of the same fd replaces the first.
   */
  watch(fd: number, events: number, cb: (events: number) => void): void {
    const op = this.watches.has(fd) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    const r = loadNetAddon().ctl(op, fd, (events | EPOLLET) >>> 0);
    if (r < 0) throw new ReactorError(-r, `reactor: cannot watch fd ${fd}: errno ${-r}`);
    this.watches.set(fd, cb);
  }

  /** unwatch stops watching fd; call it before closing fd. */
  unwatch(fd: number): void {
    if (!this.watches.delete(fd)) return;
    loadNetAddon().ctl(EPOLL_CTL_DEL, fd, 0);
  }

  /** watching is the number of watched descriptors (tests, leak checks). */
  get watching(): number {
    return this.watches.size;
  }

  private dispatch(pairs: Int32Array): void {
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const cb = this.watches.get(pairs[i]);
      if (cb) cb(pairs[i + 1] >>> 0);
    }
  }
}

let the: Reactor | undefined;

/** reactor returns the sentry's reactor, opening it on first use. */
export function reactor(): Reactor {
  if (!the) the = new Reactor();
  return the;
}

/** pollNow returns fd's poll(2) revents for `events` right now (0 when none, -errno on error). */
export function pollNow(fd: number, events: number): number {
  return loadNetAddon().pollFd(fd, events);
}
