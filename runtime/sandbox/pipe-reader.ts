/**
 * pipe-reader.ts reads the read end of a pipe (in blocking mode) through fs.read on
 * libuv's thread pool, for the sandbox's ready pipe (sentry-sandbox.ts). A net.Socket on
 * the descriptor did the same through node:net, which with the streams under it is loaded
 * and compiled function by function at every create and run: several ms of the CLI's CPU.
 *
 * Unlike a socket it cannot be unreferenced: while a read is under way (until the writers
 * are gone, or `close` after a chunk), it keeps the event loop, and so the process, alive.
 * Reads are one at a time; `onData` and `onEnd` run on the event loop.
 */
// node:fs's functions by name: a namespace import costs esbuild's __toESM a copy of all of
// node:fs's exports, and enough of those make V8 optimize __copyProps in every CLI start.
import { closeSync, read } from 'node:fs';

/** PipeReader hands each chunk of a pipe to onData as text, then calls onEnd once (with the error, if any). */
export class PipeReader {
  private readonly buf = Buffer.allocUnsafe(4096);
  private readonly decoder = new TextDecoder();
  private reading = false;
  private closed = false;
  private ended = false;
  private fd: number;

  constructor(fd: number, private readonly onData: (text: string) => void, private readonly onEnd: (err?: Error) => void) {
    this.fd = fd;
    this.next();
  }

  private next(): void {
    this.reading = true;
    read(this.fd, this.buf, 0, this.buf.length, null, (err, n) => {
      this.reading = false;
      if (this.closed) {
        this.closeNow();
        return;
      }
      if (err || n === 0) {
        this.end(err ?? undefined);
        return;
      }
      this.onData(this.decoder.decode(this.buf.subarray(0, n), { stream: true }));
      if (this.closed) this.closeNow();
      else this.next();
    });
  }

  private end(err?: Error): void {
    this.closed = true;
    this.closeNow();
    if (this.ended) return;
    this.ended = true;
    this.onEnd(err);
  }

  private closeNow(): void {
    if (this.reading || this.fd < 0) return;
    try {
      closeSync(this.fd);
    } catch {
      // closed already
    }
    this.fd = -1;
  }

  /**
   * close stops reading and closes the descriptor: at once, or when the read under way
   * returns (a blocking read cannot be cancelled). onEnd is not called after it.
   */
  close(): void {
    this.closed = true;
    this.ended = true;
    this.closeNow();
  }
}
