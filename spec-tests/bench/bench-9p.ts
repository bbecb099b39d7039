/**
 * bench-9p: tvisor's gofer against Debian's diod, the same tree, the same client, one run.
 *
 *   make bench-9p          (BENCH_SECONDS=1.5 per measurement by default)
 *
 * Serves a temporary tree (1000 files of 4 KiB, one 64 MiB file) from both servers and
 * measures, through tvisor's 9P client: walk+getattr+clunk, open+read 4 KiB+clunk, and
 * sequential reads of the 64 MiB file. diod speaks TCP only (loopback here); the gofer
 * listens on a Unix socket, measured both through the plain-9P stream transport (the
 * like-for-like line) and through the sentry's descriptor transport (9P2000.L.fd).
 * Small operations run 16 at a time, sequential reads keep 8 Treads in flight.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readAll, type Client } from '../../gofer/p9/client';
import { IOHDRSZ } from '../../gofer/p9/messages';
import { diodMissing, goferMissing, startDiod, startGofer, type Peer } from '../9p/peers';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 8);
const DIRS = 20, FILES = 50, SMALL = 4096, BIG = 64 << 20;
const O_RDONLY = 0;

interface Figure {
  count: number;
  seconds: number;
  /** unit is what count counts: 'ops' or 'MB' (10^6 bytes). */
  unit: 'ops' | 'MB';
}
const rate = (f: Figure) => f.count / f.seconds;

function makeTree(): { dir: string; paths: string[][] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-bench-9p-'));
  const paths: string[][] = [];
  const data = Buffer.alloc(SMALL, 0x61);
  for (let d = 0; d < DIRS; d++) {
    fs.mkdirSync(path.join(dir, `d${d}`));
    for (let f = 0; f < FILES; f++) {
      fs.writeFileSync(path.join(dir, `d${d}`, `f${f}`), data);
      paths.push([`d${d}`, `f${f}`]);
    }
  }
  const big = Buffer.allocUnsafe(BIG);
  for (let i = 0; i < BIG; i += 4) big.writeUInt32LE(i, i);
  fs.writeFileSync(path.join(dir, 'big.bin'), big);
  return { dir, paths };
}

/** timed runs `op` (which returns the units it did) until SECONDS pass, `parallel` at a time. */
async function timed(unit: Figure['unit'], parallel: number, op: (i: number) => Promise<number> | number): Promise<Figure> {
  const warm = Date.now() + 200;
  let i = 0;
  while (Date.now() < warm) await op(i++);
  let count = 0;
  const start = process.hrtime.bigint();
  const deadline = Date.now() + SECONDS * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const n = await op(i++); // (not `count += await ...`: that reads count before the await)
      count += n;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return { count, seconds: Number(process.hrtime.bigint() - start) / 1e9, unit };
}

/**
 * Mode is how the client drives the server: 'async' (promises, 16 operations or 8 Treads
 * in flight), 'serial' (promises, one request at a time), 'sync' (synchronous calls, one
 * at a time: what the sentry does), 'hostfd' (sync, with I/O on the passed descriptor).
 */
type Mode = 'async' | 'serial' | 'sync' | 'hostfd';

async function measure(c: Client, root: number, paths: string[][], mode: Mode): Promise<Record<string, Figure>> {
  const pick = (i: number) => paths[(i * 7919) % paths.length];
  const buf = Buffer.allocUnsafe(1 << 20);
  const out: Record<string, Figure> = {};
  const promises = mode === 'async' || mode === 'serial';
  const par = mode === 'async' ? CONCURRENCY : 1;
  if (mode !== 'hostfd') {
    out.walk = await timed('ops', par, promises
      ? async (i) => { const w = await c.walk(root, pick(i)); await c.getattr(w.fid); await c.clunk(w.fid); return 1; }
      : (i) => { const w = c.sync.walk(root, pick(i)); c.sync.getattr(w.fid); c.sync.clunk(w.fid); return 1; });
  }
  out.open = await timed('ops', par, promises
    ? async (i) => {
      const w = await c.walk(root, pick(i));
      const o = await c.lopen(w.fid, O_RDONLY);
      if (o.hostFd >= 0) fs.closeSync(o.hostFd);
      if ((await c.read(w.fid, 0, SMALL)).length !== SMALL) throw new Error('short read');
      await c.clunk(w.fid);
      return 1;
    }
    : (i) => {
      const w = c.sync.walk(root, pick(i));
      const o = c.sync.lopen(w.fid, O_RDONLY);
      const n = mode === 'hostfd' ? fs.readSync(o.hostFd, buf, 0, SMALL, 0) : c.sync.read(w.fid, 0, SMALL).length;
      if (o.hostFd >= 0) fs.closeSync(o.hostFd);
      if (n !== SMALL) throw new Error('short read');
      c.sync.clunk(w.fid);
      return 1;
    });
  // Sequential reads: round and round the file, one msize-sized Tread (or 1 MiB pread) at a time per reader.
  const big = promises ? await c.walk(root, 'big.bin') : c.sync.walk(root, 'big.bin');
  const o = promises ? await c.lopen(big.fid, O_RDONLY) : c.sync.lopen(big.fid, O_RDONLY);
  if (promises && (await readAll(c, big.fid, BIG + 1, WINDOW)).length !== BIG) throw new Error('big.bin: wrong size');
  const chunk = mode === 'hostfd' ? buf.length : c.msize - IOHDRSZ;
  let next = 0;
  const nextRange = () => {
    const off = next;
    const len = Math.min(chunk, BIG - off);
    next = (off + len) % BIG;
    return [off, len];
  };
  const check = (n: number, len: number) => {
    if (n !== len) throw new Error(`short read: ${n} of ${len}`);
    return n / 1e6;
  };
  out.seq = await timed('MB', mode === 'async' ? WINDOW : 1, promises
    ? async () => { const [off, len] = nextRange(); return check((await c.read(big.fid, off, len)).length, len); }
    : () => {
      const [off, len] = nextRange();
      return check(mode === 'hostfd' ? fs.readSync(o.hostFd, buf, 0, len, off) : c.sync.read(big.fid, off, len).length, len);
    });
  if (o.hostFd >= 0) fs.closeSync(o.hostFd);
  return out;
}

