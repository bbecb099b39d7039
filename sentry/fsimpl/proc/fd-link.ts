/**
 * /proc/<pid>/fd/N: a "magic" symlink. Its text is the file's path (" (deleted)" once
 * unlinked) or a name such as `pipe:[ino]`, `socket:[ino]`, `anon_inode:[eventfd]`; but
 * following it leads to the open file itself, as Linux's proc_fd_link does, so that
 * opening it (bash's `<(...)` through /dev/fd/63, `cat /dev/stdin`) works even where the
 * text names nothing:
 *  - a file opened in the tree (regular file, directory, device, FIFO): a new open of the
 *    same dentry, whether or not its name still exists;
 *  - a pipe: a new reader or writer of the same pipe, with the access mode asked for (a
 *    FIFO open);
 *  - a terminal: a new open of the terminal;
 *  - a socket, eventfd, epoll and other anonymous files: ENXIO (their inodes have no open);
 *  - a host descriptor the sentry was handed (the container's stdio when not a terminal):
 *    the same description again (the sentry cannot reopen a host pipe; it shares it).
 * The link is stale, and disappears from the directory, as soon as the descriptor is closed.
 */
import { Errno, fail } from '../../kernel/errors';
import type { Credentials } from '../../kernel/credentials';
import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import { FileDescription, O_CREAT, O_EXCL, O_TRUNC } from '../../vfs/file';
import { Inode, type Stat } from '../../vfs/inode';
import { Mount, type Location } from '../../vfs/mount';
import { HostFile } from '../host/host-file';
import { HostTty } from '../host/tty';
import { openFifo, PipeEnd } from '../pipe/pipe';
import { ProcLink, pseudoFs, type ProcFs } from './nodes';

/** UnnamedFs stands for the pseudo file systems (pipefs, sockfs, anon_inodefs) of files
 * opened nowhere in the tree. */
const unnamedFs = pseudoFs('unnamed', 0, 0);

/** UnnamedInode is the inode behind a file opened nowhere in the tree, as the end of a
 * followed fd link: stat describes the file, open reopens it. */
class UnnamedInode extends Inode {
  constructor(readonly file: FileDescription) {
    const st = file.stat();
    super(unnamedFs, st.ino, st.mode);
  }

  stat(): Stat {
    return this.file.stat();
  }

  open(_loc: Location, flags: number, _c: Credentials): FileDescription {
    return reopen(this.file, flags);
  }
}

/** reopen opens anew, with `flags`, a file that has no place in the tree. */
function reopen(f: FileDescription, flags: number): FileDescription {
  flags &= ~(O_CREAT | O_EXCL | O_TRUNC);
  if (f instanceof PipeEnd) {
    // A FIFO open of the same pipe: a named FIFO's may then wait for a partner, as any
    // open of it; an anonymous pipe's never waits nor fails (Linux's is_pipe).
    return f.loc ? openFifo(f.pipe, flags, f.loc) : new PipeEnd(f.pipe, flags);
  }
  if (f instanceof HostTty) return f.terminal.open();
  if (f instanceof HostFile) return f.ref();
  return fail(Errno.ENXIO);
}

/** fileLocation is where following a link to `f` leads: its own place in the tree, or
 * a detached mount of its unnamed inode. */
function fileLocation(f: FileDescription): Location {
  if (f.loc) return f.loc;
  const m = new Mount(unnamedFs, null, null, 0, 'unnamed', new UnnamedInode(f));
  return { mount: m, dentry: m.root };
}

/** fdLinkText is what readlink shows for `f` as seen by task `t`. */
export function fdLinkText(k: Kernel, t: Task, f: FileDescription): string {
  if (!f.loc) return f.procLink();
  const path = k.mounts.pathOf(f.loc, t.root);
  let deleted = false;
  try {
    const st = f.stat();
    deleted = st.nlink === 0 && !f.loc.dentry.inode.isDir;
  } catch {
    // A file whose attributes cannot be read any more shows its last path.
  }
  return deleted ? `${path} (deleted)` : path;
}

/** CAP_SYS_PTRACE lets a task inspect another's descriptors whatever their ids. */
const CAP_SYS_PTRACE = 19;

/** mayInspect is Linux's ptrace access check as /proc's fd links apply it
 * (PTRACE_MODE_READ_FSCREDS): the same process, the caller's ids all among the target's
 * real, effective and saved ids, or CAP_SYS_PTRACE. */
export function mayInspect(asker: Task | null, target: Task): boolean {
  if (!asker || asker.tg === target.tg) return true;
  const a = asker.creds, c = target.creds;
  const uids = [c.uid, c.euid, c.suid], gids = [c.gid, c.egid, c.sgid];
  if (uids.every((u) => u === a.euid) && gids.every((g) => g === a.egid)) return true;
  return a.capableIn(CAP_SYS_PTRACE, c.userns);
}

/** ProcFdLink is /proc/<pid>/fd/N for descriptor `fd` of task `t`, open on `f`; `asker`
 * is the task resolving it. Reading or following it takes mayInspect (EACCES). */
export class ProcFdLink extends ProcLink {
  constructor(pfs: ProcFs, path: string, k: Kernel, readonly t: Task, readonly fd: number, readonly file: FileDescription,
    owner: () => [number, number], private readonly asker: () => Task | null) {
    super(pfs, path, () => fdLinkText(k, t, file), owner);
    const parent = this.live;
    this.live = () => parent() && t.fds.has(fd) && t.fds.get(fd) === file;
  }

  override readlink(): string {
    if (!mayInspect(this.asker(), this.t)) fail(Errno.EACCES);
    return super.readlink();
  }

  override jump(): Location {
    this.alive();
    if (!mayInspect(this.asker(), this.t)) fail(Errno.EACCES);
    return fileLocation(this.file);
  }
}
