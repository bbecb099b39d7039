/**
 * An idle sandbox's sentry collects its boot garbage once, soon after its init starts
 * (native/idle-gc.ts: V8's memory-reducing collection and malloc_trim at the first idle
 * window, counted in the phase sums as `idle-gc`), and so does its gofer (idle by its
 * main thread's CPU time). A pod's sentry collects again after each member's start (what
 * the member's create and start left), as its debug log says.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OciRuntime, requireSandboxPrerequisites, runWithPhases, TVISOR } from './harness';

const SANDBOX = 'io.kubernetes.cri.container-type';
const SANDBOX_ID = 'io.kubernetes.cri.sandbox-id';
/** COLLECTED is the debug line of one idle collection (native/idle-gc.ts). */
const COLLECTED = /^\S+ debug (\S+): idle: collected the heap in [0-9.]+ ms, window [0-9]+$/;

/** collections counts the idle collections the debug log reports, by process. */
function collections(log: string): Record<string, number> {
  const out: Record<string, number> = {};
  const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
  for (const line of text.split('\n')) {
    const m = COLLECTED.exec(line);
    if (m) out[m[1]] = (out[m[1]] ?? 0) + 1;
  }
  return out;
}

/** waitForSentryCollections waits (bounded, 30 s) until the log reports `n` collections by the sentry. */
async function waitForSentryCollections(log: string, n: number): Promise<Record<string, number>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const seen = collections(log);
    if ((seen.sentry ?? 0) >= n || Date.now() > deadline) return seen;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('idle collection of the boot garbage', () => {
  let rt: OciRuntime;
  beforeAll(() => requireSandboxPrerequisites('idle-gc'));
  beforeEach(() => { rt = new OciRuntime('tvisor-idle-gc', TVISOR); });
  afterEach(() => { rt.cleanup(); });

  const runArgs = (args: string[], id: string) => runWithPhases(rt, rt.bundle(id, args), `${id}-${process.pid}`);

  test('a sentry and a gofer whose container sleeps collect once each', () => {
    const run = runArgs(['sleep', '2'], 'idle-gc-sleep');
    expect({ status: run.result.status, stderr: run.result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.phases.get('sentry')?.['idle-gc']?.[0]).toBe(1);
    expect(run.phases.get('gofer')?.['idle-gc']?.[0]).toBe(1);
  });

  test('a pod\'s sentry collects again after each member\'s start, once per start', async () => {
    const log = path.join(rt.dir, 'debug.log');
    const run = (...args: string[]) => {
      const r = rt.run('--debug-log', log, ...args);
      if (r.status !== 0) throw new Error(`tvisor ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    };
    const pauseId = `idle-gc-pause-${process.pid}`;
    run('create', '--bundle', rt.bundle('pause', ['sleep', '100000'], (s) => {
      s.annotations = { [SANDBOX]: 'sandbox', [SANDBOX_ID]: pauseId };
    }), pauseId);
    run('start', pauseId);
    expect((await waitForSentryCollections(log, 1)).sentry).toBe(1);
    const pausePid = rt.state(pauseId)!.pid as number;
    for (const [i, name] of ['a', 'b'].entries()) {
      const id = `idle-gc-${name}-${process.pid}`;
      run('create', '--bundle', rt.bundle(name, ['sleep', '100000'], (s) => {
        s.annotations = { [SANDBOX]: 'container', [SANDBOX_ID]: pauseId };
        s.linux!.namespaces = [...s.linux!.namespaces!.filter((n) => n.type !== 'network'), { type: 'network', path: `/proc/${pausePid}/ns/net` }];
      }), id);
      run('start', id);
      expect((await waitForSentryCollections(log, i + 2)).sentry).toBe(i + 2);
    }
    // An exec is no start: it arms nothing. (The gofer logs no debug lines here; its one
    // collection is counted by the first test's phase sums.)
    expect(rt.run('exec', `idle-gc-a-${process.pid}`, 'true').status).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(collections(log).sentry).toBe(3);
  });
});
