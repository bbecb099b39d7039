/**
 * Per-task I/O accounting, as Linux keeps it for /proc/<pid>/io (task_io_accounting):
 * rchar and wchar are the bytes that read- and write-like calls transferred, syscr and
 * syscw how many such calls reached the file (counted once per call, whatever it
 * returned, failures from the file such as EAGAIN included; not a call refused before,
 * such as EBADF or a blocked call still waiting). A thread group's totals hold every
 * thread's, live or gone, and those of the children it reaped (wait_task_zombie adds
 * them); a new process starts at zero, and exec keeps the counts.
 */
import { Errno, LinuxError } from './errors';
import type { Task } from './task';
import type { ThreadGroup } from './thread-group';

/** IoCounts are one task's or one thread group's counters. */
export interface IoCounts {
  rchar: number;
  wchar: number;
  syscr: number;
  syscw: number;
}

const tasks = new WeakMap<Task, IoCounts>();
const groups = new WeakMap<ThreadGroup, IoCounts>();

/** counts returns the counters kept for `key` in `map`, made on first use. */
function counts<K extends object>(map: WeakMap<K, IoCounts>, key: K): IoCounts {
  let c = map.get(key);
  if (!c) map.set(key, (c = { rchar: 0, wchar: 0, syscr: 0, syscw: 0 }));
  return c;
}

/** count adds one call of task t that moved `bytes` to t's and its group's counters. */
function count(t: Task, write: boolean, bytes: number): void {
  add(counts(tasks, t), write, bytes);
  add(counts(groups, t.tg), write, bytes);
}

/** add counts one call that moved `bytes` in c (no allocation: every read and write comes here). */
function add(c: IoCounts, write: boolean, bytes: number): void {
  if (write) {
    c.syscw++;
    c.wchar += bytes;
  } else {
    c.syscr++;
    c.rchar += bytes;
  }
}

/** accountIo runs one read (or write) call of task t and records it: a byte count or a
 * negative errno is counted, and so is EAGAIN raised by the file (a non-blocking
 * descriptor with nothing to do); other raised errors (checks made before the file is
 * reached) and a blocked call (counted when it completes) are not. */
export function accountIo<R>(t: Task, write: boolean, call: () => R): R {
  let result: R;
  try {
    result = call();
  } catch (e) {
    if (e instanceof LinuxError && e.errno === Errno.EAGAIN) count(t, write, 0);
    throw e;
  }
  if (typeof result === 'number') count(t, write, Math.max(result, 0));
  return result;
}

/** accountTransfer records a call that both read and wrote `result` bytes (sendfile,
 * copy_file_range, once past their checks): one read call and one write call. */
export function accountTransfer<R>(t: Task, result: R): R {
  if (typeof result === 'number') {
    count(t, false, Math.max(result, 0));
    count(t, true, Math.max(result, 0));
  }
  return result;
}

/** reapIo adds a reaped child's totals to its parent's (wait_task_zombie). */
export function reapIo(parent: ThreadGroup, child: ThreadGroup): void {
  const c = groups.get(child);
  if (!c) return;
  const p = counts(groups, parent);
  p.rchar += c.rchar;
  p.wchar += c.wchar;
  p.syscr += c.syscr;
  p.syscw += c.syscw;
}

/** ioText is /proc/<pid>/io (the group's totals) or /proc/<pid>/task/<tid>/io (the
 * thread's). The sandbox does no block I/O of its own (tmpfs and pipes have none, as on
 * Linux; the gofer's host I/O is its own host process's), so read_bytes, write_bytes
 * and cancelled_write_bytes are 0. */
export function ioText(g: ThreadGroup, thread?: Task): string {
  const c = (thread ? tasks.get(thread) : groups.get(g)) ?? { rchar: 0, wchar: 0, syscr: 0, syscw: 0 };
  return `rchar: ${c.rchar}\nwchar: ${c.wchar}\nsyscr: ${c.syscr}\nsyscw: ${c.syscw}\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n`;
}
