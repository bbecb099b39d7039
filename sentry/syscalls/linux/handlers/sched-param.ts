/**
 * sched_getparam, sched_setparam and sched_getattr (what chrt(1) and Python's
 * os.sched_getparam call): the policy state of kernel/sched-policy.ts read and changed
 * with the checks sched_setscheduler makes (handlers/sched.ts). sched_getattr reports no
 * SCHED_DEADLINE parameters (that policy cannot be set) and the utilization clamps at
 * their defaults (0 and 1024).
 */
import { Errno, fail } from '../../../kernel/errors';
import { isRealtime } from '../../../kernel/sched-policy';
import { define } from '../registry';
import { setSched, target } from './sched';

// sched_getparam(pid, struct sched_param *param): the static priority (0 outside FIFO/RR).
define(143, (t, r) => {
  const pid = r.argInt(0);
  if (r.arg(1) === 0n || pid < 0) fail(Errno.EINVAL);
  const p = target(t, pid);
  const b = Buffer.alloc(4);
  b.writeInt32LE(isRealtime(p.sched.policy) ? p.sched.priority : 0, 0);
  t.mm.write(r.arg(1), b);
  return 0;
}, 'full');

// sched_setparam(pid, const struct sched_param *param): a new priority under p's policy.
define(142, (t, r) => {
  const pid = r.argInt(0);
  if (r.arg(1) === 0n || pid < 0) fail(Errno.EINVAL);
  const priority = t.mm.read(r.arg(1), 4).readInt32LE(0);
  const p = target(t, pid);
  setSched(t, p, p.sched.policy, priority, p.sched.resetOnFork);
  return 0;
}, 'full');

/** SCHED_ATTR_SIZE_VER0 and the size this kernel fills (VER1, with the clamps). */
const SCHED_ATTR_SIZE_VER0 = 48, SCHED_ATTR_SIZE = 56;
const SCHED_FLAG_RESET_ON_FORK = 1, SCHED_CAPACITY_SCALE = 1024;

// sched_getattr(pid, struct sched_attr *attr, unsigned size, unsigned flags): as much of
// the structure as `size` holds, its size field saying how much that is.
define(315, (t, r) => {
  const pid = r.argInt(0), size = Number(r.arg(2) & 0xffffffffn), flags = Number(r.arg(3) & 0xffffffffn);
  if (r.arg(1) === 0n || pid < 0 || size > 4096 || size < SCHED_ATTR_SIZE_VER0 || flags !== 0) fail(Errno.EINVAL);
  const p = target(t, pid);
  const b = Buffer.alloc(SCHED_ATTR_SIZE);
  const n = Math.min(size, SCHED_ATTR_SIZE);
  b.writeUInt32LE(n, 0);
  b.writeUInt32LE(p.sched.policy, 4);
  b.writeBigUInt64LE(p.sched.resetOnFork ? BigInt(SCHED_FLAG_RESET_ON_FORK) : 0n, 8);
  b.writeInt32LE(isRealtime(p.sched.policy) ? 0 : p.nice, 16);
  b.writeUInt32LE(isRealtime(p.sched.policy) ? p.sched.priority : 0, 20);
  b.writeUInt32LE(0, 48); // sched_util_min
  b.writeUInt32LE(SCHED_CAPACITY_SCALE, 52); // sched_util_max
  t.mm.write(r.arg(1), b.subarray(0, n));
  return 0;
}, 'partial', 'no SCHED_DEADLINE parameters (the policy cannot be set); the utilization clamps read 0 and 1024');
