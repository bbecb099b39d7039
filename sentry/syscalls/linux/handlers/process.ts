/**
 * Processes and threads: clone, fork, vfork, clone3, exit, exit_group, wait4, waitid,
 * kill, tkill, tgkill, futex, and the ids (pid, tid, uid/gid, process groups, sessions).
 */
import { Errno, fail } from '../../../kernel/errors';
import { cloneTask, CLONE_VFORK, CLONE_VM, type CloneArgs } from '../../../kernel/task-clone';
import { exitGroup, exitTask } from '../../../kernel/task-exit';
import { sendToGroup, sendToTask } from '../../../kernel/signals';
import { NSIG, SIGCHLD, SI_TKILL, SI_USER, CLD_CONTINUED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, CLD_DUMPED } from '../../../kernel/signal-types';
import type { Task } from '../../../kernel/task';
import { Block } from '../../../kernel/waiter';
import { waitChild, WEXITED, type WaitSelector } from '../../../kernel/wait';
import { Futexes } from '../../../kernel/futex';
import { define } from '../registry';
import { u32 } from './util';

function clone(t: Task, a: CloneArgs): number | Block {
  // A vfork parent sleeps until its child execs or exits; the child's tid is kept across the sleep.
  const st = t.syscallState as { child: Task } | undefined;
  if (st) {
    if (st.child.vforkDone && st.child.state !== 'exited') return new Block([st.child.vforkDone]);
    return st.child.tid;
  }
  const child = cloneTask(t, a);
  if (a.flags & CLONE_VFORK && child.vforkDone) {
    t.syscallState = { child };
    return new Block([child.vforkDone]);
  }
  return child.tid;
}

// clone(flags, stack, parent_tid, child_tid, tls) — x86-64 argument order.
define(56, (t, r) => {
  const flags = Number(r.arg(0) & 0xffffffffn);
  return clone(t, { flags: flags & ~0xff, exitSignal: flags & 0xff, stack: r.arg(1), parentTid: r.arg(2), childTid: r.arg(3), tls: r.arg(4) });
}, 'partial', 'no namespaces');
define(57, (t) => clone(t, { flags: 0, exitSignal: SIGCHLD, stack: 0n, parentTid: 0n, childTid: 0n, tls: 0n }));
define(58, (t) => clone(t, { flags: CLONE_VM | CLONE_VFORK, exitSignal: SIGCHLD, stack: 0n, parentTid: 0n, childTid: 0n, tls: 0n }));
// clone3(struct clone_args *, size)
define(435, (t, r) => {
  const size = Number(r.arg(1));
  if (size < 64 || size > 4096) fail(Errno.EINVAL);
  const b = t.mm.read(r.arg(0), 88 <= size ? 88 : 64);
  const flags = b.readBigUInt64LE(0);
  if (flags > 0xffffffffn) fail(Errno.EINVAL);
  const stack = b.readBigUInt64LE(40), stackSize = b.readBigUInt64LE(48);
  return clone(t, {
    flags: Number(flags), exitSignal: Number(b.readBigUInt64LE(32) & 0xffn), stack: stack === 0n ? 0n : stack + stackSize,
    parentTid: b.readBigUInt64LE(24), childTid: b.readBigUInt64LE(16), tls: b.readBigUInt64LE(56),
  });
}, 'partial', 'no pidfd, set_tid or cgroup');

define(60, (t, r) => { exitTask(t, { code: r.argInt(0) & 0xff }); return null; });
define(231, (t, r) => { exitGroup(t, { code: r.argInt(0) & 0xff }); return null; });

function selector(t: Task, pid: number): WaitSelector {
  if (pid === -1) return { kind: 'any' };
  if (pid > 0) return { kind: 'pid', pid };
  if (pid === 0) return { kind: 'pgid', pgid: t.tg.pgid };
  return { kind: 'pgid', pgid: -pid };
}

