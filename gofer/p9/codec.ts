/**
 * The 9P2000.L codec: frames <-> messages, driven by the MESSAGES table.
 *
 * Decoding is defensive (the gofer's peer is untrusted): a frame whose size field is
 * wrong, whose type is unknown, whose fields run past the end, or whose values are out
 * of range is rejected with a DecodeError that names the message and the field, never
 * with an exception from deep inside a parse.
 */
import { EncodedDirStats, HEADER_SIZE, MAX_DIRSTATS, MAX_NOTES, MESSAGES, type FieldKind, type Message, type MsgName } from './messages';
import { Reader, Writer, type Qid } from './wire';

interface Entry {
  name: MsgName;
  type: number;
  fields: ReadonlyArray<readonly [string, FieldKind]>;
}

const byType: Array<Entry | undefined> = new Array(256);
const byName = new Map<MsgName, Entry>();
for (const [name, [type, fields]] of Object.entries(MESSAGES) as Array<[MsgName, readonly [number, Record<string, FieldKind>]]>) {
  const entry: Entry = { name, type, fields: Object.entries(fields) };
  byType[type] = entry;
  byName.set(name, entry);
}

/** typeOf returns the type number of a message name. */
export function typeOf(name: MsgName): number {
  return byName.get(name)!.type;
}

/** nameOf returns the message name of a type number, or undefined for an unknown type. */
export function nameOf(type: number): MsgName | undefined {
  return byType[type]?.name;
}

