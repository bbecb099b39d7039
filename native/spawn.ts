/**
 * spawn.ts starts host processes with posix_spawn(3) instead of child_process.
 *
 * Node's child_process forks: the kernel copies the page tables of the whole Node
 * process, ~5-7 ms for the CLI and more as the heap grows (measured here: 2 ms for a
 * bare Node, 20 ms with 200 MB of buffers), and the runtime starts two processes per
 * container. glibc's posix_spawn uses clone(CLONE_VM | CLONE_VFORK): the child borrows
 * the parent's memory until it calls execve, so the cost does not grow with the parent.
 *
 * The child gets exactly the descriptors asked for (fds[i] becomes its fd i, null is
 * /dev/null) and every other descriptor is closed before execve (closefrom), so nothing
 * of the caller leaks into a sandbox process whatever its close-on-exec flags.
 *
 * Such children are not Node's: Node never reaps them. A caller that outlives its child
 * reaps it with `reap`; otherwise the child is reparented when the caller exits.
 */
import { check, libcFunc, lastErrno, HostError } from './libc';

const POSIX_SPAWN_SETSID = 0x80;
const O_RDWR = 2;
const F_DUPFD_CLOEXEC = 1030;
const WNOHANG = 1;
// glibc x86-64: posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336;
// the buffers are larger so that a libc with bigger ones is still safe.
const ACTIONS_SIZE = 256;
const ATTR_SIZE = 1024;

const c = {
  actionsInit: () => libcFunc('int posix_spawn_file_actions_init(void *fa)'),
  actionsDestroy: () => libcFunc('int posix_spawn_file_actions_destroy(void *fa)'),
  addDup2: () => libcFunc('int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)'),
  addOpen: () => libcFunc('int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int oflag, uint32 mode)'),
  addClosefrom: () => libcFunc('int posix_spawn_file_actions_addclosefrom_np(void *fa, int from)'),
  attrInit: () => libcFunc('int posix_spawnattr_init(void *attr)'),
  attrDestroy: () => libcFunc('int posix_spawnattr_destroy(void *attr)'),
  attrSetFlags: () => libcFunc('int posix_spawnattr_setflags(void *attr, short flags)'),
  spawn: () => libcFunc('int posix_spawn(_Out_ int *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)'),
  fcntl: () => libcFunc('int fcntl(int fd, int cmd, int arg)'),
  close: () => libcFunc('int close(int fd)'),
  waitpid: () => libcFunc('int waitpid(int pid, _Out_ int *status, int options)'),
  pipe2: () => libcFunc('int pipe2(_Out_ int *fds, int flags)'),
};

const O_CLOEXEC = 0o2000000;

/** pipeCloexec returns a pipe's [read end, write end], both close-on-exec. */
export function pipeCloexec(): [number, number] {
  const fds = [0, 0];
  check('pipe2', c.pipe2()(fds, O_CLOEXEC) as number);
  return [fds[0], fds[1]];
}

/** SpawnRequest describes one process to start. */
export interface SpawnRequest {
  /** file is the absolute path of the program. */
  file: string;
  /** argv is its whole argument vector, argv[0] included. */
  argv: string[];
  env: Record<string, string | undefined>;
  /** fds[i] is the caller's descriptor that becomes the child's fd i (null: /dev/null). */
  fds: (number | null)[];
  /** setsid puts the child in a session of its own (no terminal signals from the caller's). */
  setsid?: boolean;
}

/** posixCall throws HostError when a posix_spawn* function returns an error number. */
function posixCall(name: string, ret: number): void {
  if (ret !== 0) throw new HostError(name, ret);
}

/** spawnProcess starts a process as described and returns its pid (errors are thrown, e.g. ENOENT). */
export function spawnProcess(req: SpawnRequest): number {
  const fa = Buffer.from(new ArrayBuffer(ACTIONS_SIZE));
  const attr = Buffer.from(new ArrayBuffer(ATTR_SIZE));
  // A source descriptor below fds.length could be overwritten by an earlier dup2 in the
  // child: such sources are first copied above the range (and closed after the spawn).
  const copies: number[] = [];
  const sources = req.fds.map((fd, i) => {
    if (fd === null || fd === i || fd >= req.fds.length) return fd;
    const copy = check('fcntl', c.fcntl()(fd, F_DUPFD_CLOEXEC, req.fds.length) as number);
    copies.push(copy);
    return copy;
  });
  posixCall('posix_spawn_file_actions_init', c.actionsInit()(fa) as number);
  posixCall('posix_spawnattr_init', c.attrInit()(attr) as number);
  try {
    sources.forEach((fd, i) => {
      if (fd === null) posixCall('posix_spawn_file_actions_addopen', c.addOpen()(fa, i, '/dev/null', O_RDWR, 0) as number);
      else posixCall('posix_spawn_file_actions_adddup2', c.addDup2()(fa, fd, i) as number);
    });
    posixCall('posix_spawn_file_actions_addclosefrom_np', c.addClosefrom()(fa, req.fds.length) as number);
    if (req.setsid) posixCall('posix_spawnattr_setflags', c.attrSetFlags()(attr, POSIX_SPAWN_SETSID) as number);
    const envp = Object.entries(req.env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
    const pid = [0];
    const err = c.spawn()(pid, req.file, fa, attr, [...req.argv, null], [...envp, null]) as number;
    if (err !== 0) throw new HostError(`spawn ${req.file}`, err);
    return pid[0];
  } finally {
    c.actionsDestroy()(fa);
    c.attrDestroy()(attr);
    for (const fd of copies) c.close()(fd);
  }
}

/**
 * reap collects a child of this process that has exited: its wait status, or undefined
 * while it still runs. Only for children started by spawnProcess (Node reaps its own).
 */
export function reap(pid: number): number | undefined {
  const status = [0];
  const r = c.waitpid()(pid, status, WNOHANG) as number;
  if (r === 0) return undefined;
  if (r < 0) throw new HostError('waitpid', lastErrno());
  return status[0];
}