// wait4(pid, wstatus, options, rusage)
define(61, (t, r) => {
  const options = r.argInt(2);
  if (options & ~(1 | 2 | 8 | 0x20000000 | 0x40000000 | 0x80000000)) fail(Errno.EINVAL);
  const res = waitChild(t, selector(t, r.argInt(0)), options | WEXITED);
  if (res instanceof Block) return res;
  if (res === null) return 0;
  if (r.arg(1) !== 0n) {
    const b = Buffer.alloc(4);
    b.writeInt32LE(res.status);
    t.mm.write(r.arg(1), b);
  }
  if (r.arg(3) !== 0n) t.mm.write(r.arg(3), Buffer.alloc(144));
  return res.pid;
});

// waitid(idtype, id, infop, options, rusage)
define(247, (t, r) => {
  const idtype = r.argInt(0), id = r.argInt(1), options = r.argInt(3);
  if (options & ~(1 | 2 | 4 | 8 | 0x01000000 | 0x20000000 | 0x40000000 | 0x80000000) || !(options & (2 | 4 | 8))) fail(Errno.EINVAL);
  const sel: WaitSelector = idtype === 0 ? { kind: 'any' } : idtype === 1 ? { kind: 'pid', pid: id } : idtype === 2 ? { kind: 'pgid', pgid: id || t.tg.pgid } : fail(Errno.EINVAL);
  const res = waitChild(t, sel, options);
  if (res instanceof Block) return res;
  const info = Buffer.alloc(128);
  if (res) {
    info.writeInt32LE(SIGCHLD, 0);
    let code: number, status: number;
    if (res.what === 'stopped') { code = CLD_STOPPED; status = (res.status >> 8) & 0xff; }
    else if (res.what === 'continued') { code = CLD_CONTINUED; status = 18; }
    else if ((res.status & 0x7f) === 0) { code = CLD_EXITED; status = (res.status >> 8) & 0xff; }
    else { code = res.status & 0x80 ? CLD_DUMPED : CLD_KILLED; status = res.status & 0x7f; }
    info.writeInt32LE(code, 8);
    info.writeInt32LE(res.pid, 16);
    info.writeInt32LE(res.uid, 20);
    info.writeInt32LE(status, 24);
  }
  if (r.arg(2) !== 0n) t.mm.write(r.arg(2), info);
  return 0;
});

function checkSignal(sig: number): void {
  if (sig < 0 || sig > NSIG) fail(Errno.EINVAL);
}

// kill(pid, sig): pid > 0 one process, 0 own group, -1 everyone but init, < -1 a group.
define(62, (t, r) => {
  const pid = r.argInt(0), sig = r.argInt(1);
  checkSignal(sig);
  const k = t.kernel;
  const info = { signo: sig, code: SI_USER, pid: t.pid, uid: t.creds.uid };
  let targets = [...k.groups.values()].filter((g) => g.alive);
  if (pid > 0) targets = targets.filter((g) => g.tgid === pid);
  else if (pid === 0) targets = targets.filter((g) => g.pgid === t.tg.pgid);
  else if (pid === -1) targets = targets.filter((g) => g.tgid !== 1 && g !== t.tg);
  else targets = targets.filter((g) => g.pgid === -pid);
  if (targets.length === 0) fail(Errno.ESRCH);
  if (sig !== 0) for (const g of targets) sendToGroup(g, info);
  return 0;
});

function tkill(t: Task, tgid: number, tid: number, sig: number): number {
  checkSignal(sig);
  const target = t.kernel.tasks.get(tid);
  if (!target || tid <= 0 || (tgid > 0 && target.tg.tgid !== tgid)) fail(Errno.ESRCH);
  if (sig !== 0) sendToTask(target, { signo: sig, code: SI_TKILL, pid: t.pid, uid: t.creds.uid });
  return 0;
}
define(200, (t, r) => tkill(t, -1, r.argInt(0), r.argInt(1)));
define(234, (t, r) => {
  if (r.argInt(0) <= 0) fail(Errno.EINVAL);
  return tkill(t, r.argInt(0), r.argInt(1), r.argInt(2));
});

