/**
 * poll, ppoll, select, pselect6: readiness of descriptors, sleeping on every file's
 * wait queue until one changes or the timeout passes.
 */
import { Errno, fail } from '../../../kernel/errors';
import type { Task } from '../../../kernel/task';
import { Block, type Interruption, type WaitQueue } from '../../../kernel/waiter';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM } from '../../../vfs/file';
import { UNBLOCKABLE } from '../../../kernel/signal-types';
import { define } from '../registry';

interface PollState {
  deadline: number | null;
  /** interrupted, when set, runs as a handler ends the wait with EINTR (signals.ts). */
  interrupted?: () => void;
}

export function deadlineFrom(t: Task, ms: number | null): number | null {
  const st = t.syscallState as PollState | undefined;
  if (st) return st.deadline;
  const deadline = ms === null ? null : Date.now() + ms;
  t.syscallState = { deadline } satisfies PollState;
  return deadline;
}

/**
 * waitOrTimeout returns the Block for the given queues and deadline, or 0 when it has
 * passed. poll, select and epoll_wait are never restarted after a handler, even with
 * SA_RESTART (signal(7), "Interruption of system calls"): they fail with EINTR; poll and
 * select are restarted after a stop without a handler, epoll_wait ('eintr') is not.
 */
export function waitOrTimeout(queues: WaitQueue[], deadline: number | null, interruption: Interruption = true): number | Block {
  if (deadline !== null && Date.now() >= deadline) return 0;
  return new Block(queues, deadline ?? undefined, interruption);
}

export function readTimespecMs(t: Task, addr: bigint): number | null {
  if (addr === 0n) return null;
  const b = t.mm.read(addr, 16);
  const sec = b.readBigInt64LE(0), nsec = b.readBigInt64LE(8);
  if (sec < 0n || nsec < 0n || nsec >= 1000000000n) fail(Errno.EINVAL);
  return Number(sec) * 1000 + Math.ceil(Number(nsec) / 1e6);
}

function doPoll(t: Task, fdsAddr: bigint, nfds: number, timeoutMs: number | null): number | Block {
  if (nfds < 0 || nfds > t.fds.limit) fail(Errno.EINVAL);
  const deadline = deadlineFrom(t, timeoutMs);
  const raw = nfds > 0 ? t.mm.read(fdsAddr, nfds * 8) : Buffer.alloc(0);
  const queues: WaitQueue[] = [];
  let ready = 0;
  for (let i = 0; i < nfds; i++) {
    const fd = raw.readInt32LE(i * 8);
    const events = raw.readInt16LE(i * 8 + 4);
    let rev = 0;
    if (fd >= 0) {
      if (!t.fds.has(fd)) rev = POLLNVAL;
      else {
        const f = t.fds.get(fd);
        rev = f.readiness() & (events | POLLERR | POLLHUP | POLLNVAL);
        const q = f.queue;
        if (q) queues.push(q);
      }
    }
    raw.writeInt16LE(rev, i * 8 + 6);
    if (rev) ready++;
  }
  if (ready === 0) {
    const w = waitOrTimeout(queues, deadline);
    if (w instanceof Block) return w;
  }
  if (nfds > 0) t.mm.write(fdsAddr, raw);
  return ready;
}

define(7, (t, r) => {
  const ms = r.argInt(2);
  return doPoll(t, r.arg(0), Number(r.arg(1) & 0xffffffffn), ms < 0 ? null : ms);
}, 'full');

/**
 * withSigmask runs body (ppoll, pselect6, epoll_pwait) under the caller's temporary mask.
 * The mask stays installed while the call sleeps and, when a handler interrupts it, until
 * the handler returns (the frame saves the original); it is installed again when the call
 * is restarted after a signal without a handler (a stop and SIGCONT) had put it back.
 */
export function withSigmask(t: Task, maskAddr: bigint, size: number, body: () => number | Block): number | Block {
  if (maskAddr !== 0n && t.savedSigmask === null) {
    if (size !== 8) fail(Errno.EINVAL);
    const mask = t.mm.read(maskAddr, 8).readBigUInt64LE(0);
    t.savedSigmask = t.sigmask;
    t.sigmask = mask & ~UNBLOCKABLE;
  }
  const r = body();
  if (!(r instanceof Block) && maskAddr !== 0n && t.savedSigmask !== null) {
    t.sigmask = t.savedSigmask;
    t.savedSigmask = null;
  }
  return r;
}

