import { allMessageNames, ATTR_SIZE, decode, DecodeError, encode, fieldsOf, typeOf } from './codec';
import { decodeDirents, encodeDirent, type Dirent } from './dirent';
import { FrameSplitter } from './frame';
import { EncodedDirStats, MAX_DIRSTATS, MAX_NOTES, type FieldKind, type Message, type MsgName } from './messages';
import { Writer, type Qid } from './wire';

/** sample builds a distinctive value of each field kind (seeded so fields differ). */
function sample(kind: FieldKind, seed: number): unknown {
  switch (kind) {
    case 'u8': return (seed * 7) & 0xff;
    case 'u16': return (seed * 1031) & 0xffff;
    case 'u32':
    case 'u32opt': return (seed * 2654435761) >>> 0;
    case 'u64': return 2 ** 52 + seed * 12345;
    case 'mask': return 0x3fff ^ seed;
    case 'u64b': return 0xfedcba9876543210n + BigInt(seed);
    case 'str': return `näme-${seed}`;
    case 'strs': return ['a', 'bb', `c${seed}`];
    case 'qid': return { type: 0x80, version: seed, path: 0x8000000000000001n + BigInt(seed) };
    case 'qids': return [{ type: 0, version: 1, path: 2n }, { type: 2, version: seed, path: 2n ** 63n }];
    case 'data': return Buffer.from(`payload ${seed}`);
    case 'u32s': return [seed, 0xffffffff, 7];
    case 'attrs': return [bodyOf('Rgetattr', seed), bodyOf('Rgetattr', seed + 1)];
    case 'dirstats': return [{ name: `f${seed}`, attr: bodyOf('Rgetattr', seed) }, { name: 'ü', attr: bodyOf('Rgetattr', seed + 2) }];
    case 'notes': return [{ wd: seed, mask: 0x40000100, cookie: 0, name: `n${seed}` }, { wd: 0xffffffff, mask: 0x4000, cookie: seed, name: '' }];
  }
}

/** bodyOf builds distinctive fields of message `name` (no kind or tag). */
function bodyOf(name: MsgName, seed: number): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  fieldsOf(name).forEach(([field, kind], i) => { body[field] = sample(kind, seed + i + 1); });
  return body;
}

function build(name: MsgName, tag: number): Message {
  return { kind: name, tag, ...bodyOf(name, 0) } as Message;
}

