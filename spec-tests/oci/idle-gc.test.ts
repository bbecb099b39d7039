/**
 * An idle sandbox's sentry collects its boot garbage once, soon after its init starts
 * (native/idle-gc.ts: a full GC and malloc_trim at the first idle window, counted in the
 * phase sums as `idle-gc`). The gofer does not collect (it gained nothing from it,
 * measured).
 */
import { OciRuntime, requireSandboxPrerequisites, runWithPhases, TVISOR } from './harness';

describe('idle collection of the boot garbage', () => {
  let rt: OciRuntime;
  beforeAll(() => requireSandboxPrerequisites('idle-gc'));
  beforeEach(() => { rt = new OciRuntime('tvisor-idle-gc', TVISOR); });
  afterEach(() => { rt.cleanup(); });

  const runArgs = (args: string[], id: string) => runWithPhases(rt, rt.bundle(id, args), `${id}-${process.pid}`);

  test('a sentry whose container sleeps collects once', () => {
    const run = runArgs(['sleep', '2'], 'idle-gc-sleep');
    expect({ status: run.result.status, stderr: run.result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.phases.get('sentry')?.['idle-gc']?.[0]).toBe(1);
    expect(run.phases.get('gofer')?.['idle-gc']).toBeUndefined();
  });
});
