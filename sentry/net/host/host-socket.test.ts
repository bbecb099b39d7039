import { Errno, type LinuxError } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { Block } from '../../kernel/waiter';
import { POLLIN, POLLOUT } from '../../vfs/file';
import type { RecvResult, SocketFile } from '../provider';
import { hostFactory } from './host-socket';

const AF_INET = 2, SOCK_STREAM = 1, MSG_WAITALL = 0x100;

function task(): Task {
  return { syscallState: undefined, regs: { setReturn: () => undefined } } as unknown as Task;
}

/** retry runs a call until it stops blocking, letting the reactor run in between (as a woken task would). */
async function retry<T>(t: Task, call: () => T | Block | number): Promise<T | number> {
  for (let i = 0; i < 2000; i++) {
    const r = call();
    if (!(r instanceof Block)) {
      t.syscallState = undefined;
      return r;
    }
    await new Promise((res) => setTimeout(res, 1));
  }
  throw new Error('still blocked after 2 s');
}

async function pair(): Promise<{ srv: SocketFile; cli: SocketFile; acc: SocketFile }> {
  const t = task();
  const make = hostFactory(AF_INET);
  const srv = make(t, SOCK_STREAM, 0, 0);
  const any = Buffer.alloc(16);
  any.writeUInt16LE(AF_INET, 0);
  any.set([127, 0, 0, 1], 4);
  srv.bind(t, any);
  srv.listen(t, 4);
  const cli = make(t, SOCK_STREAM, 0, 0);
  expect(await retry(t, () => cli.connect(t, srv.sockname(t)))).toBe(0);
  const acc = await retry(t, () => srv.accept(t, 0));
  if (typeof acc === 'number') throw new Error(`accept: ${acc}`);
  return { srv, cli, acc: acc.file };
}

describe('host sockets', () => {
  it('MSG_WAITALL keeps what it took while it waits, and poll sees it', async () => {
    const { srv, cli, acc } = await pair();
    const t = task();
    expect(cli.send(t, { data: Buffer.from('abc'), addr: null, control: null, flags: 0 })).toBe(3);
    await new Promise((res) => setTimeout(res, 20));
    // Half of what it wants is there: it blocks holding those bytes, which poll reports.
    expect(acc.recv(t, 6, MSG_WAITALL, 0)).toBeInstanceOf(Block);
    expect(acc.readiness() & POLLIN).toBe(POLLIN);
    expect(cli.send(t, { data: Buffer.from('def'), addr: null, control: null, flags: 0 })).toBe(3);
    const r = await retry(t, () => acc.recv(t, 6, MSG_WAITALL, 0)) as RecvResult;
    expect(r.data.toString()).toBe('abcdef');
    for (const s of [srv, cli, acc]) s.unref();
  });

  it('wakes poll and epoll once per readiness gained, not once per host wake-up', async () => {
    const { srv, cli, acc } = await pair();
    const t = task();
    expect(acc.readiness() & (POLLIN | POLLOUT)).toBe(POLLOUT); // seen: writable, nothing to read
    let woken = 0;
    const watch = () => acc.queue!.add(() => { woken++; watch(); });
    watch();
    cli.send(t, { data: Buffer.from('x'), addr: null, control: null, flags: 0 });
    await new Promise((res) => setTimeout(res, 30));
    expect(woken).toBe(1); // readable: gained POLLIN
    cli.send(t, { data: Buffer.from('y'), addr: null, control: null, flags: 0 });
    await new Promise((res) => setTimeout(res, 30));
    expect(woken).toBe(1); // still readable: nothing gained
    const r = acc.recv(t, 10, 0, 0) as RecvResult;
    expect(r.data.toString()).toBe('xy');
    expect(acc.readiness() & POLLIN).toBe(0); // seen again: nothing to read
    cli.send(t, { data: Buffer.from('z'), addr: null, control: null, flags: 0 });
    await new Promise((res) => setTimeout(res, 30));
    expect(woken).toBe(2);
    for (const s of [srv, cli, acc]) s.unref();
  });

  it('a blocking send that filled the connection midway waits with what it sent, which a signal handler returns', async () => {
    const { srv, cli, acc } = await pair();
    let returned: bigint | number | undefined;
    const t = { syscallState: undefined, regs: { setReturn: (v: number) => { returned = v; } } } as unknown as Task;
    const big = Buffer.alloc(64 << 20);
    const r = cli.send(t, { data: big, addr: null, control: null, flags: 0 });
    expect(r).toBeInstanceOf(Block);
    expect((r as Block).noRestart).toBe(true); // a handler ends it (with the count), not a restart
    const st = t.syscallState as { done: number; interrupted(): void };
    expect(st.done).toBeGreaterThan(0);
    expect(st.done).toBeLessThan(big.length);
    st.interrupted();
    expect(returned).toBe(st.done);
    // A non-blocking send on the full connection sends nothing and would block, keeping no
    // state. The host may open the window again a little after the blocking send stopped
    // (loopback moves queued bytes into a receive buffer it grows), so send until it is full.
    const t2 = task();
    let res: unknown = 0;
    for (let i = 0; i < 10_000 && typeof res === 'number'; i++) {
      res = cli.send(t2, { data: Buffer.alloc(4096), addr: null, control: null, flags: 0x40 /* MSG_DONTWAIT */ });
    }
    expect(res).toBeInstanceOf(Block);
    expect(t2.syscallState).toBeUndefined();
    for (const s of [srv, cli, acc]) s.unref();
  });

  it('IP_RECVERR is kept by the sentry (glibc\'s resolver needs it), IPV6_RECVERR only on AF_INET6', () => {
    const t = task();
    const IPPROTO_IP = 0, IP_RECVERR = 11, IPPROTO_IPV6 = 41, IPV6_RECVERR = 25, SOCK_DGRAM = 2, AF_INET6 = 10;
    const errnoOf = (f: () => unknown) => {
      try {
        f();
        return 0;
      } catch (e) {
        return (e as LinuxError).errno;
      }
    };
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    const u = hostFactory(AF_INET)(t, SOCK_DGRAM, 0, 0);
    expect(u.getsockopt(t, IPPROTO_IP, IP_RECVERR, 4).readInt32LE(0)).toBe(0);
    u.setsockopt(t, IPPROTO_IP, IP_RECVERR, one);
    expect(u.getsockopt(t, IPPROTO_IP, IP_RECVERR, 4).readInt32LE(0)).toBe(1);
    u.setsockopt(t, IPPROTO_IP, IP_RECVERR, Buffer.from([0]));
    expect(u.getsockopt(t, IPPROTO_IP, IP_RECVERR, 4).readInt32LE(0)).toBe(0);
    expect(errnoOf(() => u.setsockopt(t, IPPROTO_IP, IP_RECVERR, Buffer.alloc(0)))).toBe(Errno.EINVAL);
    expect(errnoOf(() => u.setsockopt(t, IPPROTO_IPV6, IPV6_RECVERR, one))).toBe(92 /* ENOPROTOOPT */);
    const u6 = hostFactory(AF_INET6)(t, SOCK_DGRAM, 0, 0);
    u6.setsockopt(t, IPPROTO_IPV6, IPV6_RECVERR, one);
    expect(u6.getsockopt(t, IPPROTO_IPV6, IPV6_RECVERR, 4).readInt32LE(0)).toBe(1);
    expect(errnoOf(() => u6.setsockopt(t, IPPROTO_IPV6, IPV6_RECVERR, Buffer.from([1])))).toBe(Errno.EINVAL);
    for (const s of [u, u6]) s.unref();
  });
});
