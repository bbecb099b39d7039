/**
 * An idle sandbox's sentry collects its boot garbage once, soon after its init starts
 * (native/idle-gc.ts: a full GC and malloc_trim at the first idle window, counted in the
 * phase sums as `idle-gc`). The gofer does not collect (it gained nothing from it,
 * measured).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, OciRuntime } from './harness';
import { withPhases } from '../bench/walk-phases';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');

describe('idle collection of the boot garbage', () => {
  let rt: OciRuntime;
  beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error('the idle-gc test needs root (namespaces, mounts)');
    if (!fs.existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing (install busybox-static)`);
    if (!fs.existsSync(TVISOR)) throw new Error(`${TVISOR} is missing (run make)`);
  });
  beforeEach(() => { rt = new OciRuntime('tvisor-idle-gc', TVISOR); });
  afterEach(() => { rt.cleanup(); });

  const runWithPhases = (args: string[], id: string) => withPhases(() => {
    const bundle = rt.bundle(id, args);
    // The environment explicitly: jest's process.env is not the one a child inherits.
    const r = spawnSync(TVISOR, [...rt.globals, 'run', '--bundle', bundle, `${id}-${process.pid}`], { encoding: 'utf8', timeout: 60_000, env: { ...process.env } });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1, timedOut: r.error !== undefined };
  });

  test('a sentry whose container sleeps collects once', () => {
    const run = runWithPhases(['sleep', '2'], 'idle-gc-sleep');
    expect({ status: run.result.status, stderr: run.result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.phases.get('sentry')?.['idle-gc']?.[0]).toBe(1);
    expect(run.phases.get('gofer')?.['idle-gc']).toBeUndefined();
  });
});
