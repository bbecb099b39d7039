/**
 * rtnetlink as the sandbox sees it, against a fake namespace (HostQuery): the codec's
 * defensive walks, the re-encoding that keeps only listed attributes of the right size,
 * and NetlinkSocket's datagram semantics (dump parts, NLMSG_DONE, acks, truncation,
 * ENOBUFS, port ids).
 */
import type { Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import { Block } from '../../kernel/waiter';
import type { HostQuery } from './host-route';
import { answer, reencode } from './route';
import { NetlinkSocket } from './socket';
import {
  encodeAttr, encodeMessage, errorMessage, NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, parseAttrs,
  RTM_GETADDR, RTM_GETLINK, RTM_NEWLINK, splitMessages, u32, type Message,
} from './wire';

/** link builds a host RTM_NEWLINK for index i named `name`, with an attribute tvisor does not list (IFLA_AF_SPEC 26). */
function link(i: number, name: string, extra: Buffer[] = []): Message {
  const ifi = Buffer.alloc(16);
  ifi.writeInt32LE(i, 4);
  const body = Buffer.concat([ifi, encodeAttr(3, Buffer.from(`${name}\0`)), encodeAttr(4, u32(1500)), encodeAttr(26, Buffer.alloc(40, 7)), ...extra]);
  return splitMessages(encodeMessage(RTM_NEWLINK, NLM_F_MULTI, 1, 0, body))[0];
}

function fakeHost(links: Message[]): HostQuery & { asked: Array<[number, number]> } {
  const asked: Array<[number, number]> = [];
  return {
    asked,
    dump: (type, family) => { asked.push([type, family]); return type === RTM_GETLINK ? links : []; },
    get: () => ({ errno: 22, msg: null }),
  };
}

function request(type: number, flags: number, seq: number, body: Buffer): Buffer {
  return encodeMessage(type, flags, seq, 0, body);
}

const kernel = {} as Kernel;
const task = (pid: number) => ({ pid, kernel, creds: { euid: 0 } }) as unknown as Task;

describe('wire', () => {
  it('stops at a header whose length lies, and at an attribute whose length lies', () => {
    const good = request(RTM_GETLINK, NLM_F_REQUEST, 1, Buffer.alloc(16));
    const lying = Buffer.from(good);
    lying.writeUInt32LE(4096, 0);
    expect(splitMessages(Buffer.concat([good, lying])).length).toBe(1);
    expect(splitMessages(Buffer.alloc(8)).length).toBe(0);
    const attrs = Buffer.concat([encodeAttr(3, Buffer.from('lo\0')), Buffer.from([200, 0, 1, 0])]);
    expect(parseAttrs(attrs).map((a) => a.type)).toEqual([3]);
  });

  it('puts an extended-ack message after the echoed request, aligned, with NLM_F_ACK_TLVS', () => {
    const [req] = splitMessages(request(RTM_GETLINK, NLM_F_REQUEST, 8, Buffer.from([1, 2, 3])));
    const [m] = splitMessages(errorMessage(req, 2, 9, false, 'no such entry'));
    expect([m.type, m.flags, m.body.readInt32LE(0)]).toEqual([NLMSG_ERROR, 0x200, -2]);
    const tlvs = parseAttrs(m.body.subarray(4 + 16 + 4));
    expect(tlvs.map((a) => [a.type, a.data.toString('latin1')])).toEqual([[1, 'no such entry\0']]);
    const [ack] = splitMessages(errorMessage(req, 0, 9, false, 'ignored'));
    expect([ack.flags, ack.body.length]).toEqual([0x100, 20]);
  });
});

describe('re-encoding', () => {
  it('keeps listed attributes only, and drops those of the wrong size', () => {
    const bad = link(2, 'eth0', [encodeAttr(4, Buffer.alloc(2)), encodeAttr(3, Buffer.alloc(40, 0x41))]);
    const o = reencode(RTM_GETLINK, bad)!;
    const types = parseAttrs(o.body.subarray(16)).map((a) => [a.type, a.data.length]);
    expect(types).toEqual([[3, 5], [4, 4]]); // IFNAME "eth0\0", MTU; no AF_SPEC, no short MTU, no 40-byte name
  });

  it('refuses mutations with EPERM and unknown types with EOPNOTSUPP; a one-link get by name', () => {
    const host = fakeHost([link(1, 'lo'), link(2, 'eth0')]);
    const m = (type: number, flags: number, body: Buffer) => splitMessages(request(type, flags, 9, body))[0];
    expect(answer(host, m(16 /* NEWLINK */, NLM_F_REQUEST, Buffer.alloc(16)), false, 0)).toEqual({ errno: 1 });
    expect(answer(host, m(17 /* DELLINK */, NLM_F_REQUEST, Buffer.alloc(16)), false, 0)).toEqual({ errno: 1 });
    expect(answer(host, m(500, NLM_F_REQUEST, Buffer.alloc(16)), false, 0)).toEqual({ errno: 95 });
    const byName = Buffer.concat([Buffer.alloc(16), encodeAttr(3, Buffer.from('eth0\0'))]);
    const a = answer(host, m(RTM_GETLINK, NLM_F_REQUEST, byName), false, 0);
    expect('objs' in a && a.objs.map((o) => o.body.readInt32LE(4))).toEqual([2]);
    expect(answer(host, m(RTM_GETLINK, NLM_F_REQUEST, Buffer.alloc(16)), false, 0)).toEqual({ errno: 22 });
    // A family without a dumper of its own asks for all (rtnl_dump_all).
    answer(host, m(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, Buffer.from([77, 0, 0, 0, 0, 0, 0, 0])), true, 0);
    expect(host.asked.pop()).toEqual([RTM_GETADDR, 0]);
  });
});

describe('NetlinkSocket', () => {
  it('autobinds to the pid, then to negative ids; a taken id is EADDRINUSE', () => {
    const k = {} as Kernel;
    const t = { pid: 42, kernel: k, creds: { euid: 0 } } as unknown as Task;
    const a = new NetlinkSocket(3, 0, 0, fakeHost([])), b = new NetlinkSocket(3, 0, 0, fakeHost([]));
    a.autobind(t);
    b.autobind(t);
    expect([a.portid, b.portid | 0]).toEqual([42, -4097]);
    const c = new NetlinkSocket(3, 0, 0, fakeHost([]));
    expect(() => c.bind(t, Buffer.from([16, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0]))).toThrow(expect.objectContaining({ errno: 98 }));
    a.unref();
    c.bind(t, Buffer.from([16, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0]));
    expect(c.portid).toBe(42);
  });

  it('sends a dump in parts no bigger than the largest receive, DONE at the end, and never acks it', () => {
    const many = Array.from({ length: 200 }, (_, i) => link(i + 1, `veth${i}`));
    const s = new NetlinkSocket(3, 0, 0, fakeHost(many));
    const t = task(7);
    s.send(t, { data: request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK, 5, Buffer.alloc(16)), addr: null, control: null, flags: 0 });
    const seen: Message[] = [];
    let parts = 0;
    for (;;) {
      const r = s.recv(t, 8192, 0x20 /* MSG_TRUNC: the whole length */, 0);
      if (typeof r === 'number' || r instanceof Block) break;
      parts++;
      expect([r.ret <= 8192, r.outFlags]).toEqual([true, 0]);
      seen.push(...splitMessages(r.data));
    }
    expect(parts).toBeGreaterThan(1);
    expect(seen.length).toBe(201);
    expect(seen.every((m) => m.seq === 5 && m.pid === 7 && (m.flags & NLM_F_MULTI))).toBe(true);
    expect(seen[200].type).toBe(NLMSG_DONE);
  });

  it('truncates a datagram to the buffer (the rest is lost), keeps it on MSG_PEEK, and acks errors with the request', () => {
    const s = new NetlinkSocket(3, 0, 0, fakeHost([link(1, 'lo')]));
    const t = task(1);
    s.send(t, { data: request(RTM_GETLINK, NLM_F_REQUEST, 3, (() => { const b = Buffer.alloc(16); b.writeInt32LE(1, 4); return b; })()), addr: null, control: null, flags: 0 });
    const peek = s.recv(t, 4, 0x2 | 0x20 /* MSG_PEEK | MSG_TRUNC */, 0);
    const cut = s.recv(t, 4, 0, 0);
    expect(typeof peek === 'object' && !(peek instanceof Block) && typeof cut === 'object' && !(cut instanceof Block)).toBe(true);
    if (typeof peek !== 'object' || peek instanceof Block || typeof cut !== 'object' || cut instanceof Block) return;
    expect([peek.data.length, cut.data.length, peek.ret > 4, cut.ret, cut.outFlags, peek.outFlags]).toEqual([4, 4, true, 4, 0x20, 0x20]);
    expect(s.recv(t, 4, 0, 0)).toBeInstanceOf(Block);
    s.send(t, { data: request(16, NLM_F_REQUEST, 4, Buffer.alloc(16)), addr: null, control: null, flags: 0 });
    const e = s.recv(t, 4096, 0, 0);
    if (typeof e !== 'object' || e instanceof Block) throw new Error('no error reply');
    const [m] = splitMessages(e.data);
    expect([m.type, m.body.readInt32LE(0), m.body.length]).toEqual([NLMSG_ERROR, -1, 4 + 16 + 16]);
  });

  it('drops what overflows the receive buffer and reports ENOBUFS once', () => {
    const s = new NetlinkSocket(3, 0, 0, fakeHost([]));
    s.rcvbuf = 100;
    const t = task(1);
    for (let i = 0; i < 10; i++) s.send(t, { data: request(16, NLM_F_REQUEST, i, Buffer.alloc(16)), addr: null, control: null, flags: 0 });
    expect(s.recv(t, 4096, 0, 0)).toBe(-105);
    expect(typeof s.recv(t, 4096, 0, 0)).toBe('object');
  });
});