/** DecodeError is a frame that is not a well-formed 9P2000.L message. */
export class DecodeError extends Error {
  constructor(message: string, readonly tag: number | undefined) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** MAX_ELEMS bounds the element count of a strs/qids/u32s/attrs field (Twalk allows 16). */
const MAX_ELEMS = 16;

function readField(r: Reader, kind: FieldKind, what: string): unknown {
  switch (kind) {
    case 'u8': return r.u8(what);
    case 'u16': return r.u16(what);
    case 'u32': return r.u32(what);
    case 'u64': return r.u64(what);
    case 'mask': return r.u64Mask(what);
    case 'u64b': return r.u64Big(what);
    case 'str': return r.str(what);
    case 'data': return r.data(what);
    case 'qid': return r.qid(what);
    case 'u32opt': return r.remaining >= 4 ? r.u32(what) : 0;
    case 'strs':
    case 'qids':
    case 'u32s':
    case 'attrs': {
      const n = r.u16(what);
      if (n > MAX_ELEMS) {
        r.fail(`${what}: ${n} elements, at most ${MAX_ELEMS}`);
        return [];
      }
      const out: unknown[] = [];
      for (let i = 0; i < n && r.ok; i++) {
        out.push(kind === 'strs' ? r.str(what) : kind === 'qids' ? r.qid(what) : kind === 'u32s' ? r.u32(what) : readAttr(r, what));
      }
      return out;
    }
    case 'dirstats': {
      const n = r.u16(what);
      if (n > MAX_DIRSTATS) {
        r.fail(`${what}: ${n} elements, at most ${MAX_DIRSTATS}`);
        return [];
      }
      const out: unknown[] = [];
      const nameWhat = `${what}.name`;
      for (let i = 0; i < n && r.ok; i++) {
        const name = r.str(nameWhat);
        out.push({ name, attr: readAttr(r, what) });
      }
      return out;
    }
    case 'notes': {
      const n = r.u16(what);
      if (n > MAX_NOTES) {
        r.fail(`${what}: ${n} elements, at most ${MAX_NOTES}`);
        return [];
      }
      const out: unknown[] = [];
      for (let i = 0; i < n && r.ok; i++) out.push({ wd: r.u32(what), mask: r.u32(what), cookie: r.u32(what), name: r.str(what) });
      return out;
    }
  }
}

function writeField(w: Writer, kind: FieldKind, v: unknown): void {
  switch (kind) {
    case 'u8': return w.u8(v as number);
    case 'u16': return w.u16(v as number);
    case 'u32':
    case 'u32opt': return w.u32(v as number);
    case 'u64':
    case 'mask': return w.u64(v as number);
    case 'u64b': return w.u64Big(v as bigint);
    case 'str': return w.str(v as string);
    case 'data': return w.data(v as Uint8Array);
    case 'qid': return w.qid(v as Qid);
    case 'strs':
      w.u16((v as string[]).length);
      for (const s of v as string[]) w.str(s);
      return;
    case 'qids':
      w.u16((v as Qid[]).length);
      for (const q of v as Qid[]) w.qid(q);
      return;
    case 'u32s':
      w.u16((v as number[]).length);
      for (const n of v as number[]) w.u32(n);
      return;
    case 'attrs':
      w.u16((v as unknown[]).length);
      for (const a of v as Array<Record<string, unknown>>) writeAttr(w, a);
      return;
    case 'dirstats':
      if (v instanceof EncodedDirStats) {
        w.u16(v.count);
        w.reserve(v.bytes.length);
        v.bytes.copy(w.buf, w.pos);
        w.pos += v.bytes.length;
        return;
      }
      w.u16((v as unknown[]).length);
      for (const e of v as Array<{ name: string; attr: Record<string, unknown> }>) {
        w.str(e.name);
        writeAttr(w, e.attr);
      }
      return;
    case 'notes':
      w.u16((v as unknown[]).length);
      for (const e of v as Array<{ wd: number; mask: number; cookie: number; name: string }>) {
        w.u32(e.wd >>> 0);
        w.u32(e.mask >>> 0);
        w.u32(e.cookie >>> 0);
        w.str(e.name);
      }
      return;
  }
}

/** ATTR_ENTRY is Rgetattr's entry: an attrs or dirstats field holds its bodies. */
const ATTR_ENTRY = byName.get('Rgetattr')!;
function attrEntry(): Entry {
  return ATTR_ENTRY;
}

/** ATTR_SIZE is the size of an Rgetattr body on the wire (valid[8] qid[13] mode uid gid[4]
 * fourteen u64 fields, gen and data_version[8]). */
export const ATTR_SIZE = 153;
/** ATTR_U64 are the offsets in an Rgetattr body of its u64 fields read as numbers (nlink to btime_nsec). */
const ATTR_U64_FIRST = 33, ATTR_U64_LAST = 129;

/**
 * readAttr reads one Rgetattr body (an attrs or dirstats element, or Rgetattr's own) at
 * fixed offsets, checking its bounds and its u64 fields' range once for the whole body
 * instead of field by field. A body that is truncated or holds a value out of range is
 * read by the generic readBody instead, so that the error names the field exactly as
 * before; a well-formed one gives the same object.
 */
function readAttr(r: Reader, what: string): Record<string, unknown> {
  const b = r.buf, p = r.pos;
  let fits = r.ok && r.end - p >= ATTR_SIZE;
  for (let o = ATTR_U64_FIRST; fits && o <= ATTR_U64_LAST; o += 8) fits = b.readUInt32LE(p + o + 4) <= 0x1fffff;
  if (!fits) return readBody(r, attrEntry(), what);
  r.pos = p + ATTR_SIZE;
  const u64 = (o: number): number => b.readUInt32LE(p + o + 4) * 0x100000000 + b.readUInt32LE(p + o);
  return {
    valid: (b.readUInt32LE(p + 4) & 0x1fffff) * 0x100000000 + b.readUInt32LE(p),
    qid: { type: b[p + 8], version: b.readUInt32LE(p + 9), path: b.readBigUInt64LE(p + 13) },
    mode: b.readUInt32LE(p + 21), uid: b.readUInt32LE(p + 25), gid: b.readUInt32LE(p + 29),
    nlink: u64(33), rdev: u64(41), size: u64(49), blksize: u64(57), blocks: u64(65),
    atimeSec: u64(73), atimeNsec: u64(81), mtimeSec: u64(89), mtimeNsec: u64(97),
    ctimeSec: u64(105), ctimeNsec: u64(113), btimeSec: u64(121), btimeNsec: u64(129),
    gen: big64(b, p + 137), dataVersion: big64(b, p + 145),
  };
}

/** big64 reads a u64 as a BigInt, making none for 0 (gen and data_version, which the
 * gofer leaves 0: a listing's entries then cost no BigInt each for them). */
function big64(b: Buffer, at: number): bigint {
  return b.readUInt32LE(at) === 0 && b.readUInt32LE(at + 4) === 0 ? 0n : b.readBigUInt64LE(at);
}

/** writeAttr writes one Rgetattr body with one bounds check (as writeBody would field by field). */
function writeAttr(w: Writer, a: Record<string, unknown>): void {
  w.reserve(ATTR_SIZE);
  const b = w.buf, p = w.pos;
  const u64 = (o: number, v: unknown): void => {
    const n = v as number;
    b.writeUInt32LE(n % 0x100000000 >>> 0, p + o);
    b.writeUInt32LE(Math.floor(n / 0x100000000) >>> 0, p + o + 4);
  };
  const q = a.qid as Qid;
  u64(0, a.valid);
  b[p + 8] = q.type & 0xff;
  b.writeUInt32LE(q.version >>> 0, p + 9);
  b.writeBigUInt64LE(BigInt.asUintN(64, q.path), p + 13);
  b.writeUInt32LE((a.mode as number) >>> 0, p + 21);
  b.writeUInt32LE((a.uid as number) >>> 0, p + 25);
  b.writeUInt32LE((a.gid as number) >>> 0, p + 29);
  u64(33, a.nlink); u64(41, a.rdev); u64(49, a.size); u64(57, a.blksize); u64(65, a.blocks);
  u64(73, a.atimeSec); u64(81, a.atimeNsec); u64(89, a.mtimeSec); u64(97, a.mtimeNsec);
  u64(105, a.ctimeSec); u64(113, a.ctimeNsec); u64(121, a.btimeSec); u64(129, a.btimeNsec);
  b.writeBigUInt64LE(BigInt.asUintN(64, a.gen as bigint), p + 137);
  b.writeBigUInt64LE(BigInt.asUintN(64, a.dataVersion as bigint), p + 145);
  w.pos = p + ATTR_SIZE;
}

/** readBody reads the fields of `entry` into an object (what names the field in errors). */
function readBody(r: Reader, entry: Entry, what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, kind] of entry.fields) out[field] = readField(r, kind, `${what}.${field}`);
  return out;
}

