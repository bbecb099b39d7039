/**
 * Fuzz test: at least 100,000 random and mutated frames to a gofer. It must answer each
 * with a reply (Rlerror for the bad ones) or close that one connection; it must never
 * crash, never leak descriptors once connections close, and never change anything
 * outside its export (a sibling directory and the export's parent are checked).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allMessageNames, encode, fieldsOf, type FieldKind, type Message, type MsgName } from '../../gofer/p9';
import { built, expectKind, GoferProcess, makeEscapeTree, snapshot, type RawConn } from './harness';

const describeBuilt = built ? describe : describe.skip;
if (!built) console.warn('skipping gofer fuzz test: bin/tvisor is not built (run make)');

const FRAMES = 100_000;
const BATCH = 400;
/** WALKSTATS more frames are all Twalkstat (9P2000.L.fd's own message). */
const WALKSTATS = 20_000;
/** READDIRSTATS more frames are all Treaddirstat (9P2000.L.fd's own message). */
const READDIRSTATS = 5_000;

/** A small deterministic PRNG (xorshift32), so that a failure can be replayed by seed. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
  return { next, int: (n: number) => next() % n, pick: <T>(a: readonly T[]): T => a[next() % a.length] };
}

const NAMES = ['..', '.', 'a', 'b', 'sub', 'file', 'link-out', 'link-up', 'x/y', '../outside', 'n\0ul', '', 'z'.repeat(300), 'secret.txt', 'outside'];
const REQUESTS = allMessageNames().filter((n) => n.startsWith('T'));

function value(r: ReturnType<typeof rng>, kind: FieldKind, field: string): unknown {
  switch (kind) {
    case 'u8': return r.int(4);
    case 'u16': return r.int(8) === 0 ? r.int(0x10000) : r.int(32);
    case 'u32':
    case 'u32opt':
      if (/fid/i.test(field)) return r.int(10) === 0 ? 0xffffffff : r.int(12);
      if (field === 'flags') return r.pick([0, 1, 2, 0o1000, 0o100, 0o200000, 0o400000, r.next()]);
      if (field === 'mode') return r.pick([0o644, 0o755, 0o10644, 0o20666, 0o60600, 0o140755, r.next()]);
      if (field === 'count' || field === 'msize') return r.pick([0, 1, 100, 4096, 65536, 0x7fffffff, 0xffffffff]);
      return r.int(8) === 0 ? r.next() : r.int(70000);
    case 'u64': return r.pick([0, 1, 4095, 4096, 1 << 20, 2 ** 40, 2 ** 53 - 1]);
    case 'mask': return r.pick([0, 0x7ff, 0x3fff, 0xffffffff]);
    case 'u64b': return BigInt(r.next()) * BigInt(r.next());
    case 'str': return field === 'version' ? r.pick(['9P2000.L', '9P2000.L.fd', '9P2000', 'bogus']) : r.pick(NAMES);
    case 'strs': return Array.from({ length: r.int(6) }, () => r.pick(NAMES));
    case 'qid': return { type: r.int(256), version: r.next(), path: BigInt(r.next()) };
    case 'qids': return [];
    case 'u32s': return Array.from({ length: r.int(6) }, () => (r.int(5) === 0 ? 0xffffffff : r.int(12)));
    case 'attrs':
    case 'dirstats':
    case 'notes': return [];
    case 'data': return Buffer.alloc(r.int(64), r.int(256));
  }
}

/** frame builds one request: well-formed, or mutated in one of several ways. */
function frame(r: ReturnType<typeof rng>, tag: number, only?: MsgName): { bytes: Buffer; answerable: boolean } {
  const name: MsgName = only ?? (r.int(20) === 0 ? r.pick(allMessageNames()) : r.pick(REQUESTS));
  const msg: Record<string, unknown> = { kind: name, tag };
  for (const [f, k] of fieldsOf(name)) msg[f] = value(r, k, f);
  if (name === 'Tversion' && r.int(2) === 0) msg.tag = 0xffff;
  if (name === 'Treaddirstat' && r.int(2) === 0) {
    // Often well formed: the attached fid (a directory), a small count.
    msg.fid = r.int(2);
    msg.offset = r.int(4);
    msg.count = 1 + r.int(20);
  }
  if (name === 'Twalkstat' && r.int(2) === 0) {
    // Often well formed: from the attached fid, one new fid (or none) per name.
    msg.fid = r.int(2);
    msg.newfids = (msg.names as string[]).map(() => (r.int(3) === 0 ? 0xffffffff : 12 + r.int(40)));
  }
  let bytes = encode(msg as Message);
  // A Tnotify may be a long poll, answered only when a watched file changes: never awaited.
  if (name === 'Tnotify') return { bytes, answerable: false };
  switch (r.int(10)) {
    case 0: { // flip random bytes in the body (size and tag kept)
      bytes = Buffer.from(bytes);
      for (let i = 0; i < 1 + r.int(4); i++) if (bytes.length > 7) bytes[7 + r.int(bytes.length - 7)] = r.int(256);
      return { bytes, answerable: true };
    }
    case 1: { // truncated body with a consistent size field
      const cut = 7 + r.int(Math.max(1, bytes.length - 7));
      bytes = Buffer.from(bytes.subarray(0, cut));
      bytes.writeUInt32LE(cut, 0);
      return { bytes, answerable: true };
    }
    case 2: { // unknown type
      bytes = Buffer.from(bytes);
      bytes[4] = r.pick([0, 1, 6, 99, 200, 255]);
      return { bytes, answerable: true };
    }
    default:
      return { bytes, answerable: true };
  }
}

