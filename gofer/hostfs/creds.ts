/**
 * Per-thread credentials for the gofer's host calls: a mutation asked for by a task of
 * the sandbox runs with that task's filesystem ids, groups and filesystem capabilities,
 * so that the host kernel makes its own permission checks (mode bits, sticky
 * directories, fs.protected_hardlinks, set-user-ID clearing) as it would for that user.
 *
 * Every call here is a raw syscall(2): the kernel's setfsuid, setfsgid, setgroups and
 * capset change the calling thread only (glibc's wrappers would broadcast the change to
 * every thread of the process). The gofer makes its host calls on its main thread, one
 * request at a time, so the switch covers exactly one request's calls.
 *
 * Order, and why: apply sets the groups and ids while CAP_SETGID/CAP_SETUID are still
 * effective, then capset leaves only the asked-for filesystem capabilities effective
 * (the kernel has cleared them when the fsuid left 0). restore sets the fsuid and fsgid
 * back to 0 (allowed without a capability: 0 is the real id), restores the effective
 * set (a subset of the unchanged permitted set), then the groups (CAP_SETGID is back).
 *
 * Host syscalls used: setfsuid, setfsgid, setgroups, getgroups, capget, capset.
 * Capabilities the gofer must keep permitted: CAP_SETUID, CAP_SETGID, CAP_CHOWN,
 * CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID.
 */
import { lastErrno, libcFunc } from '../../native/libc';

const SYS_getgroups = 115, SYS_setgroups = 116, SYS_setfsuid = 122, SYS_setfsgid = 123, SYS_capget = 125, SYS_capset = 126;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;
const EPERM = 1;

/** Capability numbers of capability.h that the gofer switches. */
export const CAP_CHOWN = 0, CAP_DAC_OVERRIDE = 1, CAP_DAC_READ_SEARCH = 2, CAP_FOWNER = 3, CAP_FSETID = 4;
const CAP_SETGID = 6, CAP_SETUID = 7;
/** FS_CAPS is the mask of the filesystem capabilities a request may carry. */
export const FS_CAPS = (1 << CAP_CHOWN) | (1 << CAP_DAC_OVERRIDE) | (1 << CAP_DAC_READ_SEARCH) | (1 << CAP_FOWNER) | (1 << CAP_FSETID);

/** HostCreds are host ids and a mask of FS_CAPS to act with. */
export interface HostCreds {
  uid: number;
  gid: number;
  groups: readonly number[];
  caps: number;
}

const f = {
  id: () => libcFunc('long syscall(long nr, uint32 id)'),
  groups: () => libcFunc('long syscall(long nr, int n, void *list)'),
  cap: () => libcFunc('long syscall(long nr, void *hdr, void *data)'),
};

