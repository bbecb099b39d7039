/**
 * What the System V IPC handlers share (ipc-shm.ts, ipc-sem.ts, ipc-msg.ts): the
 * *_STAT and IPC_SET commands of the three *ctl calls and the *info encodings. The
 * objects live in the task's IPC namespace (kernel/ipc/); the handlers decode the
 * arguments, check them in Linux's order and sleep where Linux sleeps.
 */
import { seenBy } from '../../../kernel/pid-namespace';
import { givenId } from '../../../kernel/user-namespace';
import { nowSeconds, MAY_READ, type IpcObject, type IpcRegistry } from '../../../kernel/ipc/perm';
import { Errno, fail } from '../../../kernel/errors';
import type { Task } from '../../../kernel/task';

/**
 * statCommand answers IPC_STAT and the *_STAT(_ANY) commands, which name the object by
 * index and return its id: the object's *id64_ds, read access checked except for *_ANY.
 */
export function statCommand<T extends IpcObject & { encode(pid?: (id: number) => number): Buffer }>(t: Task, reg: IpcRegistry<T>, id: number, byIndex: boolean, any: boolean, buf: bigint): number {
  const o = byIndex ? reg.atIndex(id) : reg.get(id);
  if (!o) fail(Errno.EINVAL);
  if (!any) o.perm.check(t.creds, MAY_READ);
  // Recorded pids as the caller's pid namespace numbers them, the owner's ids as its user
  // namespace sees them.
  const b = o.encode((id) => seenBy(t, id));
  o.perm.encode(b, t.creds.userns);
  t.mm.write(buf, b);
  return byIndex ? o.perm.id : 0;
}

/** setCommand answers IPC_SET: the owner's ids and mode from the caller's *id64_ds. */
export function setCommand(t: Task, o: IpcObject & { ctime: number }, buf: bigint, size: number): Buffer {
  const b = t.mm.read(buf, size);
  o.perm.checkOwner(t.creds);
  o.perm.set(b, (kind, id) => givenId(t.kernel, t.creds.userns, kind, id));
  o.ctime = nowSeconds();
  return b;
}

/** ulongs encodes unsigned longs (the shminfo64 and shm_info layouts). */
export function ulongs(values: Array<number | bigint>, size: number): Buffer {
  const b = Buffer.alloc(size);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), i * 8));
  return b;
}
