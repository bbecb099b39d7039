/**
 * budget bounds the sentry heap that IPC objects hold for the whole sandbox: queued
 * System V and POSIX messages and semaphore arrays live in the sentry's V8 heap, and
 * Linux's per-namespace limits (32000 queues of 16 KiB, 32000 sets of 32000 semaphores)
 * would let an application exhaust it and kill the sandbox. Past the budget an
 * allocation fails with ENOMEM, as Linux's does when kmalloc fails. boot sets the limit
 * from the container's memory (limits.ts's ipcBytes).
 */
import { Errno, fail } from '../errors';

/** OBJECT_BYTES is what one IPC object (a queue, a set, a message's record) is counted beside its data. */
export const OBJECT_BYTES = 256;

/** ipcBudget is the sandbox's IPC heap budget: the limit (bytes) and what is charged. */
export const ipcBudget = { limit: 32 * 2 ** 20, used: 0 };

/** chargeIpc counts n bytes against the budget, failing with ENOMEM past it. */
export function chargeIpc(n: number): void {
  if (ipcBudget.used + n > ipcBudget.limit) fail(Errno.ENOMEM);
  ipcBudget.used += n;
}

/** unchargeIpc gives n bytes back. */
export function unchargeIpc(n: number): void {
  ipcBudget.used = Math.max(0, ipcBudget.used - n);
}
