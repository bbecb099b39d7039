/**
 * boot builds a sandbox's kernel from an OCI spec: the platform, the mount namespace
 * (the rootfs and bind mounts from the gofer, /proc, /dev, tmpfs...), and the container's
 * init process, loaded but not yet running (the OCI "created" state).
 */
import type { Spec, Mount as SpecMount } from '../oci/config';
import type { Client } from '../gofer/p9/client';
import { getPlatform } from '../platform';
import { Kernel } from './kernel/kernel';
import { spawnProcess } from './kernel/spawn';
import { compileSeccomp } from './seccomp';
import { isBind } from './gofer-launch';
export { isBind };
import { Credentials } from './kernel/credentials';
import type { Task } from './kernel/task';
import { Errno, LinuxError } from './kernel/errors';
import type { SentryLog } from './log';
import { O_RDONLY, O_WRONLY } from './vfs/file';
import { dentryCache, MIN_CAPACITY } from './vfs/dentry';
import { MountNamespace, MS_NOSUID, MS_RDONLY, type Location } from './vfs/mount';
import { resolve } from './vfs/path';
import type { FileSystem } from './vfs/inode';
import { GoferFs } from './fsimpl/gofer/gofer-fs';
import { setInodeBudget, setTmpfsMemoryFile, Tmpfs, tmpfsDefaults } from './fsimpl/tmpfs/tmpfs';
import { limitsFor, memoryLimitOf, tmpfsOptions, type SandboxLimits } from './limits';
import { MemoryManager } from './mm/mm';
import { RLIMIT_SIGPENDING, setDefaultLimit } from './kernel/rlimits';
import { newDevfs, nullFs } from './fsimpl/dev/dev';
import { newProcfs } from './fsimpl/proc/proc';
import { newSysfs } from './fsimpl/sys/sys';
import { configureProcView } from './fsimpl/proc/sandbox-view';
import { applySysctls } from './fsimpl/proc/sysctl';
import { HostFile, hostAccessMode } from './fsimpl/host/host-file';
import { Terminal } from './fsimpl/host/tty';

/** BootOptions say how to build the sandbox. */
export interface BootOptions {
  spec: Spec;
  client: Client;
  platform: string;
  log: SentryLog;
  /** stdio are the host descriptors of the container's stdin, stdout, stderr. */
  stdio: [number, number, number];
  /** ttySlave, when set, is the pty slave that replaces stdio (process.terminal). */
  ttySlave?: number;
  /** preserved are host descriptors that become init's fds 3, 4, ... (create --preserve-fds). */
  preserved?: number[];
  strace?: boolean;
}

/** Booted is a kernel with its init loaded. */
export interface Booted {
  kernel: Kernel;
  init: Task;
}

/** findInRoot looks `p` up as root from the container's root without following a final
 * symlink; an absent path gives null. */
function findInRoot(k: Kernel, p: string): Location | null {
  try {
    return resolve({ root: k.mounts.root, cwd: k.mounts.root, creds: new Credentials(0, 0) }, k.mounts.root, p, { follow: false });
  } catch {
    return null;
  }
}

/**
 * maskAndProtect applies linux.maskedPaths (an empty read-only directory, or a null
 * device, mounted over each existing path) and linux.readonlyPaths (the path mounted
 * again read-only), as runc does.
 */
function maskAndProtect(k: Kernel, spec: Spec): void {
  // runc's order: the read-only paths first, then the masks (a mask below a read-only
  // path, /proc/sys/..., must be mounted on the read-only mount to be seen).
  for (const p of spec.linux?.readonlyPaths ?? []) {
    const loc = findInRoot(k, p);
    if (!loc) continue;
    k.mounts.mount(loc, loc.mount.fs, MS_RDONLY | loc.mount.flags, loc.mount.source, loc.dentry.inode);
  }
  for (const p of spec.linux?.maskedPaths ?? []) {
    const loc = findInRoot(k, p);
    if (!loc) continue;
    const fs = loc.dentry.inode.isDir ? new Tmpfs(0o555) : nullFs();
    k.mounts.mount(loc, fs, MS_RDONLY, 'tmpfs');
  }
}

