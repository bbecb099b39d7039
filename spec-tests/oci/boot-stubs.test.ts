/**
 * A sandbox's boot spawns one stub process, its init's (the phase sums count each spawn
 * of the ptrace and systrap platforms as `stubs:spawned`): not one more to read the
 * platform's initial FP state, nor one for an address space that exec replaces at once
 * (sentry/kernel/spawn.ts; three before). Without --platform the sentry first runs the
 * default platform's self-check (platform/self-check.ts: openDefaultPlatform), which costs
 * one stub more, except on Linux 6.11 and later, where the default is ptrace unchecked.
 */
import * as os from 'node:os';
import { kernelHasUretprobe } from '../../platform/self-check';
import { OciRuntime, requireSandboxPrerequisites, runWithPhases, TVISOR } from './harness';

describe('stubs spawned at boot', () => {
  let rt: OciRuntime;
  beforeAll(() => requireSandboxPrerequisites('boot-stubs'));
  beforeEach(() => { rt = new OciRuntime('tvisor-boot-stubs', TVISOR); });
  afterEach(() => { rt.cleanup(); });

  test('a container whose init forks nothing costs one stub, two where the default platform is checked first', () => {
    const bundle = rt.bundle('b', ['true']);
    // The check runs only where the default is not decided without it (Linux 6.11 and later: ptrace).
    const checked = process.env.TVISOR_PLATFORM === undefined && !kernelHasUretprobe(os.release());
    const run = runWithPhases(rt, bundle, `boot-stubs-${process.pid}`);
    expect({ status: run.result.status, stderr: run.result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.phases.get('sentry')?.['stubs:spawned']).toEqual([checked ? 2 : 1, 0]);
  });
});
