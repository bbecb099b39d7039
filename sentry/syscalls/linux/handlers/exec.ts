/**
 * execve and execveat.
 */
import { Errno, fail } from '../../../kernel/errors';
import { execve } from '../../../kernel/task-exec';
import type { Task } from '../../../kernel/task';
import { define } from '../registry';
import { AT_EMPTY_PATH, AT_FDCWD, dirLocation, fdArg, pathArg, u32 } from './util';

const MAX_ARGS = 0x7fffffff;

/** readStrings reads a NULL-terminated array of string pointers (argv, envp). */
function readStrings(t: Task, addr: bigint): string[] {
  const out: string[] = [];
  if (addr === 0n) return out;
  for (let i = 0; i < MAX_ARGS; i++) {
    const p = t.mm.read(addr + BigInt(i * 8), 8).readBigUInt64LE(0);
    if (p === 0n) return out;
    out.push(t.mm.readString(p, 32 * 4096));
    if (out.length > 1 << 17) fail(Errno.E2BIG);
  }
  return out;
}

function exec(t: Task, dirfd: number, path: string, argvAddr: bigint, envpAddr: bigint, flags: number): null {
  if (flags & ~(AT_EMPTY_PATH | 0x100)) fail(Errno.EINVAL);
  const argv = readStrings(t, argvAddr);
  const envp = readStrings(t, envpAddr);
  if (path === '' && !(flags & AT_EMPTY_PATH)) fail(Errno.ENOENT);
  execve(t, dirLocation(t, dirfd, path), path, argv, envp);
  return null;
}

define(59, (t, r) => exec(t, AT_FDCWD, pathArg(t, r, 0), r.arg(1), r.arg(2), 0), 'full');
define(322, (t, r) => exec(t, fdArg(r, 0), pathArg(t, r, 1), r.arg(2), r.arg(3), u32(r, 4)), 'partial', 'AT_EMPTY_PATH with a dirfd is not supported');
