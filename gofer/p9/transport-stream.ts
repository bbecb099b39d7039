/**
 * StreamTransport carries 9P over a Node stream socket (TCP or a Unix socket path), fully
 * asynchronously: for plain 9P2000.L servers such as diod. It passes no descriptors and
 * cannot make synchronous calls. node:net is loaded at the first connect.
 */
import type * as net from 'node:net';
import type { Engine, Transport } from './client-engine';

/** StreamTarget is where to connect: a TCP address or a Unix socket path. */
export type StreamTarget = { host: string; port: number } | { path: string };

/** StreamTransport is a 9P connection over a net.Socket. */
export class StreamTransport implements Transport {
  readonly canPassFds = false;
  private engine!: Engine;
  private scheduled = false;

  constructor(readonly socket: net.Socket, readonly label: string) {}

  /** connect opens a socket to `target` and resolves once it is connected. */
  static connect(target: StreamTarget): Promise<StreamTransport> {
    const label = 'path' in target ? `unix:${target.path}` : `tcp:${target.host}:${target.port}`;
    // node:net (with its streams) loads here, on first use: the sentry's 9P client imports
    // this module, and a sentry talking to its own gofer never connects this way.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createConnection } = require('node:net') as typeof net;
    return new Promise((resolve, reject) => {
      const socket = createConnection(target as net.NetConnectOpts, () => {
        socket.off('error', reject);
        if (!('path' in target)) socket.setNoDelay(true);
        resolve(new StreamTransport(socket, label));
      });
      socket.once('error', reject);
    });
  }

  start(engine: Engine): void {
    this.engine = engine;
    this.socket.on('data', (chunk: Buffer) => engine.onData(chunk, [], false));
    this.socket.on('error', (e) => engine.fail(`${this.label}: ${e.message}`));
    this.socket.on('close', () => engine.fail(`${this.label}: connection closed`));
  }

  kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const bytes = this.engine.takeOutgoing();
      // The engine reuses its buffers: the socket gets its own copy.
      if (bytes && !this.socket.destroyed) this.socket.write(Buffer.from(bytes));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
