/**
 * `exec --user UID:GID` (and --additional-gids) in a container with a user namespace
 * (0 -> 100000, 65536 ids): an id outside the mappings is refused with runc's text (as
 * at create, spec-tests/oci/userns.test.ts), a mapped one runs. Compared with runc.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runtimeSkipReason } from '../behaviour/runner';
import { OciRuntime } from './harness';

/** CASES: [exec flags, runc's message, or null: the exec runs and prints `id`'s output]. */
const CASES: [string[], string | null][] = [
  [['--user', '70000:0'], 'unable to setup user: cannot set uid to unmapped user in user namespace'],
  [['--user', '0:70000'], 'unable to setup user: cannot set gid to unmapped user in user namespace'],
  [['--additional-gids', '70000'], 'unable to setup user: setgroups: invalid argument'],
  [['--user', '5:5'], null],
];

describe.each([['runc', '/usr/sbin/runc'], ['tvisor', path.resolve(__dirname, '../../bin/tvisor')]])('%s: exec --user outside the user-namespace mappings', (name, bin) => {
  const rt = new OciRuntime(name, bin);
  const id = `userns-exec-${name}-${process.pid}`;
  beforeAll(async () => {
    const missing = [runtimeSkipReason('runc'), runtimeSkipReason('tvisor')].filter(Boolean);
    if (missing.length) throw new Error(`oci/userns-exec: missing prerequisites: ${missing.join('; ')}`);
    // runc's mapped root must reach the bundle.
    fs.chmodSync(rt.dir, 0o755);
    const b = rt.bundle('userns-exec', ['sleep', '60'], (s) => {
      s.linux!.namespaces = [...(s.linux!.namespaces ?? []), { type: 'user' }];
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.mounts = (s.mounts ?? []).filter((m) => m.destination !== '/sys/fs/cgroup');
    });
    const r = rt.run('run', '-d', '--bundle', b, id);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    await rt.waitStatus(id, 'running');
  }, 60_000);
  afterAll(() => rt.cleanup());

  test.each(CASES)('exec %j', (flags, message) => {
    const r = rt.run('exec', ...flags, id, 'busybox', 'id');
    if (message === null) {
      expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: 'uid=5 gid=5\n' });
      return;
    }
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    if (name === 'tvisor') expect(r.stderr).toBe(`tvisor: ${message}\n`);
  }, 60_000);
});
