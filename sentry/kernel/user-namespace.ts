/**
 * The container's user namespace as the sentry enforces it: linux.uidMappings and
 * gidMappings (user_namespaces(7)). Tasks hold container ids; an id that no range covers
 * has no kernel id, so the calls that take an id from the application (set*id,
 * setgroups, chown) refuse it with EINVAL, as make_kuid's invalid result makes Linux
 * answer. The gofer maps the ids it writes and reads with the same ranges (oci/idmap.ts).
 * Without mappings every id is valid (no user namespace of the container's own).
 */
import type { Spec } from '../../oci/config';
import { IDENTITY_MAPS, IdMap, type IdMaps } from '../../oci/idmap';
import { CAP_SETFCAP, CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN, capBit } from './capabilities';
import { Errno, fail } from './errors';
import type { Kernel } from './kernel';

const maps = new WeakMap<Kernel, IdMaps>();

/** configureUserNamespace records the mappings of sandbox k from its spec; boot calls it once. */
export function configureUserNamespace(k: Kernel, spec: Spec): void {
  const l = spec.linux;
  if (!l?.uidMappings?.length && !l?.gidMappings?.length) return;
  maps.set(k, { uid: IdMap.of(l.uidMappings ?? []), gid: IdMap.of(l.gidMappings ?? []) });
}

/** idMapsOf returns sandbox k's mappings (the identity without a user namespace). */
export function idMapsOf(k: Kernel): IdMaps {
  return maps.get(k) ?? IDENTITY_MAPS;
}

/** checkMapped fails with EINVAL unless the container id `id` of `kind` has a kernel id
 * in sandbox k (make_kuid/make_kgid succeed). */
export function checkMapped(k: Kernel, kind: 'uid' | 'gid', id: number): void {
  if (idMapsOf(k)[kind].toHost(id) < 0) fail(Errno.EINVAL);
}

/**
 * User namespaces made inside the sandbox (user_namespaces(7)): unshare(CLONE_NEWUSER),
 * clone(CLONE_NEWUSER) and setns. The sandbox's own namespace (above, the container's) is
 * the root, `null` in a task's credentials; a task's ids are kept as the root namespace's
 * ids ("kernel ids", what files and permission checks use), and the calls that show or
 * take an id translate it through the caller's namespace: an id its maps do not cover
 * reads as the overflow id 65534 and is refused (EINVAL) when given.
 *
 * Capabilities are relative to a namespace, as Linux's cap_capable: a task holds its
 * effective set in its own namespace and in every namespace below it; the owner of a
 * namespace (its creator's euid, in the parent) holds every capability in it and below.
 * `Credentials.capable` asks about the root namespace (Linux's capable()), so a task in a
 * namespace of its own gains nothing over the sandbox's files, devices or clock; the
 * checks Linux makes against a namespace (ns_capable: set*id, file permissions over mapped
 * owners, namespaces owned by the task's user namespace: sethostname, mount, unshare)
 * call capableIn.
 */
export const OVERFLOW = 65534;
/** MAX_DEPTH is Linux's limit of nested user namespaces below the initial one (EUSERS beyond). */
const MAX_DEPTH = 32;
/** MAX_EXTENTS is how many lines a uid_map or gid_map may have (Linux's 340). */
const MAX_EXTENTS = 340;
const U32 = 0x1_0000_0000;

/** Extent is one line of a map: ids [first, first+count) here are [lower, lower+count) in
 * the parent; `kfirst` is the first one's kernel id. */
interface Extent {
  first: number;
  lower: number;
  count: number;
  kfirst: number;
}

export class UserNamespace {
  readonly level: number;
  uidMap: Extent[] | null = null;
  gidMap: Extent[] | null = null;
  /** setgroups is the /proc/<pid>/setgroups state: 'deny' forbids setgroups(2) here and below. */
  setgroups: 'allow' | 'deny';

  constructor(
    readonly parent: UserNamespace | null,
    /** ownerUid and ownerGid are the creator's effective ids (kernel ids). */
    readonly ownerUid: number,
    readonly ownerGid: number,
    /** parentCouldSetfcap: the creator held CAP_SETFCAP (mapping the parent's root needs it). */
    readonly parentCouldSetfcap = false,
  ) {
    this.level = (parent?.level ?? 0) + 1;
    this.setgroups = parent?.setgroups ?? 'allow';
  }

  /** toKernel returns the kernel id of `id` seen here, or -1 when no extent covers it. */
  toKernel(kind: 'uid' | 'gid', id: number): number {
    for (const e of (kind === 'uid' ? this.uidMap : this.gidMap) ?? []) {
      if (id >= e.first && id - e.first < e.count) return e.kfirst + (id - e.first);
    }
    return -1;
  }

