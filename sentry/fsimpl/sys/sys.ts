/**
 * sysfs: the sandbox's /sys, read-only, with the entries programs read first: the CPUs
 * (devices/system/cpu: what nproc, glibc's get_nprocs_conf, Go's and the JVM's CPU counts
 * read; kernel/cpus.ts), transparent huge pages (the sandbox maps none: "never"), the
 * loopback interface (class/net/lo) and an empty fs/cgroup for the cgroup mount. No host
 * device is described. Built from proc's nodes (files generated when opened).
 */
import { sandboxCpus } from '../../kernel/cpus';
import type { Inode, Stat, StatFs } from '../../vfs/inode';
import { ProcDir, ProcFile, ProcFs, ProcLink } from '../proc/nodes';

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

/** Tree is a directory's contents: a file's text, a symlink's target ({ link }), or a subtree. */
type Tree = { [name: string]: string | (() => string) | { link: string } | Tree };

function build(fs: SysFs, path: string, tree: () => Tree, mode = 0o755): ProcDir {
  return new SysDir(fs, path, () => {
    const m = new Map<string, () => Inode>();
    for (const [name, v] of Object.entries(tree())) {
      const p = `${path === '/' ? '' : path}/${name}`;
      if (typeof v === 'string') m.set(name, () => new ProcFile(fs, p, () => `${v}\n`));
      else if (typeof v === 'function') m.set(name, () => new ProcFile(fs, p, () => `${v()}\n`));
      else if ('link' in v && typeof v.link === 'string') { const target = v.link; m.set(name, () => new ProcLink(fs, p, () => target)); }
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

/** newSysfs builds the sandbox's /sys. */
export function newSysfs(): SysFs {
  const fs = new SysFs();
  const lo: Tree = {
    address: '00:00:00:00:00:00', addr_len: '6', broadcast: '00:00:00:00:00:00', flags: '0x9', ifindex: '1', mtu: '65536',
    operstate: 'unknown', type: '772', tx_queue_len: '1000',
  };
  fs.root = build(fs, '/', () => ({
    block: {}, bus: {}, dev: {}, firmware: {}, module: {}, power: {},
    class: { net: { lo: { link: '../../devices/virtual/net/lo' } } },
    devices: { system: { cpu: cpuTree() }, virtual: { net: { lo } } },
    fs: { cgroup: {} },
    kernel: { mm: { transparent_hugepage: { enabled: 'always madvise [never]', defrag: 'always defer defer+madvise madvise [never]' } } },
  }), 0o555);
  return fs;
}
