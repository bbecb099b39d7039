/**
 * ByteQueue is a FIFO of bytes kept as the buffers written (each copied once on the way
 * in), read from the front: a pipe's buffer, a pty's output to its master.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private bytes = 0;

  /** length is the number of bytes queued. */
  get length(): number {
    return this.bytes;
  }

  /** push appends a copy of `data`. */
  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(Buffer.from(data));
    this.bytes += data.length;
  }

  /** take moves up to dst.length bytes from the front into dst; it returns how many. */
  take(dst: Buffer): number {
    let n = 0;
    while (n < dst.length && this.chunks.length > 0) {
      const c = this.chunks[0];
      const k = Math.min(c.length, dst.length - n);
      c.copy(dst, n, 0, k);
      n += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.bytes -= n;
    return n;
  }

  /** peek copies up to dst.length bytes from the front into dst without taking them. */
  peek(dst: Buffer): number {
    let n = 0;
    for (const c of this.chunks) {
      if (n === dst.length) break;
      const k = Math.min(c.length, dst.length - n);
      c.copy(dst, n, 0, k);
      n += k;
    }
    return n;
  }

  /** clear drops every byte. */
  clear(): void {
    this.chunks = [];
    this.bytes = 0;
  }
}