define(271, (t, r) => withSigmask(t, r.arg(3), Number(r.arg(4)), () =>
  doPoll(t, r.arg(0), Number(r.arg(1) & 0xffffffffn), readTimespecMs(t, r.arg(2)))), 'full');

function doSelect(t: Task, nfds: number, rAddr: bigint, wAddr: bigint, eAddr: bigint, timeoutMs: number | null): number | Block {
  if (nfds < 0 || nfds > t.fds.limit) fail(Errno.EINVAL);
  const deadline = deadlineFrom(t, timeoutMs);
  const bytes = Math.ceil(nfds / 64) * 8;
  const sets = [rAddr, wAddr, eAddr].map((a) => (a !== 0n && bytes > 0 ? t.mm.read(a, bytes) : null));
  const out = sets.map((s) => (s ? Buffer.alloc(s.length) : null));
  const queues: WaitQueue[] = [];
  let ready = 0;
  for (let fd = 0; fd < nfds; fd++) {
    const byte = fd >> 3, bit = 1 << (fd & 7);
    const want = sets.map((s) => (s ? (s[byte] & bit) !== 0 : false));
    if (!want.some(Boolean)) continue;
    if (!t.fds.has(fd)) fail(Errno.EBADF);
    const f = t.fds.get(fd);
    const ev = f.readiness();
    const q = f.queue;
    if (q) queues.push(q);
    const hits = [ev & (POLLIN | POLLRDNORM | POLLHUP | POLLERR), ev & (POLLOUT | POLLWRNORM | POLLERR), ev & POLLPRI];
    for (let k = 0; k < 3; k++) {
      if (want[k] && hits[k]) {
        out[k]![byte] |= bit;
        ready++;
      }
    }
  }
  if (ready === 0) {
    const w = waitOrTimeout(queues, deadline);
    if (w instanceof Block) return w;
  }
  [rAddr, wAddr, eAddr].forEach((a, k) => { if (out[k]) t.mm.write(a, out[k]!); });
  return ready;
}

/**
 * selectTimeLeft writes the time left before the deadline back to select's or pselect6's
 * timeout at `addr` (a timeval, or a timespec for pselect6) as Linux does when the call
 * ends: ready, timed out (zero) or interrupted by a handler. A timeout in memory the
 * application cannot write is left alone, as Linux leaves it (the call has succeeded).
 */
function selectTimeLeft(t: Task, addr: bigint, timespec: boolean, r: number | Block): number | Block {
  const st = t.syscallState as PollState | undefined;
  if (addr === 0n || !st || st.deadline === null) return r;
  const deadline = st.deadline;
  const write = () => {
    const left = Math.max(0, deadline - Date.now());
    const b = Buffer.alloc(16);
    b.writeBigInt64LE(BigInt(Math.floor(left / 1000)), 0);
    b.writeBigInt64LE(BigInt((left % 1000) * (timespec ? 1e6 : 1e3)), 8);
    try {
      t.mm.write(addr, b);
    } catch {
      // Linux ignores a fault here.
    }
  };
  if (r instanceof Block) st.interrupted = write;
  else write();
  return r;
}

define(23, (t, r) => {
  let ms: number | null = null;
  if (r.arg(4) !== 0n) {
    const b = t.mm.read(r.arg(4), 16);
    const sec = b.readBigInt64LE(0), usec = b.readBigInt64LE(8);
    if (sec < 0n || usec < 0n) fail(Errno.EINVAL);
    ms = Number(sec) * 1000 + Math.ceil(Number(usec) / 1000);
  }
  return selectTimeLeft(t, r.arg(4), false, doSelect(t, r.argInt(0), r.arg(1), r.arg(2), r.arg(3), ms));
}, 'full');

define(270, (t, r) => {
  let maskAddr = 0n, size = 0;
  if (r.arg(5) !== 0n) {
    const b = t.mm.read(r.arg(5), 16);
    maskAddr = b.readBigUInt64LE(0);
    size = Number(b.readBigUInt64LE(8));
  }
  return withSigmask(t, maskAddr, size, () => selectTimeLeft(t, r.arg(4), true, doSelect(t, r.argInt(0), r.arg(1), r.arg(2), r.arg(3), readTimespecMs(t, r.arg(4)))));
}, 'full');

