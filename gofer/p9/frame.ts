/**
 * FrameSplitter cuts a byte stream into 9P frames (size[4] counts itself).
 *
 * A size below the header's 7 bytes or above the negotiated msize is a protocol
 * violation: the splitter reports it and the connection is closed, because the stream
 * can no longer be resynchronised.
 */
import { HEADER_SIZE } from './messages';

/** FrameSplitter accumulates stream bytes and yields whole frames. */
export class FrameSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  /** borrowed is true while buf is the caller's chunk rather than our own copy. */
  private borrowed = false;

  /** maxSize is the largest frame accepted (the negotiated msize). */
  constructor(public maxSize: number) {}

  /**
   * push appends received bytes. When nothing is pending, the chunk is used in place (no
   * copy): call retain() before the chunk's memory is reused.
   */
  push(chunk: Buffer): void {
    const have = this.end - this.start;
    if (have === 0) {
      this.buf = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.borrowed = true;
      return;
    }
    if (this.borrowed || this.buf.length - this.end < chunk.length) {
      const next = Buffer.allocUnsafe(Math.max(have + chunk.length, 2 * have, 8192));
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
      this.start = 0;
      this.end = have;
      this.borrowed = false;
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }

  /**
   * next returns the next whole frame as a view [buf, start, end], null when more bytes
   * are needed, or throws RangeError when the size field is impossible.
   */
  next(): { buf: Buffer; start: number; end: number } | null {
    const have = this.end - this.start;
    if (have < 4) return null;
    const size = this.buf.readUInt32LE(this.start);
    if (size < HEADER_SIZE || size > this.maxSize) {
      throw new RangeError(`frame size ${size} outside ${HEADER_SIZE}..${this.maxSize}`);
    }
    if (have < size) return null;
    const frame = { buf: this.buf, start: this.start, end: this.start + size };
    this.start += size;
    return frame;
  }

  /**
   * retain copies the bytes not yet returned out of a borrowed chunk, so that the caller
   * may reuse that chunk's memory (a receive buffer) for the next read.
   */
  retain(): void {
    const have = this.end - this.start;
    if (!this.borrowed) return;
    if (have === 0) {
      this.buf = Buffer.alloc(0);
      this.start = this.end = 0;
    } else {
      const own = Buffer.allocUnsafe(Math.max(have * 2, 8192));
      this.buf.copy(own, 0, this.start, this.end);
      this.buf = own;
      this.start = 0;
      this.end = have;
    }
    this.borrowed = false;
  }

  /** pending is the number of buffered bytes not yet returned as frames. */
  get pending(): number {
    return this.end - this.start;
  }
}