// futex(uaddr, op, val, timeout/val2, uaddr2, val3)
const futexes = new Futexes();
const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10, FUTEX_CLOCK_REALTIME = 256, FUTEX_PRIVATE = 128;
define(202, (t, r) => {
  if (!t.kernel.futexWake) t.kernel.futexWake = (task, addr, n) => futexes.wake(task, addr, n);
  const op = r.argInt(1) & ~(FUTEX_PRIVATE | FUTEX_CLOCK_REALTIME);
  const addr = r.arg(0);
  switch (op) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      let deadline: number | undefined;
      if (r.arg(3) !== 0n && t.syscallState === undefined) {
        const b = t.mm.read(r.arg(3), 16);
        const ms = Number(b.readBigInt64LE(0)) * 1000 + Number(b.readBigInt64LE(8)) / 1e6;
        deadline = op === FUTEX_WAIT ? Date.now() + ms : (r.argInt(1) & FUTEX_CLOCK_REALTIME ? ms : Date.now() + ms - process.uptime() * 1000);
        (t as unknown as { futexDeadline?: number }).futexDeadline = deadline;
      } else if (t.syscallState !== undefined) {
        deadline = (t as unknown as { futexDeadline?: number }).futexDeadline;
      }
      return futexes.wait(t, addr, u32(r, 2), deadline);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
      return futexes.wake(t, addr, Math.max(0, r.argInt(2)));
    default:
      return -Errno.ENOSYS;
  }
}, 'partial', 'WAIT and WAKE (and bitset forms) only');

// Identity.
define(39, (t) => t.pid);
define(186, (t) => t.tid);
define(110, (t) => t.tg.parent?.tgid ?? 0);
define(102, (t) => t.creds.uid);
define(107, (t) => t.creds.euid);
define(104, (t) => t.creds.gid);
define(108, (t) => t.creds.egid);
define(115, (t, r) => {
  const n = r.argInt(0);
  const g = t.creds.groups;
  if (n === 0) return g.length;
  if (n < g.length) fail(Errno.EINVAL);
  const b = Buffer.alloc(4 * g.length);
  g.forEach((x, i) => b.writeUInt32LE(x, 4 * i));
  t.mm.write(r.arg(1), b);
  return g.length;
});
define(116, (t, r) => {
  if (!t.creds.privileged) fail(Errno.EPERM);
  const n = r.argInt(0);
  if (n < 0 || n > 65536) fail(Errno.EINVAL);
  const b = t.mm.read(r.arg(1), 4 * n);
  t.creds.groups = Array.from({ length: n }, (_, i) => b.readUInt32LE(4 * i));
  return 0;
});

