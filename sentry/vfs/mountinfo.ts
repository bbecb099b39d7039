/**
 * The mount table as Linux prints it (fs/proc_namespace.c): /proc/<pid>/mountinfo and
 * /proc/<pid>/mounts (= /proc/mounts), in mount order, for the mounts a task sees from its
 * root. Also the device numbers of file systems, shared by stat(2) and mountinfo.
 *
 *   mountinfo: ID PARENT MAJOR:MINOR ROOT MOUNTPOINT MOUNT-OPTS [OPTIONAL...] - TYPE SOURCE SUPER-OPTS
 *   mounts:    SOURCE MOUNTPOINT TYPE OPTS 0 0
 *
 * Paths and sources escape space, tab, newline and backslash as \ooo (Linux's mangle).
 */
import type { Location, Mount, MountNamespace } from './mount';
import { MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_RELATIME } from './mount';

/** devMajor and devMinor split a device number as glibc's major()/minor() do. */
export function devMajor(dev: number): number {
  return ((dev >>> 8) & 0xfff) | Number((BigInt(dev) >> 32n) & ~0xfffn);
}

/** devMinor returns the minor part of a device number (see devMajor). */
export function devMinor(dev: number): number {
  return (dev & 0xff) | ((dev >>> 12) & ~0xff);
}

/** escapeMount escapes a path or source as Linux's mangle() does. */
export function escapeMount(s: string): string {
  return s.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** mountOptions are a mount's own options: rw/ro, then nosuid, nodev, noexec and the
 * atime flags, in Linux's order (show_mnt_opts). */
export function mountOptions(m: Mount): string[] {
  const o = [m.flags & MS_RDONLY ? 'ro' : 'rw'];
  if (m.flags & MS_NOSUID) o.push('nosuid');
  if (m.flags & MS_NODEV) o.push('nodev');
  if (m.flags & MS_NOEXEC) o.push('noexec');
  if (m.flags & MS_NOATIME) o.push('noatime');
  if (m.flags & MS_NODIRATIME) o.push('nodiratime');
  if (m.flags & MS_RELATIME) o.push('relatime');
  return o;
}

function propagationFields(m: Mount): string[] {
  const p = m.propagation;
  const f: string[] = [];
  if (p.shared) f.push(`shared:${p.shared}`);
  if (p.master) f.push(`master:${p.master}`);
  if (p.unbindable) f.push('unbindable');
  return f;
}

/** visibleMounts lists the mounts a task with root `root` sees, with their mount points:
 * those at or below its root, in mount order. */
function visibleMounts(ns: MountNamespace, root: Location): { m: Mount; at: string }[] {
  const out: { m: Mount; at: string }[] = [];
  for (const m of ns.mounts) {
    const r = ns.reach({ mount: m, dentry: m.root }, root);
    if (r.reachable) out.push({ m, at: r.path });
  }
  return out;
}

/** mountinfoText renders /proc/<pid>/mountinfo for a task whose root is `root`. */
export function mountinfoText(ns: MountNamespace, root: Location): string {
  return visibleMounts(ns, root).map(({ m, at }) => {
    // A mount whose parent the task cannot see (its root mount) names itself as parent.
    const parent = m.parent && ns.reach({ mount: m.parent, dentry: m.parent.root }, root).reachable ? m.parent.id : m.id;
    const superOpts = [m.sb.readonly ? 'ro' : 'rw', ...m.sb.options].join(',');
    const fields = [String(m.id), String(parent), `${devMajor(m.fs.dev)}:${devMinor(m.fs.dev)}`, escapeMount(m.rootPath), escapeMount(at),
      mountOptions(m).join(','), ...propagationFields(m), '-', m.sb.type, escapeMount(m.source), superOpts];
    return `${fields.join(' ')}\n`;
  }).join('');
}

/** mountsText renders /proc/<pid>/mounts (and /proc/mounts) for a task whose root is `root`. */
export function mountsText(ns: MountNamespace, root: Location): string {
  return visibleMounts(ns, root).map(({ m, at }) => {
    const own = mountOptions(m);
    if (m.sb.readonly) own[0] = 'ro';
    const opts = [...own, ...m.sb.options].join(',');
    return `${escapeMount(m.source)} ${escapeMount(at)} ${m.sb.type} ${opts} 0 0\n`;
  }).join('');
}
