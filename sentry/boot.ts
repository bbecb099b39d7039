/**
 * boot builds a sandbox's kernel from an OCI spec: the platform, the mount namespace
 * (the rootfs and bind mounts from the gofer, /proc, /dev, tmpfs...), and the container's
 * init process, loaded but not yet running (the OCI "created" state).
 */
import { noteStartAffinity } from './kernel/cpus';
import type { Spec, Mount as SpecMount } from '../oci/config';
import type { Client } from '../gofer/p9/client';
import { getPlatform, MemoryFile } from '../platform';
import { openDefaultPlatform } from '../platform/self-check';
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
import { MountNamespace, MS_RDONLY, MS_RELATIME, Superblock, type Location } from './vfs/mount';
import { mountFlags, parseOptions } from './vfs/mount-options';
import { devptsShowOptions, makesSuperblock, parseDevptsData, sandboxSysfs, newTmpfs, setMountIdMaps, setMountLimits, tmpfsShowFor, type Mountable } from './fsimpl/mountable';
import { resolve } from './vfs/path';
import { S_IFCHR, S_IFMT } from './vfs/inode';
import { GoferFs } from './fsimpl/gofer/gofer-fs';
import { setInodeBudget, setTmpfsMemoryFile, Tmpfs, tmpfsDefaults } from './fsimpl/tmpfs/tmpfs';
import { limitsFor, memoryLimitOf, type SandboxLimits } from './limits';
import { MemoryManager } from './mm/mm';
import { installOomKiller, sandboxMemory } from './mm/oom';
import { pidsLimitOf, sandboxPids } from './kernel/pids-limit';
import { exitGroup } from './kernel/task-exit';
import { SIGKILL } from './kernel/signal-types';
import { inheritLimits, RLIMIT_SIGPENDING, setDefaultLimit } from './kernel/rlimits';
import { readFileSync } from 'node:fs';
import { consolePtsIndex, newDevfs, nullFs } from './fsimpl/dev/dev';
import { setDeviceRules } from './fsimpl/dev/device-cgroup';
import { newProcfs } from './fsimpl/proc/proc';
import { MqueueFs } from './fsimpl/mqueue/fs';
import { ipcBudget } from './kernel/ipc/budget';
import { sandboxIpcNamespace } from './kernel/ipc/namespace';
import { configureProcView } from './fsimpl/proc/sandbox-view';
import { configureCgroupView, mountCgroupTree, type CgroupView } from './fsimpl/sys/cgroupfs';
import type { PidNamespace } from './kernel/pid-namespace';
import { configureUserNamespace, idMapsOf } from './kernel/user-namespace';
import { applySysctls } from './fsimpl/proc/sysctl';
import { HostFile, hostAccessMode } from './fsimpl/host/host-file';
import { Terminal } from './fsimpl/host/tty';
import { profileMark } from '../native/startup-profile';

/** BootOptions say how to build the sandbox. */
export interface BootOptions {
  spec: Spec;
  /** id is the container's id (its cgroup's name as runc's container sees it). */
  id?: string;
  client: Client;
  /** platform names the backend; undefined: the default (systrap where its self-check passes, else ptrace; openDefaultPlatform). */
  platform?: string;
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

/** bindConsole bind-mounts init's terminal, /dev/pts/N, on /dev/console, as runc does
 * with process.terminal (mountinfo shows a devpts mount rooted at /N there, with the
 * /dev/pts mount's flags); nothing without a terminal or a /dev/pts mount. */
function bindConsole(k: Kernel): void {
  const index = consolePtsIndex(k);
  const at = index === null ? null : findInRoot(k, '/dev/console');
  const src = index === null ? null : findInRoot(k, `/dev/pts/${index}`);
  if (!at || !src || src.mount.sb.type !== 'devpts') return;
  k.mounts.bind(at, src, src.mount.flags);
}

/**
 * maskAndProtect applies linux.readonlyPaths (the path mounted again read-only), then
 * linux.maskedPaths (an empty read-only directory, or a null device, mounted over each
 * existing path), in runc's order (so mountinfo lists them as runc's containers do).
 */
function maskAndProtect(k: Kernel, spec: Spec): void {
  // runc's order: the read-only paths first, then the masks (a mask below a read-only
  // path, /proc/sys/..., must be mounted on the read-only mount to be seen).
  for (const p of spec.linux?.readonlyPaths ?? []) {
    const loc = findInRoot(k, p);
    if (!loc) continue;
    k.mounts.bind(loc, loc, MS_RDONLY | loc.mount.flags);
  }
  const devNull = findInRoot(k, '/dev/null');
  for (const p of spec.linux?.maskedPaths ?? []) {
    const loc = findInRoot(k, p);
    if (!loc) continue;
    // A masked file is a bind of the container's /dev/null, with that mount's flags, as
    // runc's (a null device of its own when /dev has none).
    if (!loc.dentry.inode.isDir && devNull && (devNull.dentry.inode.mode & S_IFMT) === S_IFCHR) {
      k.mounts.bind(loc, devNull, devNull.mount.flags);
      continue;
    }
    // A masked directory is a fresh read-only tmpfs, whose root has tmpfs's default mode 1777 (as runc's).
    const fs = loc.dentry.inode.isDir ? new Tmpfs(0o1777) : nullFs();
    const options = loc.dentry.inode.isDir ? tmpfsShowFor([], 0o1777) : [];
    k.mounts.mount(loc, fs, MS_RDONLY | MS_RELATIME, 'tmpfs', undefined, new Superblock(fs, true, options));
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
  const fs = new Tmpfs(0o1777);
  k.mounts.mount(loc, fs, MS_RELATIME, 'tmpfs', undefined, new Superblock(fs, false));
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
      const d = cur.dentry.addChild(part, inode);
      d.placeholder = true;
      cur = { mount: cur.mount, dentry: d };
    }
  });
  return cur;
}

