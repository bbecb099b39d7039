/**
 * The sentry starts from a V8 start-up snapshot when `make snapshots` has built one for
 * this build and its flags, else from its bundle and code cache (the default build, which
 * makes no blob: native/snapshot.ts), and what a snapshot must not carry from its build
 * is read at the sandbox's own start.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OciRuntime, requireSandboxPrerequisites, TVISOR } from './harness';
import { snapshotBlobName } from '../../native/snapshot';

const REPO = path.resolve(__dirname, '..', '..');

/** cmdlineOf returns a host process's argv (empty when it is gone). */
function cmdlineOf(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** blobOf returns the --snapshot-blob a Node command line starts from, if any. */
function blobOf(argv: string[]): string | undefined {
  const i = argv.indexOf('--snapshot-blob');
  return i >= 0 ? argv[i + 1] : undefined;
}

describe('tvisor start-up snapshots', () => {
  let rt: OciRuntime;
  beforeAll(() => {
    requireSandboxPrerequisites('snapshot');
  });
  beforeEach(() => { rt = new OciRuntime('tvisor-snapshot', TVISOR); });
  afterEach(() => { rt.cleanup(); });

  test('the sentry starts from its blob of this build and heap flag when there is one, else without', () => {
    const bundle = rt.bundle('b', ['sleep', '100']);
    const id = `snap-${process.pid}`;
    const r = rt.run('create', '--bundle', bundle, id);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const sentry = cmdlineOf(rt.state(id)!.pid);
    expect(sentry).toContain('sentry');
    // No memory limit in this bundle: no heap flag (sentry/limits.ts sentryNodeFlags).
    expect(sentry.find((a) => a.startsWith('--max-old-space-size='))).toBeUndefined();
    const blob = path.join(REPO, 'dist', snapshotBlobName('sentry', []));
    // `make` builds no blob (a stale one is removed with the bundles it was made of).
    expect(blobOf(sentry)).toBe(fs.existsSync(blob) ? blob : undefined);
  });

  test("the sandbox's clocks are read at its start, not at the snapshot's build", () => {
    const bundle = rt.bundle('b', ['sh', '-c', 'cat /proc/uptime; date +%s']);
    const before = Math.floor(Date.now() / 1000);
    const r = rt.run('run', '--bundle', bundle, `snap-up-${process.pid}`);
    const after = Math.ceil(Date.now() / 1000);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [uptime, now] = r.stdout.trim().split('\n');
    // The sandbox's uptime counts from its boot (a blob, where `make snapshots` built one,
    // predates this test), and its wall clock is the host's.
    expect(Number(uptime.split(' ')[0])).toBeLessThan(60);
    expect(Number(now)).toBeGreaterThanOrEqual(before);
    expect(Number(now)).toBeLessThanOrEqual(after);
  });
});
