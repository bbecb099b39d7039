/**
 * Wire primitives of 9P: little-endian integers, length-prefixed strings, qids.
 *
 * Reader never throws on malformed input: reading past the end records an overflow
 * (`ok` turns false) and returns zero values, so a decoder runs to completion and the
 * caller rejects the message once, by name. The server's peer is untrusted.
 */

/** Qid is the server's unique identity of a file: type bits, version, path. */
export interface Qid {
  type: number;
  version: number;
  path: bigint;
}

/** QID_SIZE is the encoded size of a qid: type[1] version[4] path[8]. */
export const QID_SIZE = 13;

/** Reader is a bounds-checked cursor over a received message body. */
export class Reader {
  pos: number;
  /** ok stays true while every read was in bounds and every value in range. */
  ok = true;
  /** problem names the first thing that went wrong, for the error message. */
  problem = '';

  constructor(readonly buf: Buffer, start = 0, readonly end = buf.length) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private take(n: number, what: string): number {
    if (!this.ok) return -1;
    if (n > this.end - this.pos) {
      this.fail(`${what}: truncated`);
      return -1;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** fail records the first problem and stops further reads. */
  fail(problem: string): void {
    if (this.ok) {
      this.ok = false;
      this.problem = problem;
    }
  }

  u8(what = 'u8'): number {
    const at = this.take(1, what);
    return at < 0 ? 0 : this.buf[at];
  }

  u16(what = 'u16'): number {
    const at = this.take(2, what);
    return at < 0 ? 0 : this.buf.readUInt16LE(at);
  }

  u32(what = 'u32'): number {
    const at = this.take(4, what);
    return at < 0 ? 0 : this.buf.readUInt32LE(at);
  }

  /** u64 reads a 64-bit value that must fit a JavaScript number exactly (sizes, offsets, times). */
  u64(what = 'u64'): number {
    const at = this.take(8, what);
    if (at < 0) return 0;
    const lo = this.buf.readUInt32LE(at);
    const hi = this.buf.readUInt32LE(at + 4);
    if (hi > 0x1fffff) {
      this.fail(`${what}: value out of range`);
      return 0;
    }
    return hi * 0x100000000 + lo;
  }

  /** u64Mask reads a 64-bit bit mask, keeping its low 53 bits (9P defines fewer). */
  u64Mask(what = 'mask'): number {
    const at = this.take(8, what);
    if (at < 0) return 0;
    return (this.buf.readUInt32LE(at + 4) & 0x1fffff) * 0x100000000 + this.buf.readUInt32LE(at);
  }

  /** u64Big reads a full 64-bit value (qid paths, directory cookies, versions). */
  u64Big(what = 'u64'): bigint {
    const at = this.take(8, what);
    return at < 0 ? 0n : this.buf.readBigUInt64LE(at);
  }

  /** str reads a string: len[2] then that many bytes of UTF-8. */
  str(what = 'string'): string {
    const n = this.u16(what);
    const at = this.take(n, what);
    return at < 0 ? '' : this.buf.toString('utf8', at, at + n);
  }

  /** bytes reads count[4] then that many bytes, as a view (no copy). */
  data(what = 'data'): Buffer {
    const n = this.u32(what);
    const at = this.take(n, what);
    return at < 0 ? Buffer.alloc(0) : this.buf.subarray(at, at + n);
  }

  qid(what = 'qid'): Qid {
    const type = this.u8(what);
    const version = this.u32(what);
    const path = this.u64Big(what);
    return { type, version, path };
  }
}

/** Writer builds one message into a growable buffer. */
export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** reserve makes room for n more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v & 0xff;
  }

  u16(v: number): void {
    this.reserve(2);
    this.buf.writeUInt16LE(v & 0xffff, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** u64 writes a non-negative JavaScript number as 64 bits. */
  u64(v: number): void {
    this.reserve(8);
    this.buf.writeUInt32LE(v % 0x100000000 >>> 0, this.pos);
    this.buf.writeUInt32LE(Math.floor(v / 0x100000000) >>> 0, this.pos + 4);
    this.pos += 8;
  }

  u64Big(v: bigint): void {
    this.reserve(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, v), this.pos);
    this.pos += 8;
  }

  str(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    if (n > 0xffff) throw new RangeError(`9p string of ${n} bytes is longer than 65535`);
    this.reserve(2 + n);
    this.buf.writeUInt16LE(n, this.pos);
    this.buf.write(s, this.pos + 2, n, 'utf8');
    this.pos += 2 + n;
  }

  data(b: Uint8Array): void {
    this.reserve(4 + b.length);
    this.buf.writeUInt32LE(b.length, this.pos);
    this.buf.set(b, this.pos + 4);
    this.pos += 4 + b.length;
  }

  qid(q: Qid): void {
    this.u8(q.type);
    this.u32(q.version);
    this.u64Big(q.path);
  }

  /** bytes returns a view of what was written. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
