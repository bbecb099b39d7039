/**
 * caps.ts: the calling thread's capability sets through the raw capget(2)/capset(2)
 * syscalls, which act on this thread only (glibc's wrappers are the same calls, but the
 * id changes around them are broadcast to every thread; callers here change one thread).
 * Used by the gofer's per-request credentials (gofer/hostfs/creds.ts) and by the
 * sandbox's confinement (native/confine/credentials.ts).
 *
 * Wire layout (linux/capability.h, version 3): a header { u32 version; int pid } and two
 * { u32 effective, permitted, inheritable } structs, the low 32 capabilities first.
 */
import { lastErrno, libcFunc } from './libc';

const SYS_capget = 125, SYS_capset = 126;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/** CapSets are a thread's three 64-bit capability sets. */
export interface CapSets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

const call = () => libcFunc('long syscall(long nr, void *hdr, void *data)');
// Reused by every call: the gofer switches capabilities around each request.
const hdr = Buffer.alloc(8);
const data = Buffer.alloc(24);

function header(): void {
  hdr.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
  hdr.writeInt32LE(0, 4); // pid 0: the calling thread
}

/** threadCapget returns the calling thread's capability sets, or -errno. */
export function threadCapget(): CapSets | number {
  header();
  // SAFETY: both buffers are owned here, of the sizes version 3 takes, and the kernel
  // fills them during the call only.
  if (Number(call()(SYS_capget, hdr, data)) < 0) return -lastErrno();
  const set = (o: number) => BigInt(data.readUInt32LE(o)) | (BigInt(data.readUInt32LE(o + 12)) << 32n);
  return { effective: set(0), permitted: set(4), inheritable: set(8) };
}

/** threadCapset sets the calling thread's capability sets; 0 or -errno. */
export function threadCapset(c: CapSets): number {
  header();
  const put = (v: bigint, o: number) => {
    data.writeUInt32LE(Number(v & 0xffffffffn), o);
    data.writeUInt32LE(Number((v >> 32n) & 0xffffffffn), o + 12);
  };
  put(c.effective, 0);
  put(c.permitted, 4);
  put(c.inheritable, 8);
  // SAFETY: as in threadCapget; the kernel only reads the buffers.
  return Number(call()(SYS_capset, hdr, data)) < 0 ? -lastErrno() : 0;
}
