/**
 * A sandbox's boot spawns one stub process, its init's (the phase sums count each spawn
 * of the ptrace and systrap platforms as `stubs:spawned`): not one more to read the
 * platform's initial FP state, nor one for an address space that exec replaces at once
 * (sentry/kernel/spawn.ts; three before).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { BUSYBOX, OciRuntime } from './harness';
import { withPhases } from '../bench/walk-phases';
import * as path from 'node:path';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');

describe('stubs spawned at boot', () => {
  let rt: OciRuntime;
  beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error('the boot-stubs test needs root (namespaces, mounts)');
    if (!fs.existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing (install busybox-static)`);
    if (!fs.existsSync(TVISOR)) throw new Error(`${TVISOR} is missing (run make)`);
  });
  beforeEach(() => { rt = new OciRuntime('tvisor-boot-stubs', TVISOR); });
  afterEach(() => { rt.cleanup(); });

  test('a container whose init forks nothing costs one stub', () => {
    const bundle = rt.bundle('b', ['true']);
    const run = withPhases(() => {
      // The environment explicitly: jest's process.env is not the one a child inherits.
      const r = spawnSync(TVISOR, [...rt.globals, 'run', '--bundle', bundle, `boot-stubs-${process.pid}`], { encoding: 'utf8', timeout: 60_000, env: { ...process.env } });
      return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1, timedOut: r.error !== undefined };
    });
    expect({ status: run.result.status, stderr: run.result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.phases.get('sentry')?.['stubs:spawned']).toEqual([1, 0]);
  });
});