/** CapData is the three 64-bit sets of capget/capset (low word first on the wire). */
interface CapData {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

const hdr = Buffer.alloc(8);
const data = Buffer.alloc(24);

function capget(): CapData | number {
  hdr.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
  hdr.writeInt32LE(0, 4);
  // SAFETY: a v3 header (8 bytes) and two __user_cap_data_struct (24 bytes), both
  // owned here and read or filled by the kernel during the call only; pid 0 = this thread.
  if (Number(f.cap()(SYS_capget, hdr, data)) < 0) return -lastErrno();
  const set = (o: number) => BigInt(data.readUInt32LE(o)) | (BigInt(data.readUInt32LE(o + 12)) << 32n);
  return { effective: set(0), permitted: set(4), inheritable: set(8) };
}

function capset(c: CapData): number {
  hdr.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
  hdr.writeInt32LE(0, 4);
  const put = (v: bigint, o: number) => {
    data.writeUInt32LE(Number(v & 0xffffffffn), o);
    data.writeUInt32LE(Number((v >> 32n) & 0xffffffffn), o + 12);
  };
  put(c.effective, 0);
  put(c.permitted, 4);
  put(c.inheritable, 8);
  // SAFETY: as in capget; capset with pid 0 changes the calling thread only.
  return Number(f.cap()(SYS_capset, hdr, data)) < 0 ? -lastErrno() : 0;
}

/** setfsid sets the fsuid or fsgid and checks it took (the call reports no error). */
function setfsid(nr: number, id: number): number {
  // SAFETY: plain integer arguments; the call returns the previous id.
  f.id()(nr, id >>> 0);
  // An invalid id (-1) changes nothing and returns the current one.
  return Number(f.id()(nr, 0xffffffff)) >>> 0 === id >>> 0 ? 0 : -EPERM;
}

function setgroups(groups: readonly number[]): number {
  const list = Buffer.alloc(Math.max(4, groups.length * 4));
  groups.forEach((g, i) => list.writeUInt32LE(g >>> 0, i * 4));
  // SAFETY: `list` holds groups.length gid_t values and lives through the call.
  return Number(f.groups()(SYS_setgroups, groups.length, list)) < 0 ? -lastErrno() : 0;
}

function getgroups(): number[] | number {
  // SAFETY: a count of 0 asks only for the number of groups.
  const n = Number(f.groups()(SYS_getgroups, 0, null));
  if (n < 0) return -lastErrno();
  const list = Buffer.alloc(Math.max(4, n * 4));
  // SAFETY: `list` has room for n gid_t values.
  const got = Number(f.groups()(SYS_getgroups, n, list));
  if (got < 0) return -lastErrno();
  return Array.from({ length: got }, (_, i) => list.readUInt32LE(i * 4));
}

/** Saved is the gofer's own state, restored after every switch. */
interface Saved {
  caps: CapData;
  groups: number[];
}

let saved: Saved | null | undefined;

/** ownState reads the gofer's credentials once; null when it cannot switch (not root, or
 * without CAP_SETUID and CAP_SETGID effective). */
function ownState(): Saved | null {
  if (saved !== undefined) return saved;
  const caps = capget();
  const groups = getgroups();
  const need = (1n << BigInt(CAP_SETUID)) | (1n << BigInt(CAP_SETGID));
  saved = typeof caps === 'number' || typeof groups === 'number' || (caps.effective & need) !== need ? null : { caps, groups };
  return saved;
}

/** canSwitch tells whether this process can act with other credentials. */
export function canSwitch(): boolean {
  return ownState() !== null;
}

/** restore gives the thread the gofer's own credentials back. Failing that, the thread
 * would go on with a caller's, so the gofer stops (its sandbox then sees EIO). */
function restore(s: Saved): void {
  setfsid(SYS_setfsuid, 0);
  setfsid(SYS_setfsgid, 0);
  const r = capset(s.caps);
  const g = r < 0 ? r : setgroups(s.groups);
  if (r < 0 || g < 0 || setfsid(SYS_setfsuid, 0) < 0 || setfsid(SYS_setfsgid, 0) < 0) {
    process.stderr.write(`tvisor gofer: cannot restore its own credentials (errno ${-(r < 0 ? r : g)}): exiting\n`);
    process.exit(1);
  }
}

/**
 * asCreds runs fn with the fsuid, fsgid, groups and filesystem capabilities of `c`
 * (host ids), then restores the gofer's own. It returns fn's result, or -EPERM when
 * the switch itself fails (then fn does not run).
 */
export function asCreds<T>(c: HostCreds, fn: () => T): T | number {
  const s = ownState();
  if (!s) return -EPERM;
  let r = setgroups(c.groups);
  if (r === 0) r = setfsid(SYS_setfsgid, c.gid);
  if (r === 0) r = setfsid(SYS_setfsuid, c.uid);
  if (r === 0) r = capset({ effective: BigInt(c.caps & FS_CAPS) & s.caps.permitted, permitted: s.caps.permitted, inheritable: s.caps.inheritable });
  try {
    if (r < 0) return r;
    return fn();
  } finally {
    restore(s);
  }
}