  /** fromKernel returns what kernel id `kid` is here, or -1 when no extent covers it. */
  fromKernel(kind: 'uid' | 'gid', kid: number): number {
    for (const e of (kind === 'uid' ? this.uidMap : this.gidMap) ?? []) {
      if (kid >= e.kfirst && kid - e.kfirst < e.count) return e.first + (kid - e.kfirst);
    }
    return -1;
  }
}

/** toKernelId returns the kernel id of `id` as namespace ns sees it (-1: unmapped). */
export function toKernelId(ns: UserNamespace | null, kind: 'uid' | 'gid', id: number): number {
  if (ns === null) return id >= 0 && id < U32 - 1 ? id : -1;
  return ns.toKernel(kind, id);
}

/** fromKernelId returns kernel id `kid` as namespace ns sees it: the overflow id when unmapped. */
export function fromKernelId(ns: UserNamespace | null, kind: 'uid' | 'gid', kid: number): number {
  if (ns === null) return kid;
  const v = ns.fromKernel(kind, kid);
  return v < 0 ? OVERFLOW : v;
}

/** rangeToKernel returns the kernel id of the first of ids [id, id+count) of namespace ns
 * when one extent maps them all (Linux's map_id_range_down), else -1. */
function rangeToKernel(ns: UserNamespace | null, kind: 'uid' | 'gid', id: number, count: number): number {
  if (ns === null) return id + count <= U32 - 1 ? id : -1;
  for (const e of (kind === 'uid' ? ns.uidMap : ns.gidMap) ?? []) {
    if (id >= e.first && id + count <= e.first + e.count) return e.kfirst + (id - e.first);
  }
  return -1;
}

/** NO_ID is (u32) -1: "leave this id unchanged" in set*id and chown. */
export const NO_ID = 0xffffffff;

/** givenId returns the kernel id of id `v` given by a task in user namespace ns of sandbox
 * k: EINVAL when ns or the container's mappings do not map it (make_kuid fails); NO_ID
 * stays NO_ID. */
export function givenId(k: Kernel, ns: UserNamespace | null, kind: 'uid' | 'gid', v: number): number {
  if (v === NO_ID) return v;
  const kid = toKernelId(ns, kind, v);
  if (kid < 0) fail(Errno.EINVAL);
  checkMapped(k, kind, kid);
  return kid;
}

/** hasMapping tells whether kernel id `kid` has an id in namespace ns. */
export function hasMapping(ns: UserNamespace | null, kind: 'uid' | 'gid', kid: number): boolean {
  return ns === null || ns.fromKernel(kind, kid) >= 0;
}

/** IdHolder is what capableIn reads of credentials (no import cycle with credentials.ts). */
interface IdHolder {
  euid: number;
  userns: UserNamespace | null;
  caps: { effective: bigint };
}

/** capableIn is Linux's ns_capable: whether c holds capability `cap` (its bit) in namespace ns. */
export function capableIn(c: IdHolder, ns: UserNamespace | null, bit: bigint): boolean {
  for (let n = ns; ; n = n!.parent) {
    if (n === c.userns) return (c.caps.effective & bit) !== 0n;
    // Namespaces at or above the task's own (other than its own) give it nothing.
    if (n === null || n.level <= (c.userns?.level ?? 0)) return false;
    // The owner of a namespace whose parent is the task's own holds every capability in it.
    if (n.parent === c.userns && n.ownerUid === c.euid) return true;
  }
}

/** owners records which user namespace owns each other namespace made in the sandbox
 * (the creator's, after any CLONE_NEWUSER of the same call); absent: the root one. */
const owners = new WeakMap<object, UserNamespace>();

/** setOwner records that user namespace `userns` owns namespace ns. */
export function setOwner(ns: object, userns: UserNamespace | null): void {
  if (userns) owners.set(ns, userns);
}

/** ownerOf returns the user namespace that owns namespace ns (null: the root). */
export function ownerOf(ns: object): UserNamespace | null {
  return owners.get(ns) ?? null;
}

/**
 * newUserNamespace makes the user namespace of unshare(CLONE_NEWUSER) or clone for a
 * task with credentials c: EUSERS past 32 levels, EPERM for a chrooted task (`chrooted`:
 * its root is not its mount namespace's). The caller then gives the task enteredCaps.
 */
export function newUserNamespace(c: { euid: number; egid: number; userns: UserNamespace | null; caps: { effective: bigint } }, chrooted: boolean): UserNamespace {
  if ((c.userns?.level ?? 0) >= MAX_DEPTH) fail(Errno.EUSERS);
  if (chrooted) fail(Errno.EPERM);
  return new UserNamespace(c.userns, c.euid, c.egid, (c.caps.effective & capBit(CAP_SETFCAP)) !== 0n);
}

/** mapText renders namespace ns's map of `kind` as /proc/<pid>/uid_map shows it to a
 * reader in namespace `reader`: the lower ids as the reader sees them, or as the parent
 * does when the reader is in ns itself. The root namespace shows the container's map. */
