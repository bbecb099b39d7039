/**
 * Credentials: the user and group ids (get/set*id, getgroups/setgroups), capget/capset,
 * and the capability operations of prctl (capPrctl, called from misc.ts's prctl). The
 * rules are Linux's (kernel/sys.c, kernel/capability.c, security/commoncap.c); the
 * capability transitions themselves live in kernel/capabilities.ts.
 */
import { seenBy, taskByTid } from '../../../kernel/pid-namespace';
import {
  ambientRaise, CAP_LAST_CAP, CAP_SETGID, CAP_SETPCAP, CAP_SETUID, capBit, capsetApply, capsetCheck, capValid, fixupSetuid,
  SECBIT_KEEP_CAPS, securebitsSettable,
} from '../../../kernel/capabilities';
import { Errno, fail } from '../../../kernel/errors';
import type { Task } from '../../../kernel/task';
import { fromKernelId, givenId, NO_ID } from '../../../kernel/user-namespace';
import type { Registers } from '../../../../platform';
import { define } from '../registry';
import { u32 } from './util';

const NGROUPS_MAX = 65536;

type Kind = 'uid' | 'gid';

/** shown is kernel id `kid` as t's user namespace sees it (65534 when unmapped there). */
const shown = (t: Task, kind: Kind, kid: number) => fromKernelId(t.creds.userns, kind, kid);

// Identity.
define(102, (t) => shown(t, 'uid', t.creds.uid), 'full');
define(107, (t) => shown(t, 'uid', t.creds.euid), 'full');
define(104, (t) => shown(t, 'gid', t.creds.gid), 'full');
define(108, (t) => shown(t, 'gid', t.creds.egid), 'full');
define(115, (t, r) => {
  const n = r.argInt(0);
  const g = t.creds.groups;
  if (n < 0) fail(Errno.EINVAL);
  if (n === 0) return g.length;
  if (n < g.length) fail(Errno.EINVAL);
  const b = Buffer.alloc(4 * g.length);
  g.forEach((x, i) => b.writeUInt32LE(shown(t, 'gid', x), 4 * i));
  t.mm.write(r.arg(1), b);
  return g.length;
}, 'full');
define(116, (t, r) => {
  // may_setgroups: CAP_SETGID in the task's namespace, whose gid_map is written and setgroups allowed.
  const ns = t.creds.userns;
  if (!t.creds.capableIn(CAP_SETGID) || (ns !== null && (ns.gidMap === null || ns.setgroups === 'deny'))) fail(Errno.EPERM);
  const n = r.argInt(0);
  if (n < 0 || n > NGROUPS_MAX) fail(Errno.EINVAL);
  const b = t.mm.read(r.arg(1), 4 * n);
  const groups = Array.from({ length: n }, (_, i) => kernelId(t, 'gid', b.readUInt32LE(4 * i)));
  // Linux sorts the list (groups_sort): getgroups returns it in ascending order.
  t.creds.groups = groups.sort((a, b) => a - b);
  return 0;
}, 'full');

const ids = (t: Task, kind: Kind): [number, number, number] =>
  (kind === 'uid' ? [t.creds.uid, t.creds.euid, t.creds.suid] : [t.creds.gid, t.creds.egid, t.creds.sgid]);
const mayChange = (t: Task, kind: Kind) => t.creds.capableIn(kind === 'uid' ? CAP_SETUID : CAP_SETGID);

/** kernelId is the kernel id of id `v` given by t (user-namespace.ts's givenId). */
const kernelId = (t: Task, kind: Kind, v: number) => givenId(t.kernel, t.creds.userns, kind, v);

/** commit stores new real/effective/saved ids; for user ids, the capability sets follow
 * (capabilities(7) "Effect of user ID changes on capabilities"). */
function commit(t: Task, kind: Kind, next: [number, number, number]): number {
  const c = t.creds;
  if (kind === 'gid') {
    [c.gid, c.egid, c.sgid] = next;
    return 0;
  }
  const before = { real: c.uid, effective: c.euid, saved: c.suid };
  [c.uid, c.euid, c.suid] = next;
  fixupSetuid(c.caps, before, { real: c.uid, effective: c.euid, saved: c.suid }, c.rootUid());
  return 0;
}

/** setId implements setuid/setgid (an unmapped id is EINVAL): with CAP_SETUID (CAP_SETGID) all three ids, otherwise
 * the effective one, to the real or saved id only. */
function setId(t: Task, kind: Kind, given: number): number {
  if (given === NO_ID) fail(Errno.EINVAL);
  const id = kernelId(t, kind, given);
  const [real, , saved] = ids(t, kind);
  if (mayChange(t, kind)) return commit(t, kind, [id, id, id]);
  if (id !== real && id !== saved) fail(Errno.EPERM);
  return commit(t, kind, [real, id, saved]);
}

/** setReId implements setreuid/setregid: the real id may become the effective one, the
 * effective id any of the three; the saved id follows the effective one when the real id
 * is set or the effective one moves away from the real one. */