/** devptsOptions are a spec devpts's options as its super block shows them (Linux's
 * order; a gid=5 given in a user namespace shows its host id). Words devpts does not
 * know are left out, as before: the spec's mount is not refused for them. */
function devptsOptions(data: readonly string[]): string[] {
  const known = (w: string): boolean => {
    try {
      parseDevptsData([w]);
      return true;
    } catch {
      return false;
    }
  };
  return devptsShowOptions(parseDevptsData(data.filter(known)));
}

function fsFor(k: Kernel, m: SpecMount, client: Client, log: SentryLog, currentTask: () => Task | null, pidns?: PidNamespace): Mountable | null {
  const ro = (m.options ?? []).includes('ro');
  if (isBind(m)) return { fs: new GoferFs(client, m.destination, ro, true), options: [] };
  const { data } = parseOptions(m.options ?? []);
  switch (m.type) {
    case 'proc': return { fs: newProcfs(k, currentTask, pidns), options: [] };
    case 'tmpfs': return newTmpfs(data, 0o1777, false);
    case 'devtmpfs': return { fs: newDevfs(k), options: [] };
    case 'sysfs': return { fs: sandboxSysfs(), options: [] };
    case 'mqueue': return { fs: new MqueueFs(sandboxIpcNamespace(k)), options: [] };
    case 'cgroup': case 'cgroup2': case 'devpts': {
      const fs = new Tmpfs(0o555);
      Object.defineProperty(fs, 'name', { value: m.type });
      fs.zeroDirSize = true;
      return { fs, options: m.type === 'devpts' ? devptsOptions(data) : [] };
    }
    default:
      log.warn(`mount ${m.destination}: type "${m.type}" is not supported; skipped`);
      return null;
  }
}

/**
 * applyLimits bounds the sandbox's resources from the container's memory limit (see
 * limits.ts): overcommit, the default rlimits (the sentry's own, RLIMIT_SIGPENDING bounded), tmpfs sizes and the inode budget.
 */
