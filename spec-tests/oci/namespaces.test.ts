/**
 * linux.namespaces[].path other than network's (runtime/container/namespace-paths.ts):
 * the sentry is the container's kernel and keeps its own pid, ipc, uts, mount, user and
 * cgroup namespaces, so `create` refuses a path for them with one line naming the
 * namespace and the path, and leaves nothing behind. A path that does not exist gets
 * runc's own text under both runtimes; a file that is not a namespace of the entry's
 * type is named as such (runc fails there with an unexplained setns EINVAL). A network
 * path is joined (spec-tests/oci/netns.test.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Spec } from '../../oci/config';
import { BUSYBOX, OciRuntime } from './harness';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');
const RUNC = '/usr/sbin/runc';

/** prerequisites fails the suite, naming what is missing. */
function prerequisites(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const f of [TVISOR, RUNC, BUSYBOX]) if (!fs.existsSync(f)) missing.push(f);
  if (missing.length) throw new Error(`oci/namespaces: missing prerequisites: ${missing.join(', ')}`);
}

/** withPath sets a path on the spec's entry of `type` (adding the entry when missing). */
function withPath(type: string, nsPath: string): (s: Spec) => void {
  return (s) => {
    const list = (s.linux!.namespaces ?? []).filter((n) => n.type !== type);
    s.linux!.namespaces = [...list, { type, path: nsPath } as never];
  };
}

/** nothingLeft asserts that the runtime lists no container and the id has no state. */
function nothingLeft(rt: OciRuntime, id: string): void {
  expect(rt.run('list', '-q').stdout).toBe('');
  expect(rt.state(id)).toBeUndefined();
}

beforeAll(prerequisites);

describe.each([['runc', RUNC], ['tvisor', TVISOR]])('%s: a namespace path that does not exist', (name, bin) => {
  const rt = new OciRuntime(name, bin);
  afterAll(() => rt.cleanup());

  test.each(['ipc', 'uts', 'network'])('%s: create fails with runc\'s text, nothing left behind', (type) => {
    const missing = `/nonexistent-${process.pid}/ns/${type}`;
    const id = `nspath-missing-${type}-${process.pid}`;
    const r = rt.run('create', '--bundle', rt.bundle(`missing-${type}`, ['true'], withPath(type, missing)), id);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`namespace path: lstat ${missing}: no such file or directory`);
    if (name === 'tvisor') expect(r.stderr).toBe(`tvisor: namespace path: lstat ${missing}: no such file or directory\n`);
    nothingLeft(rt, id);
  }, 60_000);
});

describe('tvisor: a namespace path it cannot join', () => {
  const rt = new OciRuntime('tvisor', TVISOR);
  afterAll(() => rt.cleanup());

  test.each([['ipc', 0], ['uts', 1], ['pid', 2], ['mount', 3], ['cgroup', 4], ['user', 5]] as const)('%s: a real namespace is refused, naming it and the path', (type, n) => {
    const file = { ipc: 'ipc', uts: 'uts', pid: 'pid', mount: 'mnt', cgroup: 'cgroup', user: 'user' }[type];
    const nsPath = `/proc/${process.pid}/ns/${file}`;
    const id = `nspath-join-${n}-${process.pid}`;
    const b = rt.bundle(`join-${type}`, ['true'], (s) => {
      withPath(type, nsPath)(s);
      if (type === 'user') {
        s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      }
    });
    const r = rt.run('create', '--bundle', b, id);
    expect(r.status).toBe(1);
    const i = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8')).linux.namespaces.findIndex((x: { type: string }) => x.type === type);
    expect(r.stderr).toBe(`tvisor: config.json: linux.namespaces[${i}]: cannot join the ${type} namespace at ${nsPath}: the sandbox keeps its own ${type} namespace (only a network namespace path can be joined)\n`);
    nothingLeft(rt, id);
  }, 60_000);

  test('a file that is not a namespace of the entry\'s type is named as such', () => {
    for (const [type, nsPath] of [['ipc', `/proc/${process.pid}/ns/net`], ['network', `/proc/${process.pid}/ns/uts`], ['uts', '/tmp']] as const) {
      const id = `nspath-type-${type}-${process.pid}`;
      const b = rt.bundle(`type-${type}`, ['true'], withPath(type, nsPath));
      const r = rt.run('create', '--bundle', b, id);
      expect({ type, status: r.status }).toEqual({ type, status: 1 });
      expect(r.stderr).toMatch(new RegExp(`^tvisor: config\\.json: linux\\.namespaces\\[\\d\\]\\.path: ${nsPath} is not a namespace of type ${type}\\n$`));
      nothingLeft(rt, id);
    }
  }, 60_000);
});
