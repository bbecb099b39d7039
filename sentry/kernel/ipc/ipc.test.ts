/**
 * The IPC objects without a sandbox: ids and ipcget's key rules, a segment's attachment
 * count and destroy-on-last-detach, semop's all-or-nothing and SEM_UNDO at exit, message
 * order, and the IPC heap budget (ENOMEM past it, everything given back after removal).
 */
import { MemoryFile } from '../../../platform';
import { Credentials } from '../credentials';
import { Errno, LinuxError } from '../errors';
import { ThreadGroup } from '../thread-group';
import { ipcBudget } from './budget';
import { MsgQueue } from './msg';
import { PosixMq } from './mqueue';
import { IpcNamespace } from './namespace';
import { IPC_CREAT, IPC_EXCL, IPCMNI } from './perm';
import { exitSemUndo, SEM_UNDO, SemSet } from './sem';
import { SHM_DEST, ShmSegment } from './shm';
import type { Task } from '../task';

const root = new Credentials(0, 0);

function errnoOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof LinuxError) return e.errno;
    throw e;
  }
  return undefined;
}

describe('IPC objects', () => {
  const budget = { ...ipcBudget };
  afterEach(() => Object.assign(ipcBudget, budget));

  test('ids are seq * IPCMNI + the lowest free index; keys follow IPC_CREAT and IPC_EXCL', () => {
    const ns = new IpcNamespace();
    const make = (key: number, flags: number) => ns.sem.lookup(key, flags, root, () => new SemSet(key, root, flags, 1));
    const a = make(0, 0o600), b = make(0, 0o600);
    expect([a.perm.id, b.perm.id]).toEqual([0, IPCMNI + 1]);
    ns.sem.remove(a);
    expect(make(0, 0o600).perm.id).toBe(2 * IPCMNI);
    expect(errnoOf(() => make(42, 0o600))).toBe(Errno.ENOENT);
    const k = make(42, IPC_CREAT | 0o600);
    expect(make(42, 0)).toBe(k);
    expect(errnoOf(() => make(42, IPC_CREAT | IPC_EXCL))).toBe(Errno.EEXIST);
    expect(errnoOf(() => make(42, 0o060))).toBeUndefined(); // root: CAP_IPC_OWNER
    expect(errnoOf(() => ns.sem.lookup(42, 0o400, new Credentials(1000, 1000), () => k))).toBe(Errno.EACCES);
    expect(errnoOf(() => ns.sem.get(k.perm.id + IPCMNI))).toBe(Errno.EINVAL);
  });

  test('a segment counts its attachments and goes with the last one after IPC_RMID', () => {
    const mf = MemoryFile.create({ maxSize: 1 << 24 });
    try {
      const ns = new IpcNamespace();
      const seg = ns.shm.lookup(0, 0o600, root, () => new ShmSegment(mf, 100000, 0, root, 0o600, 1, (s) => ns.shm.remove(s)));
      seg.ref();
      seg.ref();
      seg.writeAt(Buffer.from('x'), 70000);
      expect(seg.nattch).toBe(2);
      seg.markRemoved();
      expect(seg.perm.mode & SHM_DEST).toBe(SHM_DEST);
      expect(ns.shm.get(seg.perm.id)).toBe(seg);
      seg.unref();
      expect(seg.chunks.size).toBe(1);
      seg.unref();
      expect(errnoOf(() => ns.shm.get(seg.perm.id))).toBe(Errno.EINVAL);
      expect(seg.chunks.size).toBe(0);
    } finally {
      mf.close();
    }
  });

  test('semop applies all operations or none, and SEM_UNDO is applied at exit', () => {
    const tg = new ThreadGroup(7, null, null);
    const set = new SemSet(0, root, 0o600, 2);
    expect(set.apply([{ num: 0, op: 2, flg: SEM_UNDO }, { num: 1, op: -1, flg: 0 }], tg, 7)).toEqual({ num: 1, op: -1, flg: 0 });
    expect([...set.values]).toEqual([0, 0]);
    expect(set.apply([{ num: 0, op: 2, flg: SEM_UNDO }, { num: 1, op: 3, flg: 0 }], tg, 7)).toBeNull();
    expect([...set.values]).toEqual([2, 3]);
    expect(errnoOf(() => set.apply([{ num: 1, op: 32767, flg: 0 }], tg, 7))).toBe(Errno.ERANGE);
    exitSemUndo(tg);
    expect([...set.values]).toEqual([0, 3]);
    expect(set.pids[0]).toBe(7);
  });

  test('messages are charged to the budget: ENOMEM past it, all given back after IPC_RMID', () => {
    ipcBudget.used = 0;
    ipcBudget.limit = 64 * 1024;
    const ns = new IpcNamespace();
    const q = ns.msg.lookup(0, 0o600, root, () => new MsgQueue(0, root, 0o600, 1 << 30));
    let sent = 0;
    const err = errnoOf(() => {
      for (;;) {
        q.push({ type: 1n, text: Buffer.alloc(8192) }, 1);
        sent++;
      }
    });
    expect(err).toBe(Errno.ENOMEM);
    expect(sent).toBe(7);
    q.take(q.find(0n, 0), 1);
    ns.msg.remove(q);
    expect(ipcBudget.used).toBe(0);
  });

  test('POSIX queues: highest priority first, FIFO within one; freed once unlinked and closed', () => {
    ipcBudget.used = 0;
    const mq = new PosixMq('q', 4, 16, 0o600, root);
    const sender = { pid: 1, creds: root } as unknown as Task;
    for (const [text, prio] of [['a', 1], ['b', 5], ['c', 1], ['d', 5]] as const) expect(mq.send(Buffer.from(text), prio, sender)).toBe(true);
    expect(mq.send(Buffer.from('e'), 0, sender)).toBe(false);
    expect(mq.receive()!.data.toString()).toBe('b');
    mq.opens = 1;
    mq.unlinked();
    expect(ipcBudget.used).toBeGreaterThan(0);
    mq.closed();
    expect(ipcBudget.used).toBe(0);
  });
});