/**
 * mountTmp gives the container a tmpfs at /tmp when the spec mounts nothing there and
 * the image's /tmp is an empty directory, as runsc does: scratch files then stay in the
 * sandbox's memory instead of going through the gofer, and a read-only root still has a
 * writable /tmp. A /tmp that holds files, or is not a plain directory, is left alone.
 */
function mountTmp(k: Kernel): void {
  const loc = findInRoot(k, '/tmp');
  if (!loc) return; // no /tmp in the image
  const ino = loc.dentry.inode;
  if (!ino.isDir || ino.readdir().some((e) => e.name !== '.' && e.name !== '..')) return;
  k.mounts.mount(loc, new Tmpfs(0o1777), 0, 'tmpfs');
}

function mountpoint(k: Kernel, path: string, isDir = true): Location {
  // Walk as root, following symlinks inside the container's root (as runc's securejoin
  // does); a missing component becomes an in-memory placeholder (the rootfs may be read-only).
  const root0 = new Credentials(0, 0);
  const r = { root: k.mounts.root, cwd: k.mounts.root, creds: root0 };
  const parts = path.split('/').filter(Boolean);
  let cur = k.mounts.root;
  parts.forEach((part, i) => {
    try {
      cur = resolve(r, cur, part, { follow: true });
    } catch (e) {
      if (!(e instanceof LinuxError) || e.errno !== Errno.ENOENT) throw e;
      const placeholder = new Tmpfs(0o755);
      const inode = i === parts.length - 1 && !isDir ? placeholder.root.create('file', 0o644, root0) : placeholder.root;
      cur = { mount: cur.mount, dentry: cur.dentry.addChild(part, inode) };
    }
  });
  return cur;
}

function fsFor(k: Kernel, m: SpecMount, client: Client, log: SentryLog, currentTask: () => Task | null, limits: SandboxLimits): FileSystem | null {
  const ro = (m.options ?? []).includes('ro');
  if (isBind(m)) return new GoferFs(client, m.destination, ro, true);
  switch (m.type) {
    case 'proc': return newProcfs(k, currentTask);
    case 'tmpfs': {
      const opt = (m.options ?? []).find((o) => o.startsWith('mode='));
      return new Tmpfs(opt ? parseInt(opt.slice(5), 8) : 0o1777, 0, 0, tmpfsOptions(m.options ?? [], limits));
    }
    case 'devtmpfs': return newDevfs(k);
    case 'sysfs': return newSysfs();
    case 'cgroup': case 'cgroup2': case 'devpts': case 'mqueue': {
      const fs = new Tmpfs(m.type === 'mqueue' ? 0o1777 : 0o555);
      Object.defineProperty(fs, 'name', { value: m.type });
      fs.zeroDirSize = m.type !== 'mqueue';
      return fs;
    }
    default:
      log.warn(`mount ${m.destination}: type "${m.type}" is not supported; skipped`);
      return null;
  }
}

/**
 * applyLimits bounds the sandbox's resources from the container's memory limit (see
 * limits.ts): overcommit, RLIMIT_SIGPENDING's default, tmpfs sizes and the inode budget.
 */
function applyLimits(spec: Spec): SandboxLimits {
  const l = limitsFor(memoryLimitOf(spec));
  MemoryManager.commitLimit = l.memory;
  setDefaultLimit(RLIMIT_SIGPENDING, BigInt(l.sigpending), BigInt(l.sigpending));
  setInodeBudget(l.inodeBudget);
  tmpfsDefaults.maxBytes = l.tmpfsBytes;
  tmpfsDefaults.maxInodes = l.tmpfsInodes;
  return l;
}

/** DENTRY_CACHE_ANNOTATION sets the number of idle dentries the sentry keeps (see
 * vfs/dentry.ts; the default is DEFAULT_CAPACITY). */
export const DENTRY_CACHE_ANNOTATION = 'dev.tvisor.dentry-cache';

/** configureDentryCache sizes the dentry cache from the container's annotation and tells
 * it which dentries tasks use as cwd and root. */
