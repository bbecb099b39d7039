/**
 * fpframe converts between a task's XSAVE image (FpState.data, in the layout that
 * PTRACE_GETREGSET NT_X86_XSTATE exchanges) and the FP area of a signal frame.
 *
 * The two differ only in the 48 "software reserved" bytes at offset 464 of the legacy
 * area: ptrace keeps XCR0 (the enabled feature mask) in their first 8 bytes; a signal
 * frame holds struct _fpx_sw_bytes there (magic1 u32 @0, extended_size u32 @4,
 * xfeatures u64 @8, xstate_size u32 @16, padding), and FP_XSTATE_MAGIC2 (u32) follows
 * the area. Linux also sets XSTATE_BV's x87|SSE bits in the frame so the legacy area is
 * always restored.
 *
 * On rt_sigreturn the area is untrusted: decodeFpFrame checks the markers, the sizes, the
 * MXCSR reserved bits and the xsave header (XSTATE_BV within XCR0, XCOMP_BV zero,
 * reserved bytes zero: XRSTOR would fault on any of them) and returns null for anything
 * else, which the caller turns into the default FP state.
 */
import { FP_XSTATE_MAGIC1, FP_XSTATE_MAGIC2, FP_XSTATE_MAGIC2_SIZE, SW_RESERVED, XSAVE_HEADER, XSAVE_MIN_SIZE } from './layout';

const MXCSR = 24, MXCSR_MASK = 28;
const XFEATURE_MASK_FPSSE = 3n;

/** fpFrameSize is the bytes the FP area of a frame takes for an image of `imageLength` bytes. */
export function fpFrameSize(imageLength: number): number {
  return imageLength + FP_XSTATE_MAGIC2_SIZE;
}

function xcr0Of(image: Buffer): bigint {
  const v = image.readBigUInt64LE(SW_RESERVED);
  return v === 0n ? XFEATURE_MASK_FPSSE : v;
}

/** encodeFpFrame returns the signal-frame form of an XSAVE image (image length + 4 bytes). */
export function encodeFpFrame(image: Buffer): Buffer {
  if (image.length < XSAVE_MIN_SIZE) throw new RangeError(`fp state: image of ${image.length} bytes is smaller than ${XSAVE_MIN_SIZE}`);
  const out = Buffer.alloc(fpFrameSize(image.length));
  image.copy(out);
  const xcr0 = xcr0Of(image);
  out.fill(0, SW_RESERVED, SW_RESERVED + 48);
  out.writeUInt32LE(FP_XSTATE_MAGIC1, SW_RESERVED);
  out.writeUInt32LE(image.length + FP_XSTATE_MAGIC2_SIZE, SW_RESERVED + 4);
  out.writeBigUInt64LE(xcr0, SW_RESERVED + 8);
  out.writeUInt32LE(image.length, SW_RESERVED + 16);
  out.writeBigUInt64LE(out.readBigUInt64LE(XSAVE_HEADER) | XFEATURE_MASK_FPSSE, XSAVE_HEADER);
  out.writeUInt32LE(FP_XSTATE_MAGIC2, image.length);
  return out;
}

/**
 * decodeFpFrame validates a frame's FP area against `current` (the task's image, for the
 * size, XCR0 and MXCSR mask) and returns the image to load, or null when it is corrupt.
 */
export function decodeFpFrame(area: Buffer, current: Buffer): Buffer | null {
  const len = current.length;
  if (area.length < fpFrameSize(len)) return null;
  if (area.readUInt32LE(SW_RESERVED) !== FP_XSTATE_MAGIC1) return null;
  if (area.readUInt32LE(SW_RESERVED + 16) !== len) return null;
  if (area.readUInt32LE(SW_RESERVED + 4) !== len + FP_XSTATE_MAGIC2_SIZE) return null;
  if (area.readUInt32LE(len) !== FP_XSTATE_MAGIC2) return null;
  const mask = current.readUInt32LE(MXCSR_MASK) || 0xffbf;
  if ((area.readUInt32LE(MXCSR) & ~mask) !== 0) return null;
  const xstateBv = area.readBigUInt64LE(XSAVE_HEADER);
  if ((xstateBv & ~xcr0Of(current)) !== 0n) return null;
  if (area.readBigUInt64LE(XSAVE_HEADER + 8) !== 0n) return null;
  if (!area.subarray(XSAVE_HEADER + 16, XSAVE_MIN_SIZE).every((b) => b === 0)) return null;
  const image = Buffer.from(area.subarray(0, len));
  current.copy(image, SW_RESERVED, SW_RESERVED, SW_RESERVED + 48);
  return image;
}