describe('9P2000.L codec', () => {
  const names = allMessageNames();

  it('covers the whole 9P2000.L message set', () => {
    const expected = ['version', 'auth', 'attach', 'flush', 'walk', 'read', 'write', 'clunk', 'remove', 'lopen',
      'lcreate', 'symlink', 'mknod', 'rename', 'readlink', 'getattr', 'setattr', 'xattrwalk', 'xattrcreate',
      'readdir', 'fsync', 'lock', 'getlock', 'link', 'mkdir', 'renameat', 'unlinkat', 'statfs'];
    for (const m of expected) {
      expect(names).toContain(`T${m}`);
      expect(names).toContain(`R${m}`);
    }
    expect(names).toContain('Rlerror');
  });

  it.each(allMessageNames())('round-trips %s', (name) => {
    const msg = build(name, 0x1234);
    const frame = encode(msg);
    expect(frame.readUInt32LE(0)).toBe(frame.length);
    expect(frame[4]).toBe(typeOf(name));
    expect(frame.readUInt16LE(5)).toBe(0x1234);
    expect(decode(frame)).toEqual(msg);
  });

  it('encodes Tversion byte for byte as the protocol defines', () => {
    const frame = encode({ kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' });
    expect(frame.toString('hex')).toBe('1500000064ffff002000000800' + Buffer.from('9P2000.L').toString('hex'));
  });

  it.each(allMessageNames())('rejects every truncation of %s by name', (name) => {
    const frame = encode(build(name, 7));
    for (let cut = 7; cut < frame.length; cut++) {
      const short = Buffer.from(frame.subarray(0, cut));
      short.writeUInt32LE(cut, 0);
      const fields = fieldsOf(name);
      // Only a trailing optional field may be cut off cleanly.
      const optionalTail = fields.length > 0 && fields[fields.length - 1][1] === 'u32opt' && cut === frame.length - 4;
      if (optionalTail) continue;
      expect(() => decode(short)).toThrow(DecodeError);
      try { decode(short); } catch (e) { expect((e as Error).message).toMatch(name); }
    }
  });

  it('reads a Tfsync without datasync from older clients', () => {
    const w = new Writer();
    w.u32(11); w.u8(typeOf('Tfsync')); w.u16(3); w.u32(42);
    expect(decode(w.bytes())).toEqual({ kind: 'Tfsync', tag: 3, fid: 42, datasync: 0 });
  });

  it('rejects unknown types, bad sizes, trailing bytes and oversized values', () => {
    expect(() => decode(Buffer.from([7, 0, 0, 0, 250, 1, 0]))).toThrow(/unknown message type 250/);
    expect(() => decode(Buffer.from([9, 0, 0, 0, 120, 1, 0]))).toThrow(/does not match/);
    const clunk = encode({ kind: 'Tclunk', tag: 1, fid: 5 });
    const extra = Buffer.concat([clunk, Buffer.from([0])]);
    extra.writeUInt32LE(extra.length, 0);
    expect(() => decode(extra)).toThrow(/trailing/);
    const read = encode({ kind: 'Tread', tag: 1, fid: 5, offset: 0, count: 10 });
    read.writeUInt32LE(0xffffffff, 15); // offset high word: beyond 2^53
    expect(() => decode(read)).toThrow(/Tread.offset: value out of range/);
    const walk = encode({ kind: 'Twalk', tag: 1, fid: 1, newfid: 2, names: [] });
    walk.writeUInt16LE(17, 15);
    expect(() => decode(walk)).toThrow(/17 elements/);
  });

  it('decodes Twalkstat and Rwalkstat defensively', () => {
    const ws = encode({ kind: 'Twalkstat', tag: 1, fid: 1, newfids: [], names: [] });
    ws.writeUInt16LE(17, 11); // newfids count
    expect(() => decode(ws)).toThrow(/Twalkstat.newfids: 17 elements/);
    const rs = encode({ kind: 'Rwalkstat', tag: 1, attrs: [] });
    rs.writeUInt16LE(1, 7); // one attribute announced, none there
    expect(() => decode(rs)).toThrow(/Rwalkstat.attrs.valid: truncated/);
    const big = encode({ kind: 'Rwalkstat', tag: 1, attrs: [] });
    big.writeUInt16LE(17, 7);
    expect(() => decode(big)).toThrow(/Rwalkstat.attrs: 17 elements/);
  });

  it('decodes Rnotify defensively', () => {
    const rs = encode({ kind: 'Rnotify', tag: 1, events: [] } as Message);
    rs.writeUInt16LE(1, 7); // one event announced, none there
    expect(() => decode(rs)).toThrow(/Rnotify.events: truncated/);
    const big = encode({ kind: 'Rnotify', tag: 1, events: [] } as Message);
    big.writeUInt16LE(MAX_NOTES + 1, 7);
    expect(() => decode(big)).toThrow(new RegExp(`Rnotify.events: ${MAX_NOTES + 1} elements`));
    const one = encode({ kind: 'Rnotify', tag: 1, events: [{ wd: 1, mask: 0x100, cookie: 0, name: 'a' }] } as Message);
    expect(() => decode(one.subarray(0, one.length - 1))).toThrow(DecodeError);
  });

  it('decodes Treaddirstat and Rreaddirstat defensively', () => {
    const entry = { name: 'a', attr: bodyOf('Rgetattr', 3) };
    const ok = encode({ kind: 'Rreaddirstat', tag: 1, next: 0, entries: Array.from({ length: 40 }, () => entry) } as Message);
    expect((decode(ok) as Message<'Rreaddirstat'>).entries).toHaveLength(40);
    const rs = encode({ kind: 'Rreaddirstat', tag: 1, next: 0, entries: [] } as Message);
    rs.writeUInt16LE(1, 11); // one entry announced, none there
    expect(() => decode(rs)).toThrow(/Rreaddirstat.entries.name: truncated/);
    const big = encode({ kind: 'Rreaddirstat', tag: 1, next: 0, entries: [] } as Message);
    big.writeUInt16LE(MAX_DIRSTATS + 1, 11);
    expect(() => decode(big)).toThrow(new RegExp(`Rreaddirstat.entries: ${MAX_DIRSTATS + 1} elements`));
    const cut = encode({ kind: 'Rreaddirstat', tag: 1, next: 0, entries: [entry] } as Message);
    expect(() => decode(cut.subarray(0, cut.length - 3))).toThrow(DecodeError);
    const t = encode({ kind: 'Treaddirstat', tag: 1, fid: 1, offset: 0, count: 5 });
    expect(() => decode(t.subarray(0, t.length - 1))).toThrow(DecodeError);
  });

  it('reads and writes attribute bodies at fixed offsets exactly as field by field', () => {
    // The attribute bodies of Rgetattr, Rwalkstat and Rreaddirstat are read and written
    // in one go (readAttr/writeAttr): the bytes and values must be those of the table's
    // field order, and a bad body must be named by its field as the generic path names it.
    const fieldByField = (attr: Record<string, unknown>): Buffer => {
      const w = new Writer();
      for (const [field, kind] of fieldsOf('Rgetattr')) {
        const v = attr[field];
        if (kind === 'qid') w.qid(v as Qid);
        else if (kind === 'u32') w.u32(v as number);
        else if (kind === 'u64b') w.u64Big(v as bigint);
        else w.u64(v as number);
      }
      return Buffer.from(w.bytes());
    };
    const attrs = [3, 11].map((seed) => bodyOf('Rgetattr', seed));
    const want = attrs.map(fieldByField);
    expect(want[0]).toHaveLength(ATTR_SIZE);
    const got = encode({ kind: 'Rreaddirstat', tag: 1, next: 0, entries: attrs.map((attr, i) => ({ name: `n${i}`, attr })) } as Message);
    // header 7, next 4, n 2, then name[2+2] and the body per entry
    expect(got.subarray(17, 17 + ATTR_SIZE)).toEqual(want[0]);
    expect(got.subarray(17 + ATTR_SIZE + 4, 17 + 2 * ATTR_SIZE + 4)).toEqual(want[1]);
    expect((decode(got) as Message<'Rreaddirstat'>).entries.map((e) => e.attr)).toEqual(attrs);
    const ga = encode({ kind: 'Rgetattr', tag: 2, ...attrs[1] } as Message);
    expect(ga.subarray(7)).toEqual(want[1]);
    expect(decode(ga)).toEqual({ kind: 'Rgetattr', tag: 2, ...attrs[1] });
    // A u64 beyond 2^53 in the second entry's mtime_sec (offset 89 of the body).
    const bad = Buffer.from(got);
    bad.writeUInt32LE(0x200000, 17 + ATTR_SIZE + 4 + 89 + 4);
    expect(() => decode(bad)).toThrow(/Rreaddirstat.entries.mtimeSec: value out of range/);
    // Cut inside the second body's size field (offset 49): named by that field.
    const cut = Buffer.from(got.subarray(0, 17 + ATTR_SIZE + 4 + 52));
    cut.writeUInt32LE(cut.length, 0);
    expect(() => decode(cut)).toThrow(/Rreaddirstat.entries.size: truncated/);
  });

  it('copies pre-encoded Rreaddirstat entries as they are, the same frame as from objects', () => {
    const entries = [3, 11, 17].map((seed, i) => ({ name: `entry-${i}`, attr: bodyOf('Rgetattr', seed) }));
    const fromObjects = encode({ kind: 'Rreaddirstat', tag: 4, next: 9, entries } as unknown as Message);
    // The entries' bytes: after header 7, next 4 and n 2.
    const raw = Buffer.from(fromObjects.subarray(13));
    const fromBytes = encode({ kind: 'Rreaddirstat', tag: 4, next: 9, entries: new EncodedDirStats(3, raw) } as unknown as Message);
    expect(fromBytes).toEqual(fromObjects);
    expect((decode(fromBytes) as Message<'Rreaddirstat'>).entries).toEqual(entries);
  });

  it('splits a stream into frames across arbitrary chunk boundaries', () => {
    const frames = allMessageNames().map((n, i) => encode(build(n, i)));
    const stream = Buffer.concat(frames);
    for (const chunk of [1, 3, 7, 64, stream.length]) {
      const s = new FrameSplitter(1 << 20);
      const got: Message[] = [];
      for (let i = 0; i < stream.length; i += chunk) {
        s.push(stream.subarray(i, i + chunk));
        for (let f = s.next(); f; f = s.next()) got.push(decode(f.buf, f.start, f.end));
      }
      expect(got.map((m) => m.tag)).toEqual(frames.map((_, i) => i));
      expect(s.pending).toBe(0);
    }
  });

  it('refuses frames larger than msize or smaller than a header', () => {
    const s = new FrameSplitter(100);
    s.push(Buffer.from([101, 0, 0, 0]));
    expect(() => s.next()).toThrow(/frame size 101/);
    const t = new FrameSplitter(100);
    t.push(Buffer.from([3, 0, 0, 0]));
    expect(() => t.next()).toThrow(/frame size 3/);
  });

  it('round-trips directory entries', () => {
    const ents: Dirent[] = [
      { qid: { type: 0x80, version: 0, path: 1n }, offset: 1n, type: 4, name: '.' },
      { qid: { type: 0, version: 3, path: 99n }, offset: 0x7fffffffffffffffn, type: 8, name: 'файл' },
    ];
    const w = new Writer();
    for (const d of ents) encodeDirent(w, d);
    expect(decodeDirents(w.bytes())).toEqual(ents);
    expect(() => decodeDirents(w.bytes().subarray(0, 30))).toThrow(/malformed directory entry/);
  });
});
