/**
 * A tiny 9P2000.L responder for the client's unit tests. It serves a fixed tree over one
 * socket, blocking, and is meant to run in a worker thread (the client's synchronous
 * transport blocks the test's thread):
 *
 *   /etc/passwd       a file holding `content`
 *   /loop/loop/...    a directory that contains itself (for walks of many names)
 *
 * It reports how many requests each receive held (pipelining shows as batches > 1),
 * answers 9P2000.L.fd by passing a descriptor of `hostFile` with each Rlopen of a file
 * (none with a directory's), and can
 * hold Treads unanswered until they are flushed.
 */
import * as fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Errno } from '../../native/libc';
import { closeFd, MsgBuffers } from '../../native/unixsock';
import { decode, encodeInto } from './codec';
import { encodeDirent } from './dirent';
import { FrameSplitter } from './frame';
import { carriesFd, QidType, VERSION_9P2000L, VERSION_FD, type Message } from './messages';
import { Writer, type Qid } from './wire';

/** FakeServerOptions configures the responder. */
export interface FakeServerOptions {
  /** dialect: 'fd' grants 9P2000.L.fd; 'plain' answers 9P2000.L to any 9P2000.L*; 'strict' answers 'unknown' to all but 9P2000.L. */
  dialect: 'fd' | 'plain' | 'strict';
  /** hostFile is opened and passed with each Rlopen in fd mode. */
  hostFile: string;
  content: string;
  /** noWalkStat answers ENOSYS to Twalkstat (a 9P2000.L.fd server without it). */
  noWalkStat?: boolean;
  /** holdReads leaves every Tread unanswered (until its Tflush). */
  holdReads?: boolean;
}

/** FakeEvent is what the responder reports to the test. */
export type FakeEvent = { batch: number; kinds: string[] } | { version: string };

interface Node {
  qid: Qid;
  children?: Record<string, number>;
}

const TREE: Node[] = [
  { qid: { type: QidType.DIR, version: 0, path: 1n }, children: { etc: 1, loop: 3 } },
  { qid: { type: QidType.DIR, version: 0, path: 2n }, children: { passwd: 2 } },
  { qid: { type: QidType.FILE, version: 0, path: 3n } },
  { qid: { type: QidType.DIR, version: 0, path: 4n }, children: { loop: 3 } },
];

