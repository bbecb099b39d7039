/**
 * Mount options: the words of an OCI spec's mounts[].options (and of mount(8)'s -o) as
 * mount(2) flags, propagation and file system data; and the file system options Linux
 * shows for tmpfs in mountinfo's last column.
 */
import {
  MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_RELATIME, MS_STRICTATIME,
} from './mount';

/** The propagation and bind flags of mount(2). */
export const MS_REMOUNT = 32, MS_BIND = 4096, MS_MOVE = 8192, MS_REC = 16384, MS_SILENT = 32768;
export const MS_UNBINDABLE = 1 << 17, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19, MS_SHARED = 1 << 20;
/** PROPAGATION_FLAGS are the propagation types (exactly one per mount(2) call). */
export const PROPAGATION_FLAGS = MS_UNBINDABLE | MS_PRIVATE | MS_SLAVE | MS_SHARED;

const FLAG_WORDS: Record<string, [set: number, clear: number]> = {
  ro: [MS_RDONLY, 0], rw: [0, MS_RDONLY],
  nosuid: [MS_NOSUID, 0], suid: [0, MS_NOSUID],
  nodev: [MS_NODEV, 0], dev: [0, MS_NODEV],
  noexec: [MS_NOEXEC, 0], exec: [0, MS_NOEXEC],
  relatime: [MS_RELATIME, MS_NOATIME | MS_STRICTATIME], norelatime: [0, MS_RELATIME],
  strictatime: [MS_STRICTATIME, MS_RELATIME | MS_NOATIME],
  noatime: [MS_NOATIME, MS_RELATIME | MS_STRICTATIME], atime: [0, MS_NOATIME],
  nodiratime: [MS_NODIRATIME, 0], diratime: [0, MS_NODIRATIME],
  bind: [MS_BIND, 0], rbind: [MS_BIND | MS_REC, 0],
  private: [MS_PRIVATE, 0], rprivate: [MS_PRIVATE | MS_REC, 0],
  shared: [MS_SHARED, 0], rshared: [MS_SHARED | MS_REC, 0],
  slave: [MS_SLAVE, 0], rslave: [MS_SLAVE | MS_REC, 0],
  unbindable: [MS_UNBINDABLE, 0], runbindable: [MS_UNBINDABLE | MS_REC, 0],
};

/** ParsedOptions are a mount's option words split into mount(2) flags and data. */
export interface ParsedOptions {
  flags: number;
  /** data are the words left for the file system (`size=64m`, `mode=755`, `newinstance`). */
  data: string[];
}

/** parseOptions splits option words into flags and file system data. */
export function parseOptions(words: readonly string[]): ParsedOptions {
  let flags = 0;
  const data: string[] = [];
  for (const w of words) {
    const f = FLAG_WORDS[w];
    if (f) flags = (flags & ~f[1]) | f[0];
    else if (w !== '' && w !== 'defaults') data.push(w);
  }
  return { flags, data };
}

/** mountFlags returns the per-mount flags for mount(2) flags: relatime unless another
 * atime rule is asked (Linux's default since 2.6.30). */
export function mountFlags(flags: number): number {
  let f = flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME);
  if (flags & MS_NOATIME) f |= MS_NOATIME;
  else if (!(flags & MS_STRICTATIME)) f |= MS_RELATIME;
  return f;
}

/** TmpfsData are the tmpfs options that shape an instance. */
export interface TmpfsData {
  mode: number;
  uid: number;
  gid: number;
  /** size and nrInodes are the words given (undefined: the default). */
  size?: string;
  nrInodes?: string;
}

/** parseTmpfsData reads mode=, uid=, gid=, size=, nr_inodes= (EINVAL-worthy values give
 * null: Linux refuses the mount). Unknown words are refused too, as tmpfs does, unless
 * `strict` is false (a spec's mounts, which boot keeps lenient): then they are skipped. */
export function parseTmpfsData(data: readonly string[], defaultMode = 0o1777, strict = true): TmpfsData | null {
  const d: TmpfsData = { mode: defaultMode, uid: 0, gid: 0 };
  for (const w of data) {
    const eq = w.indexOf('=');
    const k = eq < 0 ? w : w.slice(0, eq), v = eq < 0 ? '' : w.slice(eq + 1);
    if (k === 'mode' && /^[0-7]{1,4}$/.test(v)) d.mode = parseInt(v, 8) & 0o7777;
    else if ((k === 'uid' || k === 'gid') && /^\d+$/.test(v) && Number(v) < 2 ** 32) d[k] = Number(v);
    else if (k === 'size' && /^\d+[kKmMgGtTpPeE%]?$/.test(v)) d.size = v;
    else if (k === 'nr_inodes' && /^\d+[kKmMgG]?$/.test(v)) d.nrInodes = v;
    else if (k === 'inode64' || k === 'inode32' || k === 'huge' || k === 'mpol' || !strict) continue;
    else return null;
  }
  return d;
}

/** tmpfsShowOptions are the options Linux shows for a tmpfs (shmem_show_options): size
 * and nr_inodes when set, mode when not 1777, uid and gid when not 0 (the
 * host kernel here has no CONFIG_TMPFS_INODE64, so no inode64, as runc's containers show). */
export function tmpfsShowOptions(d: TmpfsData, maxBytes: number, maxInodes: number): string[] {
  const o: string[] = [];
  if (d.size !== undefined) o.push(`size=${Math.floor(maxBytes / 1024)}k`);
  if (d.nrInodes !== undefined) o.push(`nr_inodes=${maxInodes}`);
  if (d.mode !== 0o1777) o.push(`mode=${d.mode.toString(8).padStart(3, '0')}`);
  if (d.uid) o.push(`uid=${d.uid}`);
  if (d.gid) o.push(`gid=${d.gid}`);
  return o;
}