function applyLimits(spec: Spec): SandboxLimits {
  const l = limitsFor(memoryLimitOf(spec));
  MemoryManager.commitLimit = l.memory;
  sandboxMemory.limit = l.memory; // the OOM killer's bound (mm/oom.ts)
  sandboxPids.limit = pidsLimitOf(spec); // clone's bound (kernel/pids-limit.ts)
  setDefaultLimit(RLIMIT_SIGPENDING, BigInt(l.sigpending), BigInt(l.sigpending));
  // Resources process.rlimits leaves out keep the runtime's own limits, as under runc.
  inheritLimits(readFileSync('/proc/self/limits', 'utf8'));
  setInodeBudget(l.inodeBudget);
  ipcBudget.limit = l.ipcBytes;
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

/**
 * mountContainer makes a container's mounts in k.mounts, whose root is already its rootfs:
 * config.json's mounts (bind mounts from `client`'s gofer), /tmp, /dev and /proc when the
 * spec has none, /dev/console, then the masked and read-only paths. boot calls it for the
 * sandbox's container; kernel/containers.ts for each other container of a pod, with that
 * container's namespace standing in as k.mounts and `pidns` the one its /proc shows.
 */
export function mountContainer(k: Kernel, spec: Spec, client: Client, log: SentryLog, cgroups: CgroupView | null, pidns?: PidNamespace): void {
  const current = () => k.sched.running;
  const specMounts = spec.mounts ?? [];
  // /tmp's own tmpfs comes first, so that the spec's mounts under /tmp land on it rather
  // than being hidden by it.
  if (!specMounts.some((m) => m.destination === '/tmp')) mountTmp(k);
  let haveDev = false;
  for (const m of specMounts) {
    const { flags } = parseOptions(m.options ?? []);
    if (m.destination === '/dev' && m.type === 'tmpfs') {
      // /dev is ours: the sentry's devfs, never the host's; it shows as runc's tmpfs.
      const fs = newDevfs(k, spec.linux?.devices);
      const options = tmpfsShowFor(parseOptions(m.options ?? []).data, 0o755);
      k.mounts.mount(mountpoint(k, '/dev'), fs, mountFlags(flags), m.source ?? 'tmpfs', undefined, new Superblock(fs, false, options, 'tmpfs'));
      haveDev = true;
      continue;
    }
    // devfs has its own pts: that file system is mounted there, shown as devpts. /dev/shm
    // and /dev/mqueue are file systems of their own (size= from the spec, runc's default
    // 64 MiB), as runc mounts them, so they show in /proc/mounts.
    if (m.destination === '/dev/pts' && haveDev) {
      const pts = mountpoint(k, '/dev/pts');
      const fs = pts.dentry.inode.fs;
      k.mounts.mount(pts, fs, mountFlags(flags), m.source ?? 'devpts', undefined, new Superblock(fs, false, devptsOptions(parseOptions(m.options ?? []).data), 'devpts'));
      continue;
    }
    // A cgroup mount is runc's tree of v1 hierarchies (fsimpl/sys/cgroupfs.ts) where the host has them.
    if (m.type === 'cgroup' && cgroups && mountCgroupTree(k, spec, cgroups, k.mounts, mountpoint(k, m.destination), mountFlags(flags))) continue;
    const made = fsFor(k, m, client, log, current, pidns);
    if (!made) continue;
    const { fs, options } = made;
    const source = isBind(m) ? (m.source ?? 'none') : (m.source ?? m.type ?? 'none');
    // A read-only mount that makes a new super block makes it read-only (mountable.ts).
    const sbReadonly = !isBind(m) && (flags & MS_RDONLY) !== 0 && makesSuperblock(m.type, spec);
    k.mounts.mount(mountpoint(k, m.destination, fs.root.isDir), fs, mountFlags(flags), source, undefined, new Superblock(fs, sbReadonly, options));
  }
  if (!haveDev) k.mounts.mount(mountpoint(k, '/dev'), newDevfs(k, spec.linux?.devices), MS_RELATIME, 'tmpfs');
  if (!specMounts.some((m) => m.destination === '/proc')) k.mounts.mount(mountpoint(k, '/proc'), newProcfs(k, current, pidns), MS_RELATIME, 'proc');
  bindConsole(k);
  maskAndProtect(k, spec);
}

/** defaultPlatform opens the default backend and writes the choice to the debug log. */
function defaultPlatform(log: SentryLog) {
  const { platform, note } = openDefaultPlatform(MemoryFile.create());
  log.debug(note);
  return platform;
}

/** boot builds the kernel and loads init from spec.process. */
export function boot(o: BootOptions): Booted {
  const { spec, client, log } = o;
  noteStartAffinity();
  const limits = applyLimits(spec);
  setMountLimits(limits);
  const platform = o.platform ? getPlatform(o.platform) : defaultPlatform(log);
  setTmpfsMemoryFile(platform.memoryFile);
  const rootFs = new GoferFs(client, '/', spec.root?.readonly ?? false);
  const mounts = new MountNamespace(rootFs, (spec.root?.readonly ? MS_RDONLY : 0) | MS_RELATIME, 'none');
  const k = new Kernel(platform, mounts, log);
  // Before the mounts: their options show owner ids as host ids.
  configureUserNamespace(k, spec);
  setMountIdMaps(idMapsOf(k));
  installOomKiller(k, (g) => exitGroup(g.tasks.values().next().value!, { signal: SIGKILL }));
  configureDentryCache(k, spec, log);
  k.strace = o.strace ?? false;
  k.initShielded = (spec.linux?.namespaces ?? []).some((n) => n.type === 'pid');
  if (spec.linux?.seccomp) k.seccomp = compileSeccomp(spec.linux.seccomp);
  if (spec.hostname) k.hostname = spec.hostname;
  if (spec.domainname) k.domainname = spec.domainname;
  applySysctls(k, spec.linux?.sysctl);
  const terminal = o.ttySlave !== undefined ? new Terminal(o.ttySlave, k) : null;
  setDeviceRules(spec.linux?.resources?.devices ?? []);
  const cgroups = configureCgroupView(k, spec, o.id ?? 'sandbox');
  profileMark('kernel-made');
  mountContainer(k, spec, client, log, cgroups);
  profileMark('mounted');

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
