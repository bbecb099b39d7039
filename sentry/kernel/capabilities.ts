/**
 * Linux capabilities as the sentry keeps them: the five per-task sets (effective,
 * permitted, inheritable, bounding, ambient) as 64-bit masks, the securebits, and the
 * transitions of capabilities(7) written as pure functions over those values:
 * user id changes, execve, capset(2), and the prctl(2) operations on the sets.
 *
 * Invariants (as in Linux): effective ⊆ permitted, and ambient ⊆ permitted ∩ inheritable.
 * Every transition here keeps them. Capability numbers are those of the host kernel's
 * include/uapi/linux/capability.h up to CAP_LAST_CAP (40, CAP_CHECKPOINT_RESTORE).
 */
import { CAPABILITIES } from '../../oci/features';

/** Capability numbers the sentry checks (capability.h). */
export const CAP_CHOWN = 0, CAP_DAC_OVERRIDE = 1, CAP_DAC_READ_SEARCH = 2, CAP_FOWNER = 3, CAP_FSETID = 4, CAP_KILL = 5,
  CAP_SETGID = 6, CAP_SETUID = 7, CAP_SETPCAP = 8, CAP_SYS_CHROOT = 18, CAP_SYS_ADMIN = 21, CAP_SYS_RESOURCE = 24,
  CAP_MKNOD = 27;
/** CAP_IPC_LOCK lifts RLIMIT_MEMLOCK; CAP_SYS_NICE allows real-time policies, lower nice values and other users' tasks; CAP_SYS_TIME sets the sandbox's clock. */
export const CAP_IPC_LOCK = 14, CAP_SYS_NICE = 23, CAP_SYS_TIME = 25;
/** CAP_NET_RAW allows raw sockets (sentry/net/host/raw-icmp.ts). */
export const CAP_NET_RAW = 13;
/** CAP_SETFCAP sets file capabilities; a user namespace mapping its parent's root needs it (user-namespace.ts). */
export const CAP_SETFCAP = 31;
/** CAP_SYSLOG reads and clears the kernel log (syslog(2)). */
export const CAP_SYSLOG = 34;

/** CAP_LAST_CAP is the highest capability number (/proc/sys/kernel/cap_last_cap). */
export const CAP_LAST_CAP = CAPABILITIES.length - 1;

/** ALL_CAPS is the mask of every valid capability. */
export const ALL_CAPS = (1n << BigInt(CAP_LAST_CAP + 1)) - 1n;

/** Securebits (linux/securebits.h): each flag at an even bit, its lock at the next one. */
export const SECBIT_NOROOT = 1 << 0, SECBIT_NO_SETUID_FIXUP = 1 << 2, SECBIT_KEEP_CAPS = 1 << 4,
  SECBIT_NO_CAP_AMBIENT_RAISE = 1 << 6;
const SECURE_ALL_BITS = SECBIT_NOROOT | SECBIT_NO_SETUID_FIXUP | SECBIT_KEEP_CAPS | SECBIT_NO_CAP_AMBIENT_RAISE;
const SECURE_ALL_LOCKS = SECURE_ALL_BITS << 1;

/** CapSets are a task's capability sets and securebits. */
export interface CapSets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  bounding: bigint;
  ambient: bigint;
  securebits: number;
}

/** capValid tells whether n names a capability. */
export function capValid(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= CAP_LAST_CAP;
}

/** capBit is the mask of one capability. */
export function capBit(n: number): bigint {
  return 1n << BigInt(n);
}

/** capNumber returns the number of an OCI capability name ("CAP_CHOWN"), or undefined. */
export function capNumber(name: string): number | undefined {
  const i = CAPABILITIES.indexOf(name);
  return i < 0 ? undefined : i;
}

/** capMask turns a list of capability names into a mask; an unknown name throws (config
 * validation rejects those before the sentry starts). */
export function capMask(names: string[] | undefined): bigint {
  let m = 0n;
  for (const name of names ?? []) {
    const n = capNumber(name);
    if (n === undefined) throw new Error(`unknown capability "${name}"`);
    m |= capBit(n);
  }
  return m;
}

/** fullCaps are root's sets when config.json gives none: everything but inheritable and ambient. */
export function fullCaps(): CapSets {
  return { effective: ALL_CAPS, permitted: ALL_CAPS, inheritable: 0n, bounding: ALL_CAPS, ambient: 0n, securebits: 0 };
}

/** noCaps are an unprivileged user's sets when config.json gives none (the bounding set stays full). */
export function noCaps(): CapSets {
  return { effective: 0n, permitted: 0n, inheritable: 0n, bounding: ALL_CAPS, ambient: 0n, securebits: 0 };
}

const subset = (a: bigint, b: bigint) => (a & ~b) === 0n;

/** IdTriple is a real, effective and saved user (or group) id. */
export interface IdTriple {
  real: number;
  effective: number;
  saved: number;
}

/** fixupSetuid adjusts the sets after a change of user ids by setuid, setreuid or
 * setresuid, as capabilities(7) "Effect of user ID changes on capabilities" says (Linux's
 * cap_emulate_setxuid): leaving uid 0 everywhere clears permitted and effective (unless
 * SECBIT_KEEP_CAPS) and ambient; effective uid 0 -> nonzero clears effective; nonzero -> 0
 * copies permitted into effective. SECBIT_NO_SETUID_FIXUP turns all of it off. `root` is
 * the kernel id of uid 0 in the task's user namespace. */