function setReId(t: Task, kind: Kind, givenR: number, givenE: number): number {
  // Unmapped ids are EINVAL before any permission check, as Linux's setre*id and setres*id.
  const r = kernelId(t, kind, givenR), e = kernelId(t, kind, givenE);
  const [real, eff, saved] = ids(t, kind);
  const cap = mayChange(t, kind);
  if (r !== NO_ID && r !== real && r !== eff && !cap) fail(Errno.EPERM);
  if (e !== NO_ID && e !== real && e !== eff && e !== saved && !cap) fail(Errno.EPERM);
  const nr = r === NO_ID ? real : r, ne = e === NO_ID ? eff : e;
  const ns = r !== NO_ID || (e !== NO_ID && e !== real) ? ne : saved;
  return commit(t, kind, [nr, ne, ns]);
}

/** setResId implements setresuid/setresgid: each id given must be one of the current
 * three, unless the task holds CAP_SETUID (CAP_SETGID). */
function setResId(t: Task, kind: Kind, givenR: number, givenE: number, givenS: number): number {
  const r = kernelId(t, kind, givenR), e = kernelId(t, kind, givenE), s = kernelId(t, kind, givenS);
  const cur = ids(t, kind);
  const cap = mayChange(t, kind);
  for (const v of [r, e, s]) if (v !== NO_ID && !cap && !cur.includes(v)) fail(Errno.EPERM);
  return commit(t, kind, [r, e, s].map((v, i) => (v === NO_ID ? cur[i] : v)) as [number, number, number]);
}

define(105, (t, r) => setId(t, 'uid', u32(r, 0)), 'full');
define(106, (t, r) => setId(t, 'gid', u32(r, 0)), 'full');
define(113, (t, r) => setReId(t, 'uid', u32(r, 0), u32(r, 1)), 'full');
define(114, (t, r) => setReId(t, 'gid', u32(r, 0), u32(r, 1)), 'full');
define(117, (t, r) => setResId(t, 'uid', u32(r, 0), u32(r, 1), u32(r, 2)), 'full');
define(119, (t, r) => setResId(t, 'gid', u32(r, 0), u32(r, 1), u32(r, 2)), 'full');
function getRes(t: Task, vals: number[], addrs: bigint[]): number {
  vals.forEach((v, i) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); t.mm.write(addrs[i], b); });
  return 0;
}
define(118, (t, r) => getRes(t, [t.creds.uid, t.creds.euid, t.creds.suid].map((v) => shown(t, 'uid', v)), [r.arg(0), r.arg(1), r.arg(2)]), 'full');
define(120, (t, r) => getRes(t, [t.creds.gid, t.creds.egid, t.creds.sgid].map((v) => shown(t, 'gid', v)), [r.arg(0), r.arg(1), r.arg(2)]), 'full');
define(122, (t) => shown(t, 'uid', t.creds.euid), 'partial', 'the filesystem uid is the effective uid');
define(123, (t) => shown(t, 'gid', t.creds.egid), 'partial', 'the filesystem gid is the effective gid');

// capget/capset. Header: { u32 version; i32 pid }. Data: { u32 effective, permitted,
// inheritable } once (version 1, 32 bits) or twice (versions 2 and 3, low word first).
const CAP_V1 = 0x19980330, CAP_V2 = 0x20071026, CAP_V3 = 0x20080522;
const LOW = 0xffffffffn;

/** capHeader checks the header's version and returns how many 32-bit words the data
 * holds; an unknown version is answered with the preferred one written back. */
function capHeader(t: Task, addr: bigint): { words: number; pid: number } | null {
  const hdr = t.mm.read(addr, 8);
  const version = hdr.readUInt32LE(0);
  if (version !== CAP_V1 && version !== CAP_V2 && version !== CAP_V3) {
    hdr.writeUInt32LE(CAP_V3, 0);
    t.mm.write(addr, hdr.subarray(0, 4));
    return null;
  }
  return { words: version === CAP_V1 ? 1 : 2, pid: hdr.readInt32LE(4) };
}

define(125, (t, r) => {
  const h = capHeader(t, r.arg(0));
  if (!h) return r.arg(1) === 0n ? 0 : -Errno.EINVAL;
  if (r.arg(1) === 0n) return 0;
  if (h.pid < 0) fail(Errno.EINVAL);
  const target = h.pid === 0 ? t : taskByTid(t, h.pid);
  if (!target) fail(Errno.ESRCH);
  const c = target.creds.caps;
  const b = Buffer.alloc(12 * h.words);
  for (let i = 0; i < h.words; i++) {
    const shift = BigInt(32 * i);
    b.writeUInt32LE(Number((c.effective >> shift) & LOW), 12 * i);
    b.writeUInt32LE(Number((c.permitted >> shift) & LOW), 12 * i + 4);
    b.writeUInt32LE(Number((c.inheritable >> shift) & LOW), 12 * i + 8);
  }
  t.mm.write(r.arg(1), b);
  return 0;
}, 'full');

