/**
 * epoll is the file of epoll_create(2): an interest list of (file description, fd)
 * pairs, each with the events it waits for and the 64-bit datum reported with them.
 *
 * Readiness is level-triggered by default: an entry is ready while its file's readiness()
 * meets its events. Edge-triggered entries (EPOLLET) are reported once per wake-up of
 * their file's wait queue, the way Linux reports them once per wake-up of the file's
 * wait queue; EPOLLONESHOT entries are disabled after one report until EPOLL_CTL_MOD.
 * The epoll file is itself pollable (ready when any entry is), so it can be nested.
 *
 * Entries are examined in ready-list order: a level-triggered entry that is reported goes
 * to the back, as Linux's ep_send_events puts it back on the tail of the ready list, so a
 * wait with a small maxevents reports every ready entry in turn (round-robin) rather than
 * always the first ones.
 *
 * An entry lives as long as its file description, as on Linux: closing the fd it was
 * added with while a dup (or a forked child's copy) keeps the description open leaves it
 * in place.
 */
import { Errno, fail } from '../../kernel/errors';
import { WaitQueue } from '../../kernel/waiter';
import { FileDescription, O_RDWR, POLLERR, POLLHUP, POLLIN, POLLRDNORM } from '../../vfs/file';
import { AnonFile } from './anon';

export const EPOLLIN = 0x1, EPOLLPRI = 0x2, EPOLLOUT = 0x4, EPOLLERR = 0x8, EPOLLHUP = 0x10, EPOLLRDNORM = 0x40,
  EPOLLRDBAND = 0x80, EPOLLWRNORM = 0x100, EPOLLWRBAND = 0x200, EPOLLMSG = 0x400, EPOLLRDHUP = 0x2000;
export const EPOLLEXCLUSIVE = 1 << 28, EPOLLWAKEUP = 1 << 29, EPOLLONESHOT = 1 << 30, EPOLLET = 1 << 31;

/** Interest is one entry of the list. */
interface Interest {
  file: FileDescription;
  fd: number;
  events: number;
  data: bigint;
  /** disabled: a oneshot entry that has fired. */
  disabled: boolean;
  /** woken: the file's queue was notified since the entry last reported (edge-triggered). */
  woken: boolean;
  unwatch: (() => void) | null;
  /** unrelease cancels the hook that drops the entry when its file is released. */
  unrelease: () => void;
}

/** ReadyEvent is one event epoll_wait reports. */
export interface ReadyEvent {
  events: number;
  data: bigint;
}

/** EpollFile is one epoll instance. */
export class EpollFile extends AnonFile {
  private readonly entries = new Map<FileDescription, Map<number, Interest>>();

  /** targets lists what is watched, for /proc/<pid>/fdinfo: each target's fd, events and data. */
  *targets(): Generator<{ file: FileDescription; fd: number; events: number; data: bigint }> {
    for (const byFd of this.entries.values()) for (const e of byFd.values()) yield e;
  }
  /** order holds every entry, the next to be examined first (insertion order of a Set). */
  private readonly order = new Set<Interest>();
  private readonly q = new WaitQueue();

  constructor(flags: number) {
    super('[eventpoll]', O_RDWR | flags);
  }

  /** add implements EPOLL_CTL_ADD. */
  add(file: FileDescription, fd: number, events: number, data: bigint): void {
    if (file === this) fail(Errno.EINVAL);
    if (!file.queue) fail(Errno.EPERM); // regular files and directories: always ready, refused as Linux does
    if (file instanceof EpollFile && file.reaches(this)) fail(Errno.ELOOP);
    let byFd = this.entries.get(file);
    if (byFd?.has(fd)) fail(Errno.EEXIST);
    if (!byFd) this.entries.set(file, (byFd = new Map()));
    const e: Interest = { file, fd, events, data, disabled: false, woken: true, unwatch: null, unrelease: () => {} };
    byFd.set(fd, e);
    this.order.add(e);
    e.unrelease = file.onRelease(() => this.drop(e));
    this.watch(e);
    this.q.notify();
  }

  /** modify implements EPOLL_CTL_MOD. */
  modify(file: FileDescription, fd: number, events: number, data: bigint): void {
    const e = this.entries.get(file)?.get(fd);
    if (!e) fail(Errno.ENOENT);
    if ((events | e.events) & EPOLLEXCLUSIVE) fail(Errno.EINVAL);
    e.events = events;
    e.data = data;
    e.disabled = false;
    e.woken = true;
    this.q.notify();
  }

  /** remove implements EPOLL_CTL_DEL. */
  remove(file: FileDescription, fd: number): void {
    const byFd = this.entries.get(file);
    const e = byFd?.get(fd);
    if (!byFd || !e) fail(Errno.ENOENT);
    this.drop(e);
  }

  /** collect returns up to `max` ready events, applying ET and ONESHOT. */
  collect(max: number): ReadyEvent[] {
    const out: ReadyEvent[] = [];
    const reported: Interest[] = [];
    for (const e of this.order) {
      if (out.length >= max) break;
      if (e.disabled || ((e.events & EPOLLET) !== 0 && !e.woken)) continue;
      const ev = e.file.readiness() & (e.events | POLLERR | POLLHUP);
      if (!ev) continue;
      out.push({ events: ev, data: e.data });
      reported.push(e);
      e.woken = false;
      if (e.events & EPOLLONESHOT) e.disabled = true;
    }
    for (const e of reported) {
      this.order.delete(e);
      this.order.add(e);
    }
    return out;
  }

  /** reaches tells whether `target` is this epoll or is watched by it, directly or not. */
  reaches(target: EpollFile, depth = 0): boolean {
    if (this === target) return true;
    if (depth > 5) return true; // Linux limits nesting to 5 levels (ELOOP)
    for (const file of this.entries.keys()) {
      if (file instanceof EpollFile && file.reaches(target, depth + 1)) return true;
    }
    return false;
  }

  override readiness(): number {
    for (const e of this.order) {
      if (e.disabled || ((e.events & EPOLLET) !== 0 && !e.woken)) continue;
      if (e.file.readiness() & (e.events | POLLERR | POLLHUP)) return POLLIN | POLLRDNORM;
    }
    return 0;
  }

  override get queue(): WaitQueue {
    return this.q;
  }






  protected override release(): void {
    for (const e of [...this.order]) this.drop(e);
  }

  /** watch follows the file's wait queue for as long as the entry lives (its waiters are one-shot). */
  private watch(e: Interest): void {
    const q = e.file.queue;
    if (!q) return;
    e.unwatch = q.add(() => {
      e.unwatch = null;
      e.woken = true;
      this.q.notify();
      if (this.entries.get(e.file)?.get(e.fd) === e) this.watch(e);
    });
  }

  private drop(e: Interest): void {
    e.unwatch?.();
    e.unwatch = null;
    e.unrelease();
    this.order.delete(e);
    const byFd = this.entries.get(e.file);
    byFd?.delete(e.fd);
    if (byFd && byFd.size === 0) this.entries.delete(e.file);
  }
}
