/**
 * A sandbox's boot spawns one stub process, its init's (the phase sums count each spawn
 * of the ptrace and systrap platforms as `stubs:spawned`): not one more to read the
 * platform's initial FP state, nor one for an address space that exec replaces at once
 * (sentry/kernel/spawn.ts; three before). Without --platform the sentry first runs the
 * default platform's self-check (platform/self-check.ts: openDefaultPlatform), which costs
 * one stub more.
 */
import { OciRuntime, requireSandboxPrerequisites, runWithPhases, TVISOR } from './harness';

describe('stubs spawned at boot', () => {
  let rt: OciRuntime;
  beforeAll(() => requireSandboxPrerequisites('boot-stubs'));
  beforeEach(() => { rt = new OciRuntime('tvisor-boot-stubs', TVISOR); });
  afterEach(() => { rt.cleanup(); });

  test('a container whose init forks nothing costs one stub with --platform, two without (the default\'s self-check)', () => {
    const bundle = rt.bundle('b', ['true']);
    const explicit = process.env.TVISOR_PLATFORM !== undefined;
    const run = runWithPhases(rt, bundle, `boot-stubs-${process.pid}`);
    expect({ status: run.result.status, stderr: run.result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.phases.get('sentry')?.['stubs:spawned']).toEqual([explicit ? 1 : 2, 0]);
  });
});