export function mapText(ns: UserNamespace, kind: 'uid' | 'gid', reader: UserNamespace | null): string {
  const lowerNs = reader === ns ? ns.parent : reader;
  let out = '';
  for (const e of (kind === 'uid' ? ns.uidMap : ns.gidMap) ?? []) {
    const lower = lowerNs === null ? e.kfirst : lowerNs.fromKernel(kind, e.kfirst);
    if (lower < 0) continue;
    out += `${String(e.first).padStart(10)} ${String(lower).padStart(10)} ${String(e.count).padStart(10)}\n`;
  }
  return out;
}

/** MapWriter is who writes a map: its credentials and the namespace it is in. */
interface MapWriter extends IdHolder {
  egid: number;
}

/**
 * writeMap sets namespace ns's uid_map or gid_map from `text` written to
 * /proc/<pid>/{uid,gid}_map by credentials w (the writer, who opened the file too), as
 * Linux's map_write: once (EPERM after), by a task in ns or its parent (EPERM) with
 * CAP_SYS_ADMIN in ns (EPERM); lines "first lower count" (EINVAL when malformed,
 * overlapping, empty or more than 340). Without CAP_SETUID (CAP_SETGID) in the parent,
 * only one id may be mapped: the writer's own effective id (and for gid_map only after
 * setgroups was denied). Every lower id must exist in the parent (EPERM). A uid_map that
 * maps the parent's root (lower id 0) needs CAP_SETFCAP over the parent (verify_root_map):
 * the creator's when the writer is in ns itself, the writer's otherwise.
 */
export function writeMap(ns: UserNamespace, kind: 'uid' | 'gid', w: MapWriter, text: string): void {
  const capSetid = kind === 'uid' ? CAP_SETUID : CAP_SETGID;
  if ((kind === 'uid' ? ns.uidMap : ns.gidMap) !== null) fail(Errno.EPERM);
  if (w.userns !== ns && w.userns !== ns.parent) fail(Errno.EPERM);
  if (!capableIn(w, ns, capBit(CAP_SYS_ADMIN))) fail(Errno.EPERM);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0 || lines.length > MAX_EXTENTS) fail(Errno.EINVAL);
  const extents: Extent[] = [];
  for (const line of lines) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (!m) fail(Errno.EINVAL);
    const [first, lower, count] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (count === 0 || first + count > U32 || lower + count > U32 || first >= U32 || lower >= U32) fail(Errno.EINVAL);
    for (const e of extents) {
      const overlap = (a: number, b: number) => a < b + e.count && b < a + count;
      if (overlap(first, e.first) || overlap(lower, e.lower)) fail(Errno.EINVAL);
    }
    extents.push({ first, lower, count, kfirst: -1 });
  }
  // Only what the writer may set (new_idmap_permitted): its own id, or anything with CAP_SET*ID over the parent.
  const own = extents.length === 1 && extents[0].count === 1 && ns.ownerUid === w.euid
    && (kind === 'uid'
      ? toKernelId(ns.parent, 'uid', extents[0].lower) === w.euid
      : ns.setgroups === 'deny' && toKernelId(ns.parent, 'gid', extents[0].lower) === w.egid);
  if (!own && !capableIn(w, ns.parent, capBit(capSetid))) fail(Errno.EPERM);
  if (kind === 'uid' && extents.some((e) => e.lower === 0)) {
    const setfcap = w.userns === ns ? ns.parentCouldSetfcap : capableIn(w, ns.parent, capBit(CAP_SETFCAP));
    if (!setfcap) fail(Errno.EPERM);
  }
  // Each range of lower ids must lie whole in one extent of the parent (EPERM otherwise).
  for (const e of extents) {
    e.kfirst = rangeToKernel(ns.parent, kind, e.lower, e.count);
    if (e.kfirst < 0) fail(Errno.EPERM);
  }
  if (kind === 'uid') ns.uidMap = extents;
  else ns.gidMap = extents;
}

/**
 * writeSetgroups sets /proc/<pid>/setgroups ("allow" or "deny", EINVAL otherwise) for a
 * writer with CAP_SYS_ADMIN in ns (EPERM): "deny" only before gid_map is written, and a
 * namespace whose parent denies, or that denied, cannot allow again (EPERM).
 */
export function writeSetgroups(ns: UserNamespace, w: IdHolder, text: string): void {
  if (!capableIn(w, ns, capBit(CAP_SYS_ADMIN))) fail(Errno.EPERM);
  const v = text.trim();
  if (v !== 'allow' && v !== 'deny') fail(Errno.EINVAL);
  if (v === 'allow') {
    if (ns.setgroups === 'deny') fail(Errno.EPERM);
    return;
  }
  if (ns.gidMap !== null) fail(Errno.EPERM);
  ns.setgroups = 'deny';
}