describeBuilt('gofer fuzz', () => {
  it(`survives ${FRAMES} random and mutated frames`, async () => {
    const { base, exp, outside } = makeEscapeTree('tvisor-fuzz-');
    const outsideBefore = snapshot(outside);
    // The qid path of a file of the export's device is its inode number (gofer/server/file.ts qidOf).
    const outsideInos = new Set([outside, path.join(outside, 'secret.txt')].map((p) => fs.statSync(p, { bigint: true }).ino));
    const baseBefore = fs.readdirSync(base).sort();

    const gofer = await GoferProcess.start(['--root', exp]);
    const fdsIdle = gofer.openFds();
    const r = rng(0x7f15);
    let sent = 0, replies = 0, closes = 0, walkstats = 0;
    const answered = { Twalkstat: 0, Treaddirstat: 0 };
    let conn: RawConn | null = null;
    // A well-behaved client stays connected throughout: closing a bad connection must
    // not disturb another one.
    const bystander = await gofer.connect();
    await bystander.handshake();
    try {
      while (sent < FRAMES) {
        if (!conn || conn.closed) {
          conn = await gofer.connect();
          // Most connections start well, so the fuzz reaches states past the handshake;
          // half of those in 9P2000.L.fd, whose own messages (Twalkstat) then get handled.
          const how = r.int(8);
          if (how >= 2) await conn.handshake('', 65536, how >= 5 ? '9P2000.L.fd' : '9P2000.L');
        }
        const tags: number[] = [];
        const chunks: Buffer[] = [];
        for (let i = 0; i < BATCH && sent < FRAMES; i++, sent++) {
          const tag = conn.allocTag();
          const f = frame(r, tag);
          chunks.push(f.bytes);
          const t = f.bytes.length >= 7 ? f.bytes.readUInt16LE(5) : -1;
          if (f.answerable && t === tag) tags.push(tag);
        }
        // One connection in 50 gets a frame whose size field is impossible.
        // (too small for a header, larger than the msize, or absurd).
        if (r.int(50) === 0) {
          const bad = Buffer.from([0, 0, 0, 0, 100, 1, 0]);
          // (Above the largest msize the gofer ever accepts: fuzzed Tversions renegotiate it.)
          bad.writeUInt32LE(r.pick([0, 3, 6, 0x7fffffff, (1 << 20) + 1]), 0);
          chunks.push(bad);
        }
        const c = conn;
        const got = await Promise.race([
          c.sendRaw(Buffer.concat(chunks), tags),
          c.whenClosed().then(() => null),
        ]);
        if (got) {
          replies += got.length;
          for (const m of got) {
            expect(m.tag).toBeGreaterThan(0);
            if (m.kind === 'Rwalkstat') walkstats++;
            // Nothing read comes from outside the export (the secret lives there).
            if (m.kind === 'Rread') expect(Buffer.from(m.data).includes('TOP SECRET')).toBe(false);
          }
        } else {
          closes++;
          expect(gofer.alive).toBe(true);
        }
        if (r.int(8) === 0) c.close();
      }
      conn?.close();
      // Then Twalkstat alone on attached 9P2000.L.fd connections (the random requests
      // above renegotiate too often for it to get far): well formed or mutated as above.
      // Treaddirstat likewise, fewer (each lists a directory).
      for (const [only, total, answer] of [['Twalkstat', WALKSTATS, 'Rwalkstat'], ['Treaddirstat', READDIRSTATS, 'Rreaddirstat']] as const) {
        for (let done = 0; done < total;) {
          const ws = await gofer.connect();
          await ws.handshake('', 65536, '9P2000.L.fd');
          const tags: number[] = [];
          const chunks: Buffer[] = [];
          for (let i = 0; i < BATCH && done < total; i++, done++) {
            const tag = ws.allocTag();
            const f = frame(r, tag, only);
            chunks.push(f.bytes);
            if (f.bytes.readUInt16LE(5) === tag) tags.push(tag);
          }
          const got = await Promise.race([ws.sendRaw(Buffer.concat(chunks), tags), ws.whenClosed().then(() => null)]);
          expect(gofer.alive).toBe(true);
          for (const m of got ?? []) {
            if (m.kind === answer) answered[only]++;
            else if (m.kind !== 'Rlerror') throw new Error(`${only} answered ${m.kind}`);
            // Nothing listed comes from outside the export (the fuzzed requests may make
            // files of the same names inside it: the inode numbers tell them apart).
            if (m.kind === 'Rreaddirstat') expect(m.entries.filter((e) => outsideInos.has(e.attr.qid.path))).toEqual([]);
          }
          ws.close();
        }
      }
      expect(gofer.alive).toBe(true);
      expect(bystander.closed).toBe(false);
      expectKind(await bystander.rpc({ kind: 'Tgetattr', fid: 0, requestMask: 0x7ff }), 'Rgetattr');
      bystander.close();
      // Once every connection is gone, the gofer holds what it held when idle.
      const deadline = Date.now() + 5000;
      while (gofer.openFds() > fdsIdle && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      expect(gofer.openFds()).toBe(fdsIdle);
      // A fresh client is still served.
      const fresh = await gofer.connect();
      await fresh.handshake();
      fresh.close();
    } finally {
      await gofer.stop();
    }
    console.log(`fuzz: ${sent} frames, ${WALKSTATS} Twalkstat and ${READDIRSTATS} Treaddirstat, ${replies} replies (${walkstats} Rwalkstat; ${answered.Twalkstat} Rwalkstat and ${answered.Treaddirstat} Rreaddirstat alone), ${closes} connections closed by the gofer`);
    expect(replies).toBeGreaterThan(FRAMES / 2);
    expect(walkstats + answered.Twalkstat).toBeGreaterThan(0); // the 9P2000.L.fd walk was reached, not only refused
    expect(answered.Treaddirstat).toBeGreaterThan(0); // and the listing
    expect(snapshot(outside)).toEqual(outsideBefore);
    expect(fs.readdirSync(base).sort()).toEqual(baseBefore);
    expect(gofer.stderr.join('')).not.toMatch(/failed: .*Error/);
    fs.rmSync(base, { recursive: true, force: true });
  }, 300_000);
});
