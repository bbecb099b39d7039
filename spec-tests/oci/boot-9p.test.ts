/**
 * A sandbox's boot switches the gofer connection's credentials (Tsetcreds) twice for a
 * busybox true: once to init's for its path walks, once back to container root's for the
 * sentry's own reads. Walking to a file of a listed directory (the PATH search through
 * /bin, /usr/bin...) as the task that is walking, not as container root (gofer-fs.ts's
 * fid), spares a switch to root and back per directory: 8 Tsetcreds before. The phase
 * sums count each synchronous 9P round trip as `9p:rt:<requests>`.
 */
import { OciRuntime, requireSandboxPrerequisites, runWithPhases, TVISOR } from './harness';

describe('9P round trips at boot', () => {
  let rt: OciRuntime;
  beforeAll(() => requireSandboxPrerequisites('boot-9p'));
  beforeEach(() => { rt = new OciRuntime('tvisor-boot-9p', TVISOR); });
  afterEach(() => { rt.cleanup(); });

  test('a busybox true found by runc\'s PATH costs two credential switches', () => {
    // runc spec's process: its PATH (true is found in the 5th directory, /bin) and its
    // capabilities, none of them a filesystem one (init's credentials differ from root's).
    const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    const bundle = rt.bundle('b', ['true'], (s) => {
      s.process!.env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'];
      s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps, ambient: caps };
    });
    const run = runWithPhases(rt, bundle, `boot-9p-${process.pid}`);
    expect({ status: run.result.status, stderr: run.result.stderr }).toEqual({ status: 0, stderr: '' });
    const sums = run.phases.get('sentry') ?? {};
    // The walks themselves still happen (the PATH search reached true).
    expect(sums['9p:rt:Twalkstat']?.[0]).toBeGreaterThan(0);
    expect(sums['9p:rt:Tsetcreds']?.[0]).toBe(2);
  });
});
