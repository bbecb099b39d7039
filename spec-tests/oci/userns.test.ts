/**
 * User namespaces (linux.uidMappings/gidMappings 0 -> 100000, 65536 ids, with a user
 * namespace): the same program (behaviour/programs/userns.c) as init under runc and
 * tvisor, outputs compared line for line. Inside, root is uid 0; a file it creates in a
 * bind mount belongs to host uid 100000 (and 101000 after chown to 1000); host root's
 * files, in the bind mount and in the rootfs, read as the overflow id 65534; chown,
 * setgroups and every set*id call refuse an id outside the mappings with EINVAL, before
 * any permission check. A process.user outside the mappings is refused at create with
 * runc's text, and nothing is left behind.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeRootfs } from '../behaviour/bundle';
import { withCapabilities } from '../behaviour/compare';
import { programSkipReason, runtimeSkipReason, runUnder, type Runtime } from '../behaviour/runner';
import { OciRuntime } from './harness';
import type { Spec } from '../../oci/config';

const CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_SETUID', 'CAP_SETGID'];

/** prerequisites fails the suite, naming what is missing. */
function prerequisites(): void {
  const missing = [runtimeSkipReason('runc'), runtimeSkipReason('tvisor'), programSkipReason('userns')].filter(Boolean);
  if (missing.length) throw new Error(`oci/userns: missing prerequisites: ${missing.join('; ')}`);
}

interface Outcome {
  status: number;
  stdout: string;
  stderr: string;
  hostOwners: Record<string, string>;
}

/** runMapped runs userns.c under a runtime on a fresh rootfs and bind mount, both in a
 * world-searchable directory (runc's mapped root must reach them), and reads back on the
 * host the owners of what the container made. */
function runMapped(runtime: Runtime): Outcome {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `oci-userns-${runtime}-`));
  try {
    fs.chmodSync(dir, 0o755);
    const rootfs = path.join(dir, 'rootfs');
    const shared = path.join(dir, 'shared');
    makeRootfs(rootfs, { args: ['/prog'], program: path.resolve(__dirname, '../../build/programs/userns'), mounts: [{ source: shared, destination: '/shared' }] });
    fs.mkdirSync(shared);
    fs.chownSync(shared, 100000, 100000);
    fs.writeFileSync(path.join(shared, 'hostroot'), 'host root\n', { mode: 0o644 });
    const r = runUnder(runtime, 'userns', ['/shared', '/dev/shm/f'], {
      editSpec: (spec) => {
        withCapabilities(CAPS)(spec);
        spec.root = { path: rootfs, readonly: false };
        spec.mounts.push({ destination: '/shared', type: 'bind', source: shared, options: ['rbind', 'rw'] });
        spec.mounts = spec.mounts.filter((m: { destination: string }) => m.destination !== '/sys/fs/cgroup');
        if (!spec.linux.namespaces.some((n: { type: string }) => n.type === 'network')) spec.linux.namespaces.push({ type: 'network' });
        spec.linux.namespaces.push({ type: 'user' });
        spec.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        spec.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      },
    });
    const hostOwners: Record<string, string> = {};
    for (const f of ['made', 'hostroot']) {
      const p = path.join(shared, f);
      hostOwners[f] = fs.existsSync(p) ? `${fs.statSync(p).uid}:${fs.statSync(p).gid}` : 'missing';
    }
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, hostOwners };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const EXPECTED = [
  'start: uids 0 0 0 gids 0 0 0',
  'create in the bind mount: ok',
  'stat made: uid 0 gid 0',
  'stat hostroot: uid 65534 gid 65534',
  'stat /prog (the rootfs, host root\'s): uid 65534 gid 65534',
  'chown made 1000:1000: ok',
  'stat made: uid 1000 gid 1000',
  'chown made to an unmapped uid: EINVAL',
  'chown made to an unmapped gid: EINVAL',
  'chown a missing file to an unmapped uid: ENOENT',
  'create in the tmpfs: ok',
  'stat tmpfs file: uid 0 gid 0',
  'fchownat tmpfs file to an unmapped uid: EINVAL',
  'chown tmpfs file 2000:2000: ok',
  'stat tmpfs file: uid 2000 gid 2000',
  'setgroups with an unmapped gid: EINVAL',
  'setgroups with mapped gids: ok',
  'setgid unmapped: EINVAL',
  'setregid unmapped real: EINVAL',
  'setresgid unmapped saved: EINVAL',
  'setresuid unmapped effective: EINVAL',
  'setreuid unmapped effective: EINVAL',
  'setuid unmapped: EINVAL',
  'after the refusals: uids 0 0 0 gids 0 0 0',
  'setgid 1000: ok',
  'setuid 1000: ok',
  'end: uids 1000 1000 1000 gids 1000 1000 1000',
  'setuid unmapped without CAP_SETUID: EINVAL',
  'setuid 0 without CAP_SETUID: EPERM',
  '',
].join('\n');

describe('user namespace mappings: runc and tvisor agree', () => {
  beforeAll(prerequisites);

  test.each(['runc', 'tvisor'] as Runtime[])('%s: ids inside, owners on the host, EINVAL for unmapped ids', (runtime) => {
    const o = runMapped(runtime);
    expect({ runtime, status: o.status, stdout: o.stdout }).toEqual({ runtime, status: 0, stdout: EXPECTED });
    expect({ runtime, owners: o.hostOwners }).toEqual({ runtime, owners: { made: '101000:101000', hostroot: '0:0' } });
  }, 90_000);
});

/** UNMAPPED_USERS: [what, process.user, runc's message]. */
const UNMAPPED_USERS: [string, NonNullable<Spec['process']>['user'], string][] = [
  ['uid', { uid: 70000, gid: 0 }, 'unable to setup user: cannot set uid to unmapped user in user namespace'],
  ['gid', { uid: 0, gid: 70000 }, 'unable to setup user: cannot set gid to unmapped user in user namespace'],
  ['additional gid', { uid: 0, gid: 0, additionalGids: [70000] }, 'unable to setup user: setgroups: invalid argument'],
];

describe.each([['runc', '/usr/sbin/runc'], ['tvisor', path.resolve(__dirname, '../../bin/tvisor')]])('%s: process.user outside the mappings', (name, bin) => {
  const rt = new OciRuntime(name, bin);
  beforeAll(() => {
    prerequisites();
    // runc's mapped root must reach the bundle.
    fs.chmodSync(rt.dir, 0o755);
  });
  afterAll(() => rt.cleanup());

  test.each(UNMAPPED_USERS)('an unmapped %s is refused with runc\'s text, nothing left behind', (what, user, message) => {
    const id = `userns-unmapped-${what.replace(/ /g, '-')}-${process.pid}`;
    const b = rt.bundle(`unmapped-${what.replace(/ /g, '-')}`, ['true'], (s) => {
      s.process!.user = user;
      s.linux!.namespaces = [...(s.linux!.namespaces ?? []), { type: 'user' }];
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.mounts = (s.mounts ?? []).filter((m) => m.destination !== '/sys/fs/cgroup');
    });
    const r = rt.run('run', '--bundle', b, id);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
    if (name === 'tvisor') expect(r.stderr).toBe(`tvisor: ${message}\n`);
    expect(rt.run('list', '-q').stdout).toBe('');
  }, 60_000);
});
