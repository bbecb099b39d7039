/**
 * libc is tvisor's koffi binding of the C library: the one place that loads it.
 *
 * Modules that need host calls declare them here or in their own binding file through
 * `libcFunc`, so that every raw call has one typed signature. Calls return -1 and set
 * errno as C does; `lastErrno()` reads it right after the call, on the same thread.
 *
 * SAFETY: koffi checks each JavaScript argument against the declared C type before the
 * call; pointer arguments are Buffers whose length the caller checks against the
 * length it passes. No binding here keeps a pointer past the call.
 */
import koffi, { type LibraryHandle } from 'koffi';

type KoffiFunction = ReturnType<LibraryHandle['func']>;

let lib: LibraryHandle | undefined;

/** LibC returns the loaded C library, loading it on first use (never at import time). */
export function libC(): LibraryHandle {
  if (!lib) lib = koffi.load('libc.so.6');
  return lib;
}

export type { KoffiFunction };

const funcs = new Map<string, KoffiFunction>();

/** libcFunc returns the C function declared by `signature`, declared once and cached. */
export function libcFunc(signature: string): KoffiFunction {
  let f = funcs.get(signature);
  if (!f) {
    f = libC().func(signature);
    funcs.set(signature, f);
  }
  return f;
}

/** lastErrno returns the C errno of the calling thread, as left by the last failed call. */
export function lastErrno(): number {
  return koffi.errno();
}

/** HostError is a failed host call: the call's name and the errno it set. */
export class HostError extends Error {
  constructor(readonly call: string, readonly errno: number) {
    super(`${call}: ${errnoName(errno)} (${errno})`);
    this.name = 'HostError';
  }
}

/** check returns `ret` when the call succeeded (ret >= 0) and throws HostError otherwise. */
export function check(call: string, ret: number | bigint): number {
  const n = Number(ret);
  if (n < 0) throw new HostError(call, lastErrno());
  return n;
}

/** Errno holds the x86-64 Linux errno values that tvisor names. */
export const Errno = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9,
  ECHILD: 10, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15, EBUSY: 16, EEXIST: 17,
  EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25,
  ETXTBSY: 26, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33,
  ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36, ENOLCK: 37, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40,
  ENOMSG: 42, ENODATA: 61, EPROTO: 71, EBADMSG: 74, EOVERFLOW: 75, EBADFD: 77, EILSEQ: 84, ENOTSOCK: 88, EMSGSIZE: 90,
  EPROTONOSUPPORT: 93, EOPNOTSUPP: 95, EAFNOSUPPORT: 97, EADDRINUSE: 98, ECONNRESET: 104,
  ENOBUFS: 105, EISCONN: 106, ENOTCONN: 107, ETIMEDOUT: 110, ECONNREFUSED: 111, EALREADY: 114,
  EINPROGRESS: 115, ESTALE: 116, EDQUOT: 122, ECANCELED: 125,
} as const;

const errnoNames = new Map<number, string>(Object.entries(Errno).map(([k, v]) => [v, k]));

/** errnoName returns the symbolic name of an errno value, or `errno N` for unnamed ones. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}
