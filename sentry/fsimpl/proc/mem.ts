/**
 * /proc/<pid>/mem: a process's memory as a file whose offsets are its addresses (proc(5)).
 * Opening it takes ptrace's attach access (kernel/ptrace.ts mayAccess); reads and writes
 * go through the process's memory manager as PTRACE_PEEKDATA/POKEDATA do: a private
 * mapping is written even when read-only (its copy, never the file), a shared one only
 * when writable. A transfer stops at the first page it cannot reach, and one that reaches
 * nothing is EIO. gdb reads and writes a tracee through it.
 */
import { Errno, fail, LinuxError } from '../../kernel/errors';
import type { Credentials } from '../../kernel/credentials';
import { mayAccess } from '../../kernel/ptrace';
import type { Task } from '../../kernel/task';
import { FileDescription } from '../../vfs/file';
import type { Stat } from '../../vfs/inode';
import type { Location } from '../../vfs/mount';
import { ProcInode, type ProcFs } from './nodes';

const PAGE = 4096;
/** LIMIT is one past the highest user address (4-level paging): offsets beyond read nothing. */
const LIMIT = 2 ** 47;

/** ProcMemFile is /proc/<pid>/mem for the process whose live task `task` returns. */
export class ProcMemFile extends ProcInode {
  constructor(pfs: ProcFs, path: string, readonly task: () => Task | undefined, owner?: () => [number, number]) {
    super(pfs, path, 0o100600, owner);
  }

  override get readonly(): boolean {
    return false;
  }

  open(loc: Location, flags: number, c?: Credentials): FileDescription {
    this.alive();
    const t = this.task();
    if (!t || !c || !mayAccess(c, t)) fail(Errno.EACCES);
    return new ProcMemDesc(loc, flags, this);
  }
}

/** transfer moves up to `length` bytes at `addr` page by page through `step`, stopping at the first failure. */
function transfer(addr: number, length: number, step: (at: number, n: number, done: number) => void): number {
  let done = 0;
  while (done < length && addr + done < LIMIT) {
    const at = addr + done;
    const n = Math.min(length - done, PAGE - (at % PAGE), LIMIT - at);
    try {
      step(at, n, done);
    } catch (e) {
      if (e instanceof LinuxError) break;
      throw e;
    }
    done += n;
  }
  if (done === 0 && length > 0) fail(Errno.EIO);
  return done;
}

class ProcMemDesc extends FileDescription {
  constructor(loc: Location, flags: number, readonly node: ProcMemFile) {
    super(loc, flags);
  }

  private target(): Task {
    const t = this.node.task();
    if (!t) return fail(Errno.EIO); // the process is gone
    return t;
  }

  override read(_t: Task, dst: Buffer, offset?: number): number {
    const mm = this.target().mm;
    const at = offset ?? this.offset;
    const n = transfer(at, dst.length, (a, len, done) => mm.read(a, len).copy(dst, done));
    if (offset === undefined) this.offset += n;
    return n;
  }

  override write(_t: Task, src: Buffer, offset?: number): number {
    const mm = this.target().mm;
    const at = offset ?? this.offset;
    const n = transfer(at, src.length, (a, len, done) => {
      const v = mm.findVma(a);
      if (!v) fail(Errno.EFAULT);
      const part = src.subarray(done, done + len);
      if (v.shared) mm.write(a, part);
      else mm.writeForce(a, part);
    });
    if (offset === undefined) this.offset += n;
    return n;
  }

  override stat(): Stat {
    return this.node.stat();
  }
}