define(126, (t, r) => {
  const h = capHeader(t, r.arg(0));
  if (!h) fail(Errno.EINVAL);
  if (h.pid !== 0 && h.pid !== seenBy(t, t.tid)) fail(Errno.EPERM);
  const b = t.mm.read(r.arg(1), 12 * h.words);
  const valid = (1n << BigInt(CAP_LAST_CAP + 1)) - 1n;
  let eff = 0n, prm = 0n, inh = 0n;
  for (let i = 0; i < h.words; i++) {
    const shift = BigInt(32 * i);
    eff |= BigInt(b.readUInt32LE(12 * i)) << shift;
    prm |= BigInt(b.readUInt32LE(12 * i + 4)) << shift;
    inh |= BigInt(b.readUInt32LE(12 * i + 8)) << shift;
  }
  [eff, prm, inh] = [eff & valid, prm & valid, inh & valid];
  const c = t.creds.caps;
  if (!capsetCheck(c, eff, prm, inh)) fail(Errno.EPERM);
  capsetApply(c, eff, prm, inh);
  return 0;
}, 'full');

const PR_GET_KEEPCAPS = 7, PR_SET_KEEPCAPS = 8, PR_CAPBSET_READ = 23, PR_CAPBSET_DROP = 24, PR_GET_SECUREBITS = 27,
  PR_SET_SECUREBITS = 28, PR_SET_NO_NEW_PRIVS = 38, PR_GET_NO_NEW_PRIVS = 39, PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_IS_SET = 1, PR_CAP_AMBIENT_RAISE = 2, PR_CAP_AMBIENT_LOWER = 3, PR_CAP_AMBIENT_CLEAR_ALL = 4;
const SECBIT_KEEP_CAPS_LOCKED = SECBIT_KEEP_CAPS << 1;

/** CAP_PRCTL_OPTIONS are the prctl options capPrctl answers. */
export const CAP_PRCTL_OPTIONS = new Set([PR_GET_KEEPCAPS, PR_SET_KEEPCAPS, PR_CAPBSET_READ, PR_CAPBSET_DROP,
  PR_GET_SECUREBITS, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS, PR_CAP_AMBIENT]);

/** capPrctl implements prctl's capability, securebits and no_new_privs options. */
export function capPrctl(t: Task, r: Registers): number {
  const c = t.creds;
  const caps = c.caps;
  const [a2, a3, a4, a5] = [r.arg(1), r.arg(2), r.arg(3), r.arg(4)];
  const capArg = (v: bigint): number => (v <= BigInt(CAP_LAST_CAP) ? Number(v) : -1);
  switch (r.argInt(0)) {
    case PR_GET_KEEPCAPS: return caps.securebits & SECBIT_KEEP_CAPS ? 1 : 0;
    case PR_SET_KEEPCAPS:
      if (a2 > 1n) fail(Errno.EINVAL);
      if (caps.securebits & SECBIT_KEEP_CAPS_LOCKED) fail(Errno.EPERM);
      caps.securebits = a2 ? caps.securebits | SECBIT_KEEP_CAPS : caps.securebits & ~SECBIT_KEEP_CAPS;
      return 0;
    case PR_CAPBSET_READ:
      if (!capValid(capArg(a2))) fail(Errno.EINVAL);
      return caps.bounding & capBit(capArg(a2)) ? 1 : 0;
    case PR_CAPBSET_DROP:
      if (!c.capableIn(CAP_SETPCAP)) fail(Errno.EPERM);
      if (!capValid(capArg(a2))) fail(Errno.EINVAL);
      caps.bounding &= ~capBit(capArg(a2));
      return 0;
    case PR_GET_SECUREBITS: return caps.securebits;
    case PR_SET_SECUREBITS:
      if (a2 > 0xffffffffn || !securebitsSettable(caps.securebits, Number(a2)) || !c.capableIn(CAP_SETPCAP)) fail(Errno.EPERM);
      caps.securebits = Number(a2);
      return 0;
    case PR_SET_NO_NEW_PRIVS:
      if (a2 !== 1n || a3 || a4 || a5) fail(Errno.EINVAL);
      c.noNewPrivs = true;
      return 0;
    case PR_GET_NO_NEW_PRIVS:
      if (a2 || a3 || a4 || a5) fail(Errno.EINVAL);
      return c.noNewPrivs ? 1 : 0;
    case PR_CAP_AMBIENT: {
      if (a2 === BigInt(PR_CAP_AMBIENT_CLEAR_ALL)) {
        if (a3 || a4 || a5) fail(Errno.EINVAL);
        caps.ambient = 0n;
        return 0;
      }
      const cap = capArg(a3);
      if (!capValid(cap) || a4 || a5) fail(Errno.EINVAL);
      if (a2 === BigInt(PR_CAP_AMBIENT_IS_SET)) return caps.ambient & capBit(cap) ? 1 : 0;
      if (a2 === BigInt(PR_CAP_AMBIENT_RAISE)) return ambientRaise(caps, cap) ? 0 : -Errno.EPERM;
      if (a2 === BigInt(PR_CAP_AMBIENT_LOWER)) { caps.ambient &= ~capBit(cap); return 0; }
      return -Errno.EINVAL;
    }
    default: return -Errno.EINVAL;
  }
}
