/**
 * The environment of a sandbox's host processes: the sentry and the gofer get PATH and
 * glibc malloc's tuning (SANDBOX_MALLOC_ENV, sentry/limits.ts: one arena, fixed mmap and
 * trim thresholds, measured by `make profile-memory`), and nothing of the caller's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OciRuntime, requireSandboxPrerequisites, TVISOR } from './harness';
import { SANDBOX_MALLOC_ENV } from '../../sentry/limits';

/** environOf reads a host process's environment as NAME -> value. */
function environOf(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)) {
    const eq = kv.indexOf('=');
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

/** goferOf finds the gofer serving `rootfs` (a sibling of the sentry, found by its command line). */
function goferOf(rootfs: string): number | undefined {
  for (const e of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv.includes('gofer') && argv.includes(rootfs)) return Number(e);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

describe('sandbox processes\' environment', () => {
  let rt: OciRuntime;
  beforeAll(() => {
    requireSandboxPrerequisites('sandbox environment');
  });
  beforeEach(() => { rt = new OciRuntime('tvisor-sandbox-env', TVISOR); });
  afterEach(() => { rt.cleanup(); });

  test('the sentry and the gofer get PATH and the malloc tuning, not the caller\'s variables', () => {
    const bundle = rt.bundle('b', ['sleep', '100']);
    const id = `sandbox-env-${process.pid}`;
    process.env.TVISOR_TEST_LEAK = 'caller';
    let r;
    try {
      r = rt.run('create', '--bundle', bundle, id);
    } finally {
      delete process.env.TVISOR_TEST_LEAK;
    }
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const sentry = rt.state(id)!.pid as number;
    const gofer = goferOf(path.join(bundle, 'rootfs'));
    expect(gofer).toBeDefined();
    for (const pid of [sentry, gofer!]) {
      const env = environOf(pid);
      expect(env).toMatchObject(SANDBOX_MALLOC_ENV);
      expect(env.PATH).toBeDefined();
      expect(env.TVISOR_TEST_LEAK).toBeUndefined();
      // Besides, only tvisor's own switches, when the caller sets them (sentry-sandbox.ts sandboxEnv).
      const allowed = new Set(['PATH', ...Object.keys(SANDBOX_MALLOC_ENV), 'TVISOR_KVM_DEVICE', 'TVISOR_PROFILE', 'TVISOR_MEMORY_REPORT']);
      expect(Object.keys(env).filter((k) => !allowed.has(k))).toEqual([]);
    }
    expect(rt.run('delete', '--force', id).status).toBe(0);
  });
});
