/**
 * sysfs: the sandbox's /sys, read-only, with the entries programs read first: the CPUs
 * (devices/system/cpu: what nproc, glibc's get_nprocs_conf, Go's and the JVM's CPU counts
 * read; kernel/cpus.ts), transparent huge pages (the sandbox maps none: "never"), the
 * network namespace's interfaces (class/net, devices/virtual/net: ./net-class.ts) and an
 * empty fs/cgroup for the cgroup mount. No host device is described. Built from proc's nodes (files generated when opened).
 */
import { sandboxCpus } from '../../kernel/cpus';
import { hostRoute, type HostQuery } from '../../net/netlink/host-route';
import type { Inode, Stat, StatFs } from '../../vfs/inode';
import { ProcDir, ProcFile, ProcFs, ProcLink } from '../proc/nodes';
import { classNet, virtualNet } from './net-class';

/** SysFs is the sysfs instance: proc's nodes under another name and magic number. */
class SysFs extends ProcFs {
  override readonly name: string = 'sysfs';
  override readonly dev: number = 5;

  override statfs(): StatFs {
    return { ...super.statfs(), type: 0x62656572 };
  }
}

/** SysDir is a sysfs directory: its link count is 2 plus its subdirectories, as Linux's. */
class SysDir extends ProcDir {
  override stat(): Stat {
    const st = super.stat();
    let subdirs = 0;
    for (const f of this.entries().values()) if (f().isDir) subdirs++;
    return { ...st, nlink: 2 + subdirs };
  }
}

/** Tree is a directory's contents: a file's text (or its generator, run at open), a
 * symlink's target ({ link }), a subtree, or a subtree computed at each lookup ({ dir }). */
export type Tree = { [name: string]: string | (() => string) | { link: string } | { dir: () => Tree } | Tree };

function build(fs: SysFs, path: string, tree: () => Tree, mode = 0o755): ProcDir {
  return new SysDir(fs, path, () => {
    const m = new Map<string, () => Inode>();
    for (const [name, v] of Object.entries(tree())) {
      const p = `${path === '/' ? '' : path}/${name}`;
      if (typeof v === 'string') m.set(name, () => new ProcFile(fs, p, () => `${v}\n`));
      else if (typeof v === 'function') m.set(name, () => new ProcFile(fs, p, () => `${v()}\n`));
      else if ('link' in v && typeof v.link === 'string') { const target = v.link; m.set(name, () => new ProcLink(fs, p, () => target)); }
      else if ('dir' in v && typeof v.dir === 'function') { const sub = v.dir as () => Tree; m.set(name, () => build(fs, p, sub)); }
      else m.set(name, () => build(fs, p, () => v as Tree));
    }
    return m;
  }, undefined, mode);
}

/** cpuTree is devices/system/cpu. */
function cpuTree(): Tree {
  const c = sandboxCpus();
  const t: Tree = { online: c.online, possible: c.possible, present: c.present, kernel_max: c.kernelMax, offline: '' };
  for (const n of c.onlineCpus) {
    const topology: Tree = {};
    for (const [f, v] of c.topology.get(n) ?? new Map<string, string>()) topology[f] = v;
    t[`cpu${n}`] = { online: '1', topology };
  }
  return t;
}

/** newSysfs builds the sandbox's /sys; `host` answers for the network namespace (a fake in unit tests). */
export function newSysfs(host: HostQuery = hostRoute): SysFs {
  const fs = new SysFs();
  fs.root = build(fs, '/', () => ({
    block: {}, bus: {}, dev: {}, firmware: {}, module: {}, power: {},
    class: { net: { dir: () => classNet(host) } },
    devices: { system: { cpu: cpuTree() }, virtual: { net: { dir: () => virtualNet(host) } } },
    fs: { cgroup: {} },
    kernel: { mm: { transparent_hugepage: { enabled: 'always madvise [never]', defrag: 'always defer defer+madvise madvise [never]' } } },
  }), 0o555);
  return fs;
}
