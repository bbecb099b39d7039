/**
 * A sandbox's boot spawns one stub process, its init's (the phase sums count each spawn
 * of the ptrace and systrap platforms as `stubs:spawned`): not one more to read the
 * platform's initial FP state, nor one for an address space that exec replaces at once
 * (sentry/kernel/spawn.ts; three before).
 */
import { OciRuntime, requireSandboxPrerequisites, runWithPhases, TVISOR } from './harness';

describe('stubs spawned at boot', () => {
  let rt: OciRuntime;
  beforeAll(() => requireSandboxPrerequisites('boot-stubs'));
  beforeEach(() => { rt = new OciRuntime('tvisor-boot-stubs', TVISOR); });
  afterEach(() => { rt.cleanup(); });

  test('a container whose init forks nothing costs one stub', () => {
    const bundle = rt.bundle('b', ['true']);
    const run = runWithPhases(rt, bundle, `boot-stubs-${process.pid}`);
    expect({ status: run.result.status, stderr: run.result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.phases.get('sentry')?.['stubs:spawned']).toEqual([1, 0]);
  });
});
