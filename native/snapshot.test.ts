import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { cpuTag, flagsTag, nodeArgs, snapshotBlobName } from './snapshot';

// Start-up snapshots end to end, in a tree of their own: a small bundle (as dist/gofer.js,
// a name bin/tvisor knows) built into a blob by scripts/build-snapshot.mjs and started
// through a copy of bin/tvisor, as the runtime starts the sandbox's processes.
const repo = path.resolve(__dirname, '..');
const launcher = path.join(repo, 'scripts', 'tvisor-launcher.js');
const builder = path.join(repo, 'scripts', 'build-snapshot.mjs');

/** tree makes a tree with bin/tvisor and dist/gofer.js bundled from `source` (a TS module exporting main). */
function tree(source: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-snapshot-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  // koffi is found beside dist/, as in the repository.
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  fs.copyFileSync(launcher, path.join(dir, 'bin', 'tvisor'));
  fs.writeFileSync(path.join(dir, 'probe.ts'), source);
  buildSync({
    entryPoints: [path.join(dir, 'probe.ts')], outfile: path.join(dir, 'dist', 'gofer.js'), absWorkingDir: dir,
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['koffi', '*.node'], logLevel: 'silent',
    nodePaths: [path.join(repo, 'node_modules')],
  });
  return dir;
}

function buildBlob(dir: string): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, [builder, 'gofer'], { cwd: dir, encoding: 'utf8' });
}

/** start runs the tree's gofer bundle as the runtime would, and returns what its main printed. */
type Started = { startedAt: number; fallback?: string; errno: number; fromSnapshot: boolean };
function start(dir: string): Started {
  const out = execFileSync(process.execPath, [...nodeArgs(path.join(dir, 'bin', 'tvisor'), 'gofer', []), path.join(dir, 'bin', 'tvisor'), 'gofer'], { encoding: 'utf8' });
  return JSON.parse(out) as Started;
}

const PROBE = `
import { atProcessStart, snapshotFallback } from ${JSON.stringify(path.join(repo, 'native', 'snapshot'))};
import koffi from ${JSON.stringify(path.join(repo, 'native', 'koffi'))};
let startedAt = 0;
atProcessStart(() => { startedAt = Date.now(); });
export function main(): number {
  // koffi loads here, after the start (from the snapshot: through the require bin/tvisor hands it).
  const fromSnapshot = (globalThis as Record<symbol, unknown>)[Symbol.for('tvisor.snapshot')] !== undefined;
  process.stdout.write(JSON.stringify({ startedAt, fallback: snapshotFallback(), errno: koffi.errno(), fromSnapshot }));
  return 0;
}
`;

describe('start-up snapshots', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('starts a bundle from its blob, runs atProcessStart callbacks in the new process and loads koffi after', () => {
    const dir = tree(PROBE);
    dirs.push(dir);
    const built = buildBlob(dir);
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    const blob = path.join(dir, 'dist', snapshotBlobName('gofer', []));
    expect(fs.existsSync(blob)).toBe(true);
    expect(nodeArgs(path.join(dir, 'bin', 'tvisor'), 'gofer', [])).toEqual(['--snapshot-blob', blob]);
    const before = Date.now();
    const r = start(dir);
    // The builder's value would be older than this run: the callback ran again at start.
    expect(r.startedAt).toBeGreaterThanOrEqual(before);
    expect(r.fromSnapshot).toBe(true);
    expect(r.fallback).toBeUndefined();
    expect(typeof r.errno).toBe('number');
  });

  it('loads the bundle itself, saying why, when the blob was made of another build of it', () => {
    const dir = tree(PROBE);
    dirs.push(dir);
    expect(buildBlob(dir).status).toBe(0);
    const bundle = path.join(dir, 'dist', 'gofer.js');
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(bundle, later, later);
    const before = Date.now();
    const r = start(dir);
    expect(r.fallback).toMatch(/start-up snapshot is stale \(.*gofer\.js was rebuilt after it\)/);
    expect(r.startedAt).toBeGreaterThanOrEqual(before);
  });

  it('passes no --snapshot-blob when there is no blob for this Node and these flags', () => {
    const dir = tree(PROBE);
    dirs.push(dir);
    const tvisor = path.join(dir, 'bin', 'tvisor');
    expect(nodeArgs(tvisor, 'gofer', ['--max-old-space-size=256'])).toEqual(['--max-old-space-size=256']);
    const plain = start(dir);
    expect(plain.fromSnapshot).toBe(false);
    expect(plain.fallback).toBeUndefined();
    // Another Node's blob is not taken (V8 would refuse it and exit).
    fs.writeFileSync(path.join(dir, 'dist', snapshotBlobName('gofer', [], 'v0.0.0')), '');
    expect(nodeArgs(tvisor, 'gofer', [])).toEqual([]);
    // Nor one made on a CPU with other features (a QEMU guest of this host's tree): the name carries this CPU's.
    expect(cpuTag()).toMatch(/^-[0-9a-f]+$/);
    expect(snapshotBlobName('gofer', [])).toBe(`gofer.${process.version}${cpuTag()}.blob`);
    fs.writeFileSync(path.join(dir, 'dist', `gofer.${process.version}-0.blob`), '');
    expect(nodeArgs(tvisor, 'gofer', [])).toEqual([]);
    expect(flagsTag([])).toBe('');
    expect(flagsTag(['--max-old-space-size=256'])).toMatch(/^-[0-9a-f]+$/);
  });

  it('refuses to build a snapshot of a bundle that reads the running process at its top level, naming the module', () => {
    const dir = tree(`
import * as os from 'node:os';
export const ram = os.totalmem();
export function main(): number { return 0; }
`);
    dirs.push(dir);
    const r = buildBlob(dir);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/build-snapshot: gofer: os\.totalmem\(\) at the top level of probe\.ts/);
    expect(fs.readdirSync(path.join(dir, 'dist')).filter((f) => f.includes('.blob'))).toEqual([]);
  });

  it('refuses to build a snapshot of a bundle that loads a native module at its top level', () => {
    const dir = tree(`
import koffi from ${JSON.stringify(path.join(repo, 'native', 'koffi'))};
export const errno = koffi.errno();
export function main(): number { return 0; }
`);
    dirs.push(dir);
    const r = buildBlob(dir);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/build-snapshot: gofer: process\.dlopen\(\) at the top level of .*native\/koffi\.ts.* < probe\.ts/);
  });
});
