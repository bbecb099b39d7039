/**
 * Per-thread credentials for the gofer's host calls: a mutation asked for by a task of
 * the sandbox runs with that task's filesystem ids, groups and filesystem capabilities,
 * so that the host kernel makes its own permission checks (mode bits, sticky
 * directories, fs.protected_hardlinks, set-user-ID clearing) as it would for that user.
 *
 * Every call here is a raw syscall(2): the kernel's setfsuid, setfsgid, setgroups and
 * capset change the calling thread only (glibc's wrappers would broadcast the change to
 * every thread of the process). The gofer makes its host calls on its main thread, one
 * request at a time.
 *
 * The switch is lazy: a caller's credentials stay in force after its request, and the
 * next request by the same caller (the common case: one task making many calls) costs no
 * host call; another caller's costs only what differs. Whatever needs the gofer's own
 * credentials asks for them (asOwn, restoreOwn): see asCreds for which calls do.
 *
 * Order, and why: apply first makes the gofer's own effective set effective again (capset
 * within the unchanged permitted set is always allowed), sets the groups and ids while
 * CAP_SETGID/CAP_SETUID are effective, then capset leaves only the asked-for filesystem
 * capabilities effective (the kernel has cleared them when the fsuid left 0). restore
 * restores the effective set, then the groups and the fsuid and fsgid 0 (the real ids).
 *
 * Host syscalls used: setfsuid, setfsgid, setgroups, getgroups, capget, capset.
 * Capabilities the gofer must keep permitted: CAP_SETUID, CAP_SETGID, CAP_CHOWN,
 * CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID.
 */
import { lastErrno, libcFunc } from '../../native/libc';
import { threadCapget, threadCapset, type CapSets } from '../../native/caps';

const SYS_getgroups = 115, SYS_setgroups = 116, SYS_setfsuid = 122, SYS_setfsgid = 123;
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
};

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
  caps: CapSets;
  groups: number[];
}

let saved: Saved | null | undefined;

/** ownState reads the gofer's credentials once; null when it cannot switch (not root, or
 * without CAP_SETUID and CAP_SETGID effective). */
function ownState(): Saved | null {
  if (saved !== undefined) return saved;
  const caps = threadCapget();
  const groups = getgroups();
  const need = (1n << BigInt(CAP_SETUID)) | (1n << BigInt(CAP_SETGID));
  saved = typeof caps === 'number' || typeof groups === 'number' || (caps.effective & need) !== need ? null : { caps, groups };
  return saved;
}

/** canSwitch tells whether this process can act with other credentials. */
export function canSwitch(): boolean {
  return ownState() !== null;
}

/**
 * Applied is what the thread acts with while it is not the gofer's own: a caller's ids,
 * groups and effective capabilities. null: the gofer's own credentials.
 */
interface Applied {
  uid: number;
  gid: number;
  groups: string;
  effective: bigint;
}

let current: Applied | null = null;

/** restore gives the thread the gofer's own credentials back (nothing when it has them).
 * Failing that, the thread would go on with a caller's, so the gofer stops (its sandbox
 * then sees EIO). */
function restore(s: Saved): void {
  if (current === null) return;
  // Capabilities first: CAP_SETUID and CAP_SETGID are effective again for the rest.
  const r = threadCapset(s.caps);
  const g = r < 0 ? r : setgroups(s.groups);
  if (r < 0 || g < 0 || setfsid(SYS_setfsuid, 0) < 0 || setfsid(SYS_setfsgid, 0) < 0) {
    process.stderr.write(`tvisor gofer: cannot restore its own credentials (errno ${-(r < 0 ? r : g)}): exiting\n`);
    process.exit(1);
  }
  current = null;
}

/**
 * apply gives the thread the credentials `want`, changing only what differs from those it
 * has: the same caller as the last request costs nothing, another set of capabilities one
 * capset. Ids and groups are changed with CAP_SETUID and CAP_SETGID effective (the
 * gofer's own set), then capset leaves only the caller's filesystem capabilities (the
 * kernel has cleared them when the fsuid left 0). On a failure the thread is given its
 * own credentials back and the error returned.
 */
function apply(s: Saved, want: Applied): number {
  const have = current;
  if (have && have.uid === want.uid && have.gid === want.gid && have.groups === want.groups) {
    if (have.effective === want.effective) return 0;
  } else {
    // capset can always lower or raise the effective set within the unchanged permitted
    // set, so the gofer's own effective set comes back first when a caller's is in force.
    let r = have ? threadCapset(s.caps) : 0;
    current = { uid: have?.uid ?? 0, gid: have?.gid ?? 0, groups: have?.groups ?? ownGroups(s), effective: s.caps.effective };
    if (r === 0 && current.groups !== want.groups) r = setgroups(parseGroups(want.groups));
    if (r === 0) current.groups = want.groups;
    if (r === 0 && current.gid !== want.gid) r = setfsid(SYS_setfsgid, want.gid);
    if (r === 0) current.gid = want.gid;
    if (r === 0 && current.uid !== want.uid) r = setfsid(SYS_setfsuid, want.uid);
    if (r === 0) current.uid = want.uid;
    if (r < 0) {
      restore(s);
      return r;
    }
  }
  const r = threadCapset({ effective: want.effective, permitted: s.caps.permitted, inheritable: s.caps.inheritable });
  if (r < 0) {
    restore(s);
    return r;
  }
  current = want;
  return 0;
}

function groupsKey(groups: readonly number[]): string {
  return groups.map((g) => g >>> 0).join(',');
}

function parseGroups(key: string): number[] {
  return key === '' ? [] : key.split(',').map(Number);
}

let ownKey: string | undefined;

function ownGroups(s: Saved): string {
  ownKey ??= groupsKey(s.groups);
  return ownKey;
}

/**
 * asCreds runs fn with the fsuid, fsgid, groups and filesystem capabilities of `c`
 * (host ids). It returns fn's result, or -EPERM (or the errno of the switch) when the
 * switch itself fails (then fn does not run).
 *
 * The thread keeps `c` afterwards: the next asCreds for the same credentials (one task
 * making many calls) switches nothing. So every host call the gofer's main thread makes
 * between two requests is made as the last caller: what needs the gofer's own
 * credentials runs under asOwn (a plain 9P2000.L session's requests, lookups the gofer
 * makes for its own checks, re-opens for its own bookkeeping, the end of the process).
 * Calls that check no credentials (close, fstat of a descriptor, pread/pwrite, send and
 * receive on its sockets) need neither.
 */
export function asCreds<T>(c: HostCreds, fn: () => T): T | number {
  const s = ownState();
  if (!s) return -EPERM;
  const r = apply(s, { uid: c.uid >>> 0, gid: c.gid >>> 0, groups: groupsKey(c.groups), effective: BigInt(c.caps & FS_CAPS) & s.caps.permitted });
  if (r < 0) return r;
  return fn();
}

/** asOwn runs fn with the gofer's own credentials, switching back to them first when a
 * caller's are in force (they are not re-applied afterwards: the next asCreds does it). */
export function asOwn<T>(fn: () => T): T {
  restoreOwn();
  return fn();
}

/** restoreOwn gives the thread the gofer's own credentials now (nothing to do when it has
 * them, or cannot switch). */
export function restoreOwn(): void {
  if (current === null) return;
  const s = ownState();
  if (s) restore(s);
}

/** switchedTo tells which host credentials the thread now acts with: null for the
 * gofer's own (for tests). */
export function switchedTo(): { uid: number; gid: number; groups: number[]; effective: bigint } | null {
  return current && { uid: current.uid, gid: current.gid, groups: parseGroups(current.groups), effective: current.effective };
}
