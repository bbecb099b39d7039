/**
 * inotify: an anonymous file whose reads return struct inotify_event records for the
 * changes made to watched files inside the sandbox (vfs/fsnotify delivers them). As on
 * Linux: watch descriptors count from 1 per instance; an event identical to the last one
 * still queued is merged into it; a read needs room for the first whole event (EINVAL
 * otherwise) and returns as many whole events as fit; the queue holds at most 16384
 * events, then one IN_Q_OVERFLOW.
 */
import { Errno, fail } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { block, Block, WaitQueue } from '../../kernel/waiter';
import { O_RDONLY, POLLIN, POLLRDNORM } from '../../vfs/file';
import { addWatch, IN_IGNORED, IN_Q_OVERFLOW, removeWatch, type Watch } from '../../vfs/fsnotify';
import type { Inode } from '../../vfs/inode';
import { AnonFile } from './anon';

/** IN_MASK_ADD, IN_ONESHOT, IN_MASK_CREATE: how inotify_add_watch treats the mask. */
export const IN_MASK_CREATE = 0x10000000, IN_MASK_ADD = 0x20000000, IN_ONESHOT = 0x80000000;
/** IN_ALL_EVENTS are the event bits of a mask; IN_EXCL_UNLINK a watch flag fdinfo shows. */
const IN_ALL_EVENTS = 0xfff, IN_EXCL_UNLINK = 0x04000000;
/** MAX_QUEUED_EVENTS is Linux's default /proc/sys/fs/inotify/max_queued_events. */
export const MAX_QUEUED_EVENTS = 16384;
const EVENT_SIZE = 16;

interface QueuedEvent {
  wd: number;
  mask: number;
  cookie: number;
  name: string | null;
}

/** encode lays out one struct inotify_event, its name NUL-padded to a multiple of 16. */
function encode(e: QueuedEvent): Buffer {
  const name = e.name === null ? Buffer.alloc(0) : Buffer.from(e.name);
  const len = e.name === null ? 0 : Math.ceil((name.length + 1) / EVENT_SIZE) * EVENT_SIZE;
  const b = Buffer.alloc(EVENT_SIZE + len);
  b.writeInt32LE(e.wd, 0);
  b.writeUInt32LE(e.mask >>> 0, 4);
  b.writeUInt32LE(e.cookie >>> 0, 8);
  b.writeUInt32LE(len, 12);
  name.copy(b, EVENT_SIZE);
  return b;
}

/** InotifyWatch is one watch descriptor of an instance. */
class InotifyWatch implements Watch {
  constructor(readonly owner: Inotify, readonly wd: number, readonly inode: Inode, public mask: number) {}

  event(mask: number, cookie: number, name: string | null): void {
    this.owner.push({ wd: this.wd, mask: mask & ~IN_ONESHOT, cookie, name });
    if (this.mask & IN_ONESHOT) this.owner.drop(this);
  }

  gone(): void {
    this.owner.drop(this);
  }

  overflow(): void {
    this.owner.push({ wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, name: null });
  }
}

/** Inotify is an inotify instance (inotify_init1). */
export class Inotify extends AnonFile {
  private readonly events: QueuedEvent[] = [];
  private readonly q = new WaitQueue();
  private readonly watches = new Map<number, InotifyWatch>();
  private nextWd = 1;

  constructor(flags: number) {
    super('inotify', O_RDONLY | flags);
  }

  /** addWatch implements inotify_add_watch on an inode already resolved and checked. */
  addWatch(inode: Inode, mask: number): number {
    for (const w of this.watches.values()) {
      if (w.inode.fs !== inode.fs || w.inode.ino !== inode.ino) continue;
      if (mask & IN_MASK_CREATE) fail(Errno.EEXIST);
      w.mask = mask & IN_MASK_ADD ? w.mask | mask : mask;
      return w.wd;
    }
    const w = new InotifyWatch(this, this.nextWd++, inode, mask);
    this.watches.set(w.wd, w);
    addWatch(inode, w);
    return w.wd;
  }

  /** removeWatch implements inotify_rm_watch (EINVAL for an unknown descriptor). */
  removeWatch(wd: number): void {
    const w = this.watches.get(wd);
    if (!w) fail(Errno.EINVAL);
    this.drop(w);
  }

  /** drop removes a watch and queues its IN_IGNORED. */
  drop(w: InotifyWatch): void {
    if (this.watches.get(w.wd) !== w) return;
    this.watches.delete(w.wd);
    removeWatch(w.inode, w);
    this.push({ wd: w.wd, mask: IN_IGNORED, cookie: 0, name: null });
  }

  /** push adds an event, merged into the last one when identical. */
  push(e: QueuedEvent): void {
    const last = this.events[this.events.length - 1];
    if (last && last.wd === e.wd && last.mask === e.mask && last.cookie === e.cookie && last.name === e.name) return;
    if (this.events.length >= MAX_QUEUED_EVENTS) {
      if (last?.mask !== IN_Q_OVERFLOW) this.events.push({ wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, name: null });
    } else this.events.push(e);
    this.q.notify();
  }

  override read(_t: Task, dst: Buffer): number | Block {
    if (this.events.length === 0) return block(this.q);
    let n = 0;
    while (this.events.length > 0) {
      const b = encode(this.events[0]);
      if (n + b.length > dst.length) {
        if (n === 0) fail(Errno.EINVAL);
        break;
      }
      b.copy(dst, n);
      n += b.length;
      this.events.shift();
    }
    return n;
  }

  override ioctl(t: Task, cmd: number, arg: bigint): number {
    if (cmd === 0x541b /* FIONREAD */) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(this.events.reduce((s, e) => s + encode(e).length, 0));
      t.mm.write(arg, b);
      return 0;
    }
    return fail(Errno.ENOTTY);
  }


  /** fdinfo is what /proc/<pid>/fdinfo adds for an inotify descriptor, in Linux's format
   * (inotify_fdinfo): one line per watch, the newest first, with the watched inode, its
   * device in the kernel's encoding (major << 20 | minor) and the mask as the application
   * set it (the event bits, IN_EXCL_UNLINK and IN_ONESHOT). No file handle follows: the
   * sandbox's file systems do not export handles. */
  fdinfo(): string {
    return [...this.watches.values()].reverse().map((w) => {
      let ino = 0, dev = 0;
      try {
        ({ ino, dev } = w.inode.stat());
      } catch {
        // a watched inode whose attributes cannot be read shows 0
      }
      const sdev = ((((dev >>> 8) & 0xfff) << 20) | (dev & 0xff) | ((dev >>> 12) & 0xfff00)) >>> 0;
      const mask = (w.mask & (IN_ALL_EVENTS | IN_EXCL_UNLINK | IN_ONESHOT)) >>> 0;
      return `inotify wd:${w.wd.toString(16)} ino:${ino.toString(16)} sdev:${sdev.toString(16)} mask:${mask.toString(16)} ignored_mask:0\n`;
    }).join('');
  }

  override readiness(): number {
    return this.events.length > 0 ? POLLIN | POLLRDNORM : 0;
  }

  override get queue(): WaitQueue {
    return this.q;
  }



  protected override release(): void {
    for (const w of this.watches.values()) removeWatch(w.inode, w);
    this.watches.clear();
  }
}
