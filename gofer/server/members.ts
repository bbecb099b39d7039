/**
 * Pod members: one gofer serves every container of a pod (runtime/sandbox/pod-member.ts).
 * The pod's sandbox container's gofer listens on a control socket (--control, in the
 * sandbox's state directory, which only the host's root reaches: the gofer and sentry
 * are pivoted into empty roots). A member's `create` opens the member's rootfs and bind
 * mounts itself, on the host, and hands their O_PATH descriptors to the gofer here, with
 * one end of a new socket pair whose other end goes to the sentry as the member's 9P
 * connection.
 *
 * Each member's exports are a table of their own (Exports), bound to that one
 * connection: its Tattach resolves names in it only, so a member cannot attach another
 * member's rootfs or mounts (nor the sandbox container's), whatever name it sends. The
 * member's descriptors live as long as its connection: its end (the sentry lets go of it
 * at the member's delete) or a `remove` request closes the connection, every fid on it
 * and every export root.
 *
 * Wire format: one JSON line per request, with the descriptors it carries (SCM_RIGHTS,
 * on the line's first byte); each is answered by one line, {"ok":true} or {"error":"..."}:
 *
 *   {"export":{"member":ID,"name":NAME,"hostPath":PATH,"readonly":BOOL}}   1 descriptor:
 *       the O_PATH root of one export; staged on this control connection for ID.
 *   {"connect":{"member":ID,"uidMap":["C:H:N",...],"gidMap":[...]}}        1 descriptor:
 *       a connected stream socket; the staged exports of ID (one named "/") become ID's
 *       table, served on it.
 *   {"remove":{"member":ID}}                                                no descriptor:
 *       closes ID's connection, fids and exports (none: nothing to do).
 *
 * Staged exports not connected when the control connection ends are closed. The peer is
 * the runtime, run by root; still, every request is checked and a bad one is refused by
 * one error line, never by the gofer's end.
 *
 * Memory (measured, heap snapshots after a GC at each connect): a member costs the gofer
 * about 0.1 MB of heap (its connection's 64 KiB reply writer, its session, fids and
 * exports) and its USS 0.1-0.2 MB; the first member also brings in ~3.6 MB more of Node's
 * binary (code paths a lone sandbox's gofer never runs), pages shared with every Node
 * process, whose PSS share moves with how many run: a pod's gofer's PSS "growth" per
 * member in bench-pod is mostly that, not its heap.
 */
import { Errno } from '../../native/libc';
import { accept, closeFd, setNonBlocking, MsgBuffers, SOCK_CLOEXEC, SOCK_NONBLOCK } from '../../native/unixsock';
import type { Connection, Logger } from './connection';
import { Exports, exportOfFd, normalizeName, type Export } from './export';
import { IdMap } from './idmap';
import { restoreOwn } from '../hostfs/creds';

/** MAX_LINE bounds one request line. */
const MAX_LINE = 64 * 1024;
/** MAX_STAGED bounds the exports staged on one control connection. */
const MAX_STAGED = 1024;
/** MEMBER_ID_RE is what a member id may be (runtime/container/id.ts allows less). */
const MEMBER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}$/;

/** MemberServer is what the registry needs of the server: to serve a new 9P connection. */
export interface MemberServer {
  /** serve starts serving 9P on `fd` with `exports` and returns the connection. */
  serve(fd: number, exports: Exports): Connection;
  log: Logger;
}

/** ControlConnection is one accepted control socket: its unread bytes and staged exports. */
class ControlConnection {
  text = '';
  /** fds received with bytes not yet handled (a line's, in order). */
  fds: number[] = [];
  readonly staged = new Map<string, Export[]>();
  closed = false;

  constructor(readonly fd: number) {}

  /** close drops everything staged and the socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const list of this.staged.values()) for (const e of list) closeFd(e.rootFd);
    this.staged.clear();
    for (const f of this.fds) closeFd(f);
    this.fds = [];
    closeFd(this.fd);
  }
}

/** RequestError is a refused request: its message is the error line's. */
class RequestError extends Error {}

/** MemberRegistry serves the control socket and holds each member's connection. */
export class MemberRegistry {
  private controls: ControlConnection[] = [];
  private readonly members = new Map<string, Connection>();
  private readonly reply = new MsgBuffers(16);

  constructor(readonly listenFd: number, private readonly server: MemberServer) {
    setNonBlocking(listenFd);
  }

  /** pollFds are the descriptors to poll for reading: the listening socket, then each control connection. */
  pollFds(): number[] {
    return [this.listenFd, ...this.controls.map((c) => c.fd)];
  }

  /** dispatch handles what poll found: `ready(i)` is true when pollFds()[i] is readable (or hung up). */
  dispatch(ready: (i: number) => boolean, bufs: MsgBuffers): void {
    const polled = this.controls.slice();
    if (ready(0)) this.acceptAll();
    polled.forEach((c, i) => {
      if (ready(i + 1)) this.onReadable(c, bufs);
    });
    this.controls = this.controls.filter((c) => !c.closed);
  }

  /** memberCount is how many members are served (for tests and the debug log). */
  get memberCount(): number {
    return this.members.size;
  }

  /** close ends every control connection (members' 9P connections are the server's). */
  close(): void {
    for (const c of this.controls) c.close();
    this.controls = [];
    closeFd(this.listenFd);
  }