function setIds(t: Task, kind: 'uid' | 'gid', real: number, eff: number, saved: number): number {
  const c = t.creds;
  const cur = kind === 'uid' ? [c.uid, c.euid, c.suid] : [c.gid, c.egid, c.sgid];
  const ok = (v: number) => v === -1 || c.privileged || cur.includes(v >>> 0);
  if (!ok(real) || !ok(eff) || !ok(saved)) fail(Errno.EPERM);
  const [r0, e0, s0] = [real, eff, saved].map((v, i) => (v === -1 ? cur[i] : v >>> 0));
  if (kind === 'uid') {
    [c.uid, c.euid, c.suid] = [r0, e0, s0];
    if (c.privileged && c.uid !== 0 && c.euid !== 0 && c.suid !== 0) c.privileged = false;
  } else {
    [c.gid, c.egid, c.sgid] = [r0, e0, s0];
  }
  return 0;
}
define(105, (t, r) => (t.creds.privileged ? setIds(t, 'uid', r.argInt(0), r.argInt(0), r.argInt(0)) : setIds(t, 'uid', -1, r.argInt(0), -1)));
define(106, (t, r) => (t.creds.privileged ? setIds(t, 'gid', r.argInt(0), r.argInt(0), r.argInt(0)) : setIds(t, 'gid', -1, r.argInt(0), -1)));
define(113, (t, r) => setIds(t, 'uid', r.argInt(0), r.argInt(1), -1));
define(114, (t, r) => setIds(t, 'gid', r.argInt(0), r.argInt(1), -1));
define(117, (t, r) => setIds(t, 'uid', r.argInt(0), r.argInt(1), r.argInt(2)));
define(119, (t, r) => setIds(t, 'gid', r.argInt(0), r.argInt(1), r.argInt(2)));
function getRes(t: Task, vals: number[], addrs: bigint[]): number {
  vals.forEach((v, i) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); t.mm.write(addrs[i], b); });
  return 0;
}
define(118, (t, r) => getRes(t, [t.creds.uid, t.creds.euid, t.creds.suid], [r.arg(0), r.arg(1), r.arg(2)]));
define(120, (t, r) => getRes(t, [t.creds.gid, t.creds.egid, t.creds.sgid], [r.arg(0), r.arg(1), r.arg(2)]));
define(122, (t) => t.creds.euid, 'partial');
define(123, (t) => t.creds.egid, 'partial');

// Process groups and sessions.
define(121, (t, r) => {
  const pid = r.argInt(0);
  const g = pid === 0 ? t.tg : t.kernel.groups.get(pid);
  if (!g) fail(Errno.ESRCH);
  return g.pgid;
});
define(111, (t) => t.tg.pgid);
define(109, (t, r) => {
  const pid = r.argInt(0) || t.pid;
  const pgid = r.argInt(1) || pid;
  if (pgid < 0) fail(Errno.EINVAL);
  const g = t.kernel.groups.get(pid);
  if (!g || (g !== t.tg && g.parent !== t.tg)) fail(Errno.ESRCH);
  if (g.sid === g.tgid) fail(Errno.EPERM);
  g.pgid = pgid;
  return 0;
});
define(112, (t) => {
  const g = t.tg;
  if ([...t.kernel.groups.values()].some((o) => o.pgid === g.tgid && o !== g)) fail(Errno.EPERM);
  if (g.pgid === g.tgid && g.sid !== g.tgid && [...t.kernel.groups.values()].some((o) => o !== g && o.pgid === g.tgid)) fail(Errno.EPERM);
  g.sid = g.tgid;
  g.pgid = g.tgid;
  return g.sid;
});
define(124, (t, r) => {
  const pid = r.argInt(0);
  const g = pid === 0 ? t.tg : t.kernel.groups.get(pid);
  if (!g) fail(Errno.ESRCH);
  return g.sid;
});

// capget/capset: root in the container holds the full set, others none.
define(125, (t, r) => {
  const hdr = t.mm.read(r.arg(0), 8);
  const version = hdr.readUInt32LE(0);
  if (version !== 0x20080522 && version !== 0x20071026 && version !== 0x19980330) {
    hdr.writeUInt32LE(0x20080522, 0);
    t.mm.write(r.arg(0), hdr);
    fail(Errno.EINVAL);
  }
  if (r.arg(1) !== 0n) {
    const full = t.creds.privileged ? 0xffffffff : 0;
    const b = Buffer.alloc(24);
    for (let i = 0; i < 2; i++) {
      b.writeUInt32LE(full >>> 0, i * 12);
      b.writeUInt32LE(full >>> 0, i * 12 + 4);
      b.writeUInt32LE(full >>> 0, i * 12 + 8);
    }
    t.mm.write(r.arg(1), version === 0x19980330 ? b.subarray(0, 12) : b);
  }
  return 0;
}, 'partial', 'all or nothing');
define(126, () => 0, 'partial', 'accepted, not applied');