/** writeBody writes the fields of `entry` from `v`. */
function writeBody(w: Writer, entry: Entry, v: Record<string, unknown>): void {
  for (const [field, kind] of entry.fields) writeField(w, kind, v[field]);
}

/**
 * decode parses one whole frame (size[4] type[1] tag[2] body) starting at `start`.
 * `frame` must hold exactly the frame's bytes from `start` to `start + size`.
 */
export function decode(frame: Buffer, start = 0, end = frame.length): Message {
  if (end - start < HEADER_SIZE) throw new DecodeError(`frame of ${end - start} bytes is shorter than a header`, undefined);
  const size = frame.readUInt32LE(start);
  if (size !== end - start) throw new DecodeError(`frame size field ${size} does not match its ${end - start} bytes`, undefined);
  const type = frame[start + 4];
  const tag = frame.readUInt16LE(start + 5);
  const entry = byType[type];
  if (!entry) throw new DecodeError(`unknown message type ${type}`, tag);
  const r = new Reader(frame, start + HEADER_SIZE, end);
  const msg: Record<string, unknown> = { kind: entry.name, tag };
  if (entry === ATTR_ENTRY) Object.assign(msg, readAttr(r, entry.name));
  else for (const [field, kind] of entry.fields) msg[field] = readField(r, kind, `${entry.name}.${field}`);
  if (!r.ok) throw new DecodeError(r.problem, tag);
  if (r.remaining !== 0) throw new DecodeError(`${entry.name}: ${r.remaining} trailing bytes`, tag);
  return msg as Message;
}

/** encodeInto appends the frame of `msg` to `w` and returns its length. */
export function encodeInto(w: Writer, msg: Message): number {
  const entry = byName.get(msg.kind);
  if (!entry) throw new TypeError(`cannot encode unknown 9p message ${String(msg.kind)}`);
  const start = w.pos;
  w.u32(0);
  w.u8(entry.type);
  w.u16(msg.tag);
  if (entry === ATTR_ENTRY) writeAttr(w, msg as unknown as Record<string, unknown>);
  else writeBody(w, entry, msg as unknown as Record<string, unknown>);
  const size = w.pos - start;
  w.buf.writeUInt32LE(size, start);
  return size;
}

/** encode returns the frame of one message. */
export function encode(msg: Message): Buffer {
  const w = new Writer(64);
  encodeInto(w, msg);
  return w.bytes();
}

/** allMessageNames lists every message of the table (for tests and tools). */
export function allMessageNames(): MsgName[] {
  return [...byName.keys()];
}

/** fieldsOf returns a message's fields in wire order (for tests and tools). */
export function fieldsOf(name: MsgName): ReadonlyArray<readonly [string, FieldKind]> {
  return byName.get(name)!.fields;
}