  private acceptAll(): void {
    for (;;) {
      const fd = accept(this.listenFd, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) return;
      this.controls.push(new ControlConnection(fd));
    }
  }

  private onReadable(c: ControlConnection, bufs: MsgBuffers): void {
    const n = bufs.recv(c.fd);
    c.fds.push(...bufs.fds);
    if (n === -Errno.EAGAIN || n === -Errno.EINTR) return;
    if (n <= 0) {
      c.close();
      return;
    }
    c.text += bufs.data.toString('utf8', 0, n);
    for (let nl = c.text.indexOf('\n'); nl >= 0 && !c.closed; nl = c.text.indexOf('\n')) {
      const line = c.text.slice(0, nl);
      c.text = c.text.slice(nl + 1);
      // The descriptors came with this line (the runtime sends one line and waits).
      const fds = c.fds;
      c.fds = [];
      let answer: Record<string, unknown>;
      try {
        restoreOwn(); // the last 9P request's caller must not be who handles this
        this.handle(c, line, fds);
        answer = { ok: true };
      } catch (e) {
        for (const f of fds) closeFd(f);
        if (!(e instanceof RequestError) && (e as Error).name !== 'ExportError') this.server.log.error(`gofer: control request failed: ${(e as Error).stack ?? e}`);
        answer = { error: (e as Error).message };
      }
      const out = Buffer.from(`${JSON.stringify(answer)}\n`);
      if (this.reply.send(c.fd, out, out.length) !== out.length) c.close();
    }
    if (c.text.length > MAX_LINE) c.close();
  }

  /** handle carries out one request line; on success it owns `fds`, else the caller closes them. */
  private handle(c: ControlConnection, line: string, fds: number[]): void {
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch {
      throw new RequestError('control: a request is one JSON object per line');
    }
    if (typeof req !== 'object' || req === null || Array.isArray(req)) throw new RequestError('control: a request is one JSON object per line');
    const r = req as Record<string, unknown>;
    const [verb, ...more] = Object.keys(r);
    const body = r[verb];
    if (more.length > 0 || typeof body !== 'object' || body === null) throw new RequestError('control: want one of {"export":{...}}, {"connect":{...}}, {"remove":{...}}');
    if (verb !== 'export' && verb !== 'connect' && verb !== 'remove') throw new RequestError(`control: unknown request "${verb}"`);
    const b = body as Record<string, unknown>;
    const member = b.member;
    if (typeof member !== 'string' || !MEMBER_ID_RE.test(member)) throw new RequestError(`control: ${JSON.stringify(member)} is not a member id`);
    const want = verb === 'remove' ? 0 : 1;
    if (fds.length !== want) throw new RequestError(`control: ${verb} carries ${want} descriptor${want === 1 ? '' : 's'}, not ${fds.length}`);
    switch (verb) {
      case 'export': return this.stage(c, member, b, fds[0]);
      case 'connect': return this.connect(c, member, b, fds[0]);
      case 'remove': return this.remove(member);
    }
  }

  private stage(c: ControlConnection, member: string, b: Record<string, unknown>, fd: number): void {
    if (typeof b.name !== 'string' || typeof b.hostPath !== 'string' || typeof b.readonly !== 'boolean') throw new RequestError('control: export wants name, hostPath (strings) and readonly (a boolean)');
    const list = c.staged.get(member) ?? [];
    if ([...c.staged.values()].reduce((n, l) => n + l.length, 0) >= MAX_STAGED) throw new RequestError(`control: more than ${MAX_STAGED} exports staged`);
    const name = normalizeName(b.name);
    if (list.some((e) => e.name === name)) throw new RequestError(`control: export ${name} of member ${member} given twice`);
    list.push(exportOfFd(name, b.hostPath, fd, b.readonly));
    c.staged.set(member, list);
  }

  private connect(c: ControlConnection, member: string, b: Record<string, unknown>, fd: number): void {
    if (this.members.has(member)) throw new RequestError(`control: member ${member} is already served`);
    const list = c.staged.get(member) ?? [];
    if (!list.some((e) => e.name === '/')) throw new RequestError(`control: member ${member} has no root export`);
    const maps = [b.uidMap ?? [], b.gidMap ?? []];
    if (!maps.every((m) => Array.isArray(m) && m.every((x) => typeof x === 'string'))) throw new RequestError('control: uidMap and gidMap are lists of "C:H:N" strings');
    let exports: Exports;
    try {
      exports = new Exports({ uid: IdMap.parse(maps[0] as string[]), gid: IdMap.parse(maps[1] as string[]) });
    } catch (e) {
      throw new RequestError(`control: ${(e as Error).message}`);
    }
    for (const e of list) exports.add(e);
    c.staged.delete(member);
    const conn = this.server.serve(fd, exports);
    this.members.set(member, conn);
    // The member's exports go with its connection, however it ends.
    conn.onClosed = () => {
      exports.close();
      if (this.members.get(member) === conn) this.members.delete(member);
    };
    this.server.log.debug(`gofer: member ${member}: serving ${exports.list().map((e) => `${e.name}=${e.hostPath}${e.readonly ? ' (ro)' : ''}`).join(', ')}`);
  }

  private remove(member: string): void {
    this.members.get(member)?.close('');
  }
}