/** serveFake answers requests on `fd` until the peer closes it. */
export function serveFake(fd: number, opts: FakeServerOptions, report: (e: FakeEvent) => void): void {
  const bufs = new MsgBuffers(1 << 20);
  const splitter = new FrameSplitter(1 << 20);
  const w = new Writer(1 << 16);
  const fids = new Map<number, number>();
  let fdMode = false;
  const flushOut = (fds: number[] = []) => {
    if (w.pos > 0) bufs.send(fd, w.buf, w.pos, fds);
    w.pos = 0;
  };
  const err = (tag: number, ecode: number) => encodeInto(w, { kind: 'Rlerror', tag, ecode });
  for (;;) {
    const n = bufs.recv(fd);
    if (n <= 0) break;
    splitter.push(bufs.data.subarray(0, n));
    const kinds: string[] = [];
    for (let f = splitter.next(); f; f = splitter.next()) {
      const m = decode(f.buf, f.start, f.end);
      kinds.push(m.kind);
      const node = 'fid' in m ? fids.get(m.fid) : undefined;
      switch (m.kind) {
        case 'Tversion': {
          let version = m.version === VERSION_9P2000L ? VERSION_9P2000L : 'unknown';
          if (opts.dialect !== 'strict' && m.version.startsWith(VERSION_9P2000L)) version = VERSION_9P2000L;
          if (opts.dialect === 'fd' && m.version === VERSION_FD) version = VERSION_FD;
          fdMode = version === VERSION_FD;
          report({ version: m.version });
          encodeInto(w, { kind: 'Rversion', tag: m.tag, msize: Math.min(m.msize, 1 << 20), version });
          break;
        }
        case 'Tattach':
          fids.set(m.fid, 0);
          encodeInto(w, { kind: 'Rattach', tag: m.tag, qid: TREE[0].qid });
          break;
        case 'Twalk': {
          if (node === undefined) {
            err(m.tag, Errno.EBADF);
            break;
          }
          const qids: Qid[] = [];
          let at = node;
          for (const name of m.names) {
            const next = TREE[at].children?.[name];
            if (next === undefined) break;
            qids.push(TREE[next].qid);
            at = next;
          }
          if (m.names.length > 0 && qids.length === 0) {
            err(m.tag, Errno.ENOENT);
            break;
          }
          if (qids.length === m.names.length) fids.set(m.newfid, at);
          encodeInto(w, { kind: 'Rwalk', tag: m.tag, qids });
          break;
        }
        case 'Twalkstat': {
          // Attributes of each name walked; no fid is kept (the tests read qids only).
          if (!fdMode || opts.noWalkStat) {
            err(m.tag, fdMode ? Errno.ENOSYS : Errno.EOPNOTSUPP);
            break;
          }
          if (node === undefined) {
            err(m.tag, Errno.EBADF);
            break;
          }
          const attrs: Array<Omit<Message<'Rgetattr'>, 'kind' | 'tag'>> = [];
          let at = node;
          m.names.forEach((name, i) => {
            const next = attrs.length === i ? TREE[at].children?.[name] : undefined;
            if (next === undefined) return;
            const { kind: _k, tag: _t, ...a } = getattrReply(0, TREE[next], opts.content.length);
            attrs.push(a);
            if (m.newfids[i] !== 0xffffffff) fids.set(m.newfids[i], next);
            at = next;
          });
          if (attrs.length === 0) err(m.tag, Errno.ENOENT);
          else encodeInto(w, { kind: 'Rwalkstat', tag: m.tag, attrs });
          break;
        }
        case 'Tgetattr':
          if (node === undefined) err(m.tag, Errno.EBADF);
          else encodeInto(w, getattrReply(m.tag, TREE[node], opts.content.length));
          break;
        case 'Tlopen': {
          if (node === undefined) {
            err(m.tag, Errno.EBADF);
            break;
          }
          encodeInto(w, { kind: 'Rlopen', tag: m.tag, qid: TREE[node].qid, iounit: 0 });
          if (fdMode && carriesFd(TREE[node].qid)) {
            const hostFd = fs.openSync(opts.hostFile, 'r');
            flushOut([hostFd]); // the descriptor rides with the reply's bytes
            closeFd(hostFd);
          }
          break;
        }
        case 'Tread':
          if (opts.holdReads) break;
          encodeInto(w, { kind: 'Rread', tag: m.tag, data: Buffer.from(opts.content).subarray(m.offset, m.offset + m.count) });
          break;
        case 'Treaddir': {
          const children = node === undefined ? undefined : TREE[node].children;
          if (!children) {
            err(m.tag, Errno.ENOTDIR);
            break;
          }
          const d = new Writer(256);
          const names = Object.keys(children);
          names.forEach((name, i) => {
            if (BigInt(i) >= m.offset) encodeDirent(d, { qid: TREE[children[name]].qid, offset: BigInt(i + 1), type: 4, name });
          });
          encodeInto(w, { kind: 'Rreaddir', tag: m.tag, data: d.bytes() });
          break;
        }
        case 'Tflush':
          encodeInto(w, { kind: 'Rflush', tag: m.tag });
          break;
        case 'Tclunk':
          if (fids.delete(m.fid)) encodeInto(w, { kind: 'Rclunk', tag: m.tag });
          else err(m.tag, Errno.EBADF);
          break;
        default:
          err(m.tag, Errno.ENOSYS);
      }
    }
    splitter.retain();
    flushOut();
    report({ batch: kinds.length, kinds });
  }
  closeFd(fd);
}

function getattrReply(tag: number, node: Node, size: number): Message<'Rgetattr'> {
  const dir = node.qid.type === QidType.DIR;
  return {
    kind: 'Rgetattr', tag, valid: 0x7ff, qid: node.qid, mode: dir ? 0o40755 : 0o100644, uid: 0, gid: 0, nlink: 1,
    rdev: 0, size: dir ? 4096 : size, blksize: 4096, blocks: 1, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0,
    ctimeSec: 0, ctimeNsec: 0, btimeSec: 0, btimeNsec: 0, gen: 0n, dataVersion: 0n,
  };
}

/** runFakeWorker is the worker thread's entry point: workerData is { fd, opts }. */
export function runFakeWorker(): void {
  const { fd, opts } = workerData as { fd: number; opts: FakeServerOptions };
  serveFake(fd, opts, (e) => parentPort!.postMessage(e));
}