const LABELS: Record<string, string> = { walk: 'walk+getattr+clunk', open: 'open+read 4 KiB+clunk', seq: 'sequential read' };

function show(f: Figure): string {
  const r = rate(f);
  return `${String(Math.round(f.count)).padStart(7)} ${f.unit} in ${f.seconds.toFixed(2)} s = ${(f.unit === 'MB' ? r.toFixed(0) : Math.round(r).toString()).padStart(6)} ${f.unit}/s`;
}

async function main(): Promise<number> {
  const missing = diodMissing() || goferMissing();
  if (missing) {
    console.error(`bench-9p: cannot run: ${missing}`);
    return 1;
  }
  const t0 = Date.now();
  const { dir, paths } = makeTree();
  const diod = await startDiod(dir);
  const gofer = await startGofer(dir);
  const rows: Array<{ name: string; base: number; figures: Record<string, Figure> }> = [];
  const run = async (peer: Peer, name: string, mode: Mode, msize: number, base: number, opts = {}) => {
    const c = await peer.connect({ msize, ...opts });
    const root = (await c.attach(peer.aname)).fid;
    const label = `${name}, ${c.dialect}, msize ${c.msize >> 10} KiB`;
    console.log(`${label}:`);
    const figures = await measure(c, root, paths, mode);
    for (const [k, f] of Object.entries(figures)) console.log(`  ${LABELS[k].padEnd(24)} ${show(f)}`);
    rows.push({ name: label, base, figures });
    c.close();
    return c.msize;
  };
  try {
    console.log(`bench-9p: ${DIRS * FILES} files of ${SMALL} B and one ${BIG >> 20} MiB file in ${dir}; ${SECONDS} s per figure`);
    console.log(`small ops ${CONCURRENCY} in flight, sequential reads ${WINDOW} Treads in flight (async lines)`);
    console.log('diod listens on TCP loopback only; the gofer on a Unix socket\n');
    // Rows 0 and 1 are the baselines: ours with requests in flight against diod's row 0,
    // ours one request at a time against row 1.
    const msize = await run(diod, 'diod (tcp, async)', 'async', 1 << 20, -1);
    await run(diod, 'diod (tcp, one request at a time)', 'serial', 1 << 20, -1);
    await run(gofer.stream, 'ours (unix stream, async)', 'async', msize, 0);
    await run(gofer.fd, 'ours (unix fd, async)', 'async', msize, 0, { fdPassing: false });
    await run(gofer.fd, 'ours (unix fd, async)', 'async', 1 << 20, 0);
    await run(gofer.fd, 'ours (unix fd, sync: the sentry)', 'sync', msize, 1, { fdPassing: false });
    await run(gofer.fd, 'ours (unix fd, sync: the sentry)', 'sync', 1 << 20, 1);
    await run(gofer.fd, 'ours (unix fd, sync, I/O on the passed host fd)', 'hostfd', 1 << 20, 1);
  } finally {
    await diod.stop();
    await gofer.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nratios ours/diod (targets: sequential read >= 1x, small ops >= 0.5x):`);
  for (const row of rows.filter((r) => r.base >= 0)) {
    const base = rows[row.base];
    const parts = Object.entries(row.figures).map(([k, f]) => {
      const ratio = rate(f) / rate(base.figures[k]);
      const ok = ratio >= (k === 'seq' ? 1 : 0.5) ? 'ok' : 'BELOW TARGET';
      return `${LABELS[k]} ${ratio.toFixed(2)}x ${ok}`;
    });
    console.log(`  ${row.name}\n      vs ${base.name}:\n      ${parts.join('; ')}`);
  }
  console.log(`\ntotal ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(`bench-9p: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