function configureDentryCache(k: Kernel, spec: Spec, log: SentryLog): void {
  const v = spec.annotations?.[DENTRY_CACHE_ANNOTATION];
  if (v !== undefined) {
    const n = Number(v);
    if (Number.isInteger(n) && n >= MIN_CAPACITY) dentryCache.capacity = n;
    else log.warn(`annotation ${DENTRY_CACHE_ANNOTATION}: "${v}" is not an integer >= ${MIN_CAPACITY}; keeping ${dentryCache.capacity}`);
  }
  dentryCache.pinned = function* pinned() {
    for (const t of k.tasks.values()) {
      yield t.fs.cwd.dentry;
      yield t.fs.root.dentry;
    }
  };
}

/** boot builds the kernel and loads init from spec.process. */
export function boot(o: BootOptions): Booted {
  const { spec, client, log } = o;
  const limits = applyLimits(spec);
  const platform = getPlatform(o.platform);
  setTmpfsMemoryFile(platform.memoryFile);
  const rootFs = new GoferFs(client, '/', spec.root?.readonly ?? false);
  const mounts = new MountNamespace(rootFs, spec.root?.readonly ? MS_RDONLY : 0, 'none');
  const k = new Kernel(platform, mounts, log);
  configureDentryCache(k, spec, log);
  k.strace = o.strace ?? false;
  k.initShielded = (spec.linux?.namespaces ?? []).some((n) => n.type === 'pid');
  if (spec.linux?.seccomp) k.seccomp = compileSeccomp(spec.linux.seccomp);
  if (spec.hostname) k.hostname = spec.hostname;
  if (spec.domainname) k.domainname = spec.domainname;
  applySysctls(k, spec.linux?.sysctl);
  const current = () => k.sched.running;
  const terminal = o.ttySlave !== undefined ? new Terminal(o.ttySlave, k) : null;
  const specMounts = spec.mounts ?? [];
  let haveDev = false;
  for (const m of specMounts) {
    if (m.destination === '/dev' && m.type === 'tmpfs') {
      // /dev is ours: the sentry's devfs, never the host's.
      mounts.mount(mountpoint(k, '/dev'), newDevfs(k), 0, 'tmpfs');
      haveDev = true;
      continue;
    }
    // devfs has its own pts and mqueue; /dev/shm is a tmpfs of its own (size= from the
    // spec, runc's default 64 MiB), as runc mounts it, so it shows in /proc/mounts.
    if (m.destination === '/dev/pts' || m.destination === '/dev/mqueue') {
      if (haveDev) continue;
    }
    const fs = fsFor(k, m, client, log, current, limits);
    if (!fs) continue;
    const opts = m.options ?? [];
    const flags = (opts.includes('ro') ? MS_RDONLY : 0) | (opts.includes('nosuid') ? MS_NOSUID : 0);
    mounts.mount(mountpoint(k, m.destination, fs.root.isDir), fs, flags, isBind(m) ? (m.source ?? 'none') : (m.source ?? m.type ?? 'none'));
  }
  if (!haveDev) mounts.mount(mountpoint(k, '/dev'), newDevfs(k), 0, 'tmpfs');
  if (!specMounts.some((m) => m.destination === '/proc')) mounts.mount(mountpoint(k, '/proc'), newProcfs(k, current), 0, 'proc');
  if (!specMounts.some((m) => m.destination === '/tmp')) mountTmp(k);
  maskAndProtect(k, spec);

  let stdio;
  if (terminal) {
    const tty = terminal.open();
    stdio = [tty, tty.ref(), tty.ref()];
  } else {
    stdio = [new HostFile(o.stdio[0], O_RDONLY, 'stdin'), new HostFile(o.stdio[1], O_WRONLY, 'stdout'), new HostFile(o.stdio[2], O_WRONLY, 'stderr')];
  }
  // Preserved descriptors (runc's --preserve-fds) are the caller's pipes and sockets:
  // init reads and writes them through the sentry like its stdio, never directly.
  for (const fd of o.preserved ?? []) stdio.push(new HostFile(fd, hostAccessMode(fd), `fd ${stdio.length}`));
  const init = spawnProcess(k, spec.process!, stdio);
  k.init = init.tg;
  configureProcView(k, spec);
  return { kernel: k, init };
}
