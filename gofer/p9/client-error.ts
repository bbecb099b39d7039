/**
 * Errors of the 9P client. Every failed operation is a P9Error that names the operation
 * and its operands and carries the Linux errno: the server's Rlerror code, or one the
 * client chose for a local failure (EPROTO for a malformed or unexpected reply,
 * ECONNRESET when the connection ended, ECANCELED for a flushed request).
 */
import { Errno, errnoName } from '../../native/libc';
import type { Qid } from './wire';

/** P9Error is a failed 9P operation: `walk etc/passwd: ENOENT`. */
export class P9Error extends Error {
  /** code is the errno's symbolic name, e.g. 'ENOENT'. */
  readonly code: string;

  constructor(readonly op: string, readonly errno: number, detail?: string, options?: { cause?: unknown }) {
    super(`${op}: ${errnoName(errno)}${detail ? ` (${detail})` : ''}`, options);
    this.name = 'P9Error';
    this.code = errnoName(errno);
  }
}

/**
 * WalkError is a walk that stopped early: the server walked `qids.length` of the names
 * (none when it answered Rlerror) and the new fid was not created.
 */
export class WalkError extends P9Error {
  constructor(op: string, errno: number, readonly qids: Qid[]) {
    super(op, errno, qids.length > 0 ? `${qids.length} names walked` : undefined);
    this.name = 'WalkError';
  }
}

/** protocolError is a reply that does not fit its request. */
export function protocolError(op: string, detail: string): P9Error {
  return new P9Error(op, Errno.EPROTO, detail);
}

/** closedError is the failure of a request whose connection ended before its reply. */
export function closedError(op: string, why: string): P9Error {
  return new P9Error(op, Errno.ECONNRESET, why);
}