export function fixupSetuid(c: CapSets, before: IdTriple, after: IdTriple, root = 0): void {
  if (c.securebits & SECBIT_NO_SETUID_FIXUP) return;
  const hadRoot = before.real === root || before.effective === root || before.saved === root;
  const hasRoot = after.real === root || after.effective === root || after.saved === root;
  if (hadRoot && !hasRoot) {
    if (!(c.securebits & SECBIT_KEEP_CAPS)) {
      c.permitted = 0n;
      c.effective = 0n;
    }
    c.ambient = 0n;
  }
  if (before.effective === root && after.effective !== root) c.effective = 0n;
  if (before.effective !== root && after.effective === root) c.effective = c.permitted;
}

/** ExecIds are the ids a task has (and gets) across execve. */
export interface ExecIds {
  uid: number;
  euid: number;
  gid: number;
  egid: number;
}

/** ExecFileIds describe the executable's set-id bits, already filtered: setuid/setgid are
 * the owner to become, or undefined when the bit is off, ignored (nosuid mount,
 * no_new_privs) or not applicable (setgid without group execute). */
export interface ExecFileIds {
  setuid?: number;
  setgid?: number;
}

/** ExecResult is what execve makes of a task's identity. */
export interface ExecResult {
  ids: ExecIds;
  caps: CapSets;
  /** secure is AT_SECURE: the program gained privilege and must distrust its environment. */
  secure: boolean;
}

/** capsForExec computes the ids and sets after execve of a file without file
 * capabilities (Linux's cap_bprm_creds_from_file). The saved ids become the new effective
 * ones. With no_new_privs, no capability is gained and the effective ids fall back to the
 * real ones. `root` is the kernel id of uid 0 in the task's user namespace (-1: none). */
export function capsForExec(old: CapSets, ids: ExecIds, file: ExecFileIds, noNewPrivs: boolean, root = 0): ExecResult {
  const n: ExecIds = { ...ids, euid: file.setuid ?? ids.euid, egid: file.setgid ?? ids.egid };
  const caps: CapSets = { ...old, permitted: 0n };
  let effective = false;
  if (!(old.securebits & SECBIT_NOROOT)) {
    // Root is treated as if the file had every capability in its permitted and inheritable sets.
    if (n.euid === root || n.uid === root) caps.permitted = old.bounding | old.inheritable;
    if (n.euid === root) effective = true;
  }
  const isSetid = n.euid !== ids.uid || n.egid !== ids.gid;
  const gained = !subset(caps.permitted, old.permitted);
  if ((isSetid || gained) && noNewPrivs) {
    n.euid = n.uid;
    n.egid = n.gid;
    caps.permitted &= old.permitted;
  }
  if (isSetid) caps.ambient = 0n;
  caps.permitted |= caps.ambient;
  caps.effective = effective ? caps.permitted : caps.ambient;
  caps.securebits &= ~SECBIT_KEEP_CAPS;
  const secure = isSetid || (n.uid !== root && (effective || !subset(caps.permitted, caps.ambient)));
  return { ids: n, caps, secure };
}

/** capsetCheck validates capset(2)'s new sets against the current ones (false: EPERM):
 * inheritable may only grow within permitted (unless CAP_SETPCAP) and
 * within bounding, permitted may only shrink, effective must stay within permitted. */
export function capsetCheck(c: CapSets, effective: bigint, permitted: bigint, inheritable: bigint): boolean {
  const setpcap = (c.effective & capBit(CAP_SETPCAP)) !== 0n;
  if (!setpcap && !subset(inheritable, c.inheritable | c.permitted)) return false;
  if (!subset(inheritable, c.inheritable | c.bounding)) return false;
  if (!subset(permitted, c.permitted)) return false;
  return subset(effective, permitted);
}

/** capsetApply sets the sets capsetCheck accepted; ambient drops what left permitted ∩ inheritable. */
export function capsetApply(c: CapSets, effective: bigint, permitted: bigint, inheritable: bigint): void {
  c.effective = effective;
  c.permitted = permitted;
  c.inheritable = inheritable;
  c.ambient &= permitted & inheritable;
}

/** ambientRaise raises cap in the ambient set; false (EPERM) unless it is permitted and
 * inheritable and SECBIT_NO_CAP_AMBIENT_RAISE is clear. */
export function ambientRaise(c: CapSets, cap: number): boolean {
  const b = capBit(cap);
  if (!(c.permitted & b) || !(c.inheritable & b) || c.securebits & SECBIT_NO_CAP_AMBIENT_RAISE) return false;
  c.ambient |= b;
  return true;
}

/** securebitsSettable tells whether PR_SET_SECUREBITS may set bits (CAP_SETPCAP is
 * checked by the caller): no locked flag changes, no lock is released, no unknown bit. */
export function securebitsSettable(current: number, bits: number): boolean {
  const locked = (current & SECURE_ALL_LOCKS) >> 1;
  if (locked & (current ^ bits)) return false;
  if (current & SECURE_ALL_LOCKS & ~bits) return false;
  return (bits & ~(SECURE_ALL_LOCKS | SECURE_ALL_BITS)) === 0;
}

/** capHex formats a set as /proc/<pid>/status does (16 hex digits). */
export function capHex(m: bigint): string {
  return m.toString(16).padStart(16, '0');
}
