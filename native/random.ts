/**
 * random.ts: random bytes from the host kernel's getrandom(2), for the sentry (exec's
 * AT_RANDOM and address randomization, getrandom, /dev/random and /dev/urandom, boot ids).
 * Not node:crypto: loading it cost every sentry 2.5-5 ms of its start (a CPU profile of
 * its bundle's load), and OpenSSL's generator is itself seeded from this kernel pool.
 *
 * A leaf module; koffi and libc load at the first call, never at import.
 */
import { Errno, HostError, lastErrno, libcFunc } from './libc';

/** GRND_MAX is the most one getrandom(2) call returns (Linux caps a call at 32 MiB - 1). */
const GRND_MAX = (1 << 25) - 1;

/** randomFill fills b with random bytes from the kernel's pool and returns it. */
export function randomFill(b: Buffer): Buffer {
  const getrandom = libcFunc('long getrandom(void *buf, size_t len, unsigned int flags)');
  for (let done = 0; done < b.length; ) {
    const len = Math.min(b.length - done, GRND_MAX);
    // SAFETY: buf is b's memory from `done`, len never passes its end, and getrandom writes
    // at most len bytes there; flags 0 blocks only until the pool is initialized at boot.
    const n = Number(getrandom(b.subarray(done, done + len), len, 0));
    if (n < 0) {
      const errno = lastErrno();
      if (errno === Errno.EINTR) continue;
      throw new HostError('getrandom', errno);
    }
    done += n;
  }
  return b;
}

/** randomBytes returns n random bytes. */
export function randomBytes(n: number): Buffer {
  return randomFill(Buffer.allocUnsafe(n));
}

/** randomUUID returns a random (version 4, RFC 4122 variant) UUID in its text form. */
export function randomUUID(): string {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
