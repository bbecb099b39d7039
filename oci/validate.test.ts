import { defaultSpec } from './default-spec';
import { ConfigError, parseConfig, validateConfig } from './validate';

/** mutate returns a default spec changed by `f` (applied to a deep copy). */
function mutate(f: (c: any) => void): unknown {
  const c = JSON.parse(JSON.stringify(defaultSpec()));
  f(c);
  return c;
}

function errorOf(doc: unknown): string {
  try {
    validateConfig(doc);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('config was accepted');
}

describe('validateConfig', () => {
  test('accepts the default spec and its rootless variant', () => {
    expect(validateConfig(defaultSpec()).process!.args).toEqual(['sh']);
    expect(validateConfig(defaultSpec({ rootless: true, uid: 1000, gid: 1000 })).linux!.uidMappings).toEqual([
      { containerID: 0, hostID: 1000, size: 1 },
    ]);
  });

  test('ignores unknown properties, as config.md requires', () => {
    const doc = mutate((c) => { c.vendorThing = { x: 1 }; c.process.futureField = true; });
    expect(() => validateConfig(doc)).not.toThrow();
  });

  test('accepts older 1.x versions and pre-release tags', () => {
    for (const v of ['1.0.0', '1.0.2-dev', '1.1.0', '1.2.0', '1.2.0+build']) {
      expect(() => validateConfig(mutate((c) => { c.ociVersion = v; }))).not.toThrow();
    }
  });

  const cases: [string, (c: any) => void, string][] = [
    ['not an object', () => undefined, 'config.json: must be an object'],
    ['missing ociVersion', (c) => { delete c.ociVersion; }, 'config.json: ociVersion: is required'],
    ['ociVersion not semver', (c) => { c.ociVersion = 'one'; }, 'config.json: ociVersion: "one" is not a SemVer version'],
    ['ociVersion major 2', (c) => { c.ociVersion = '2.0.0'; }, 'config.json: ociVersion: unsupported version "2.0.0" (tvisor implements 1.2.0)'],
    ['ociVersion newer minor', (c) => { c.ociVersion = '1.9.0'; }, 'config.json: ociVersion: unsupported version'],
    ['missing process', (c) => { delete c.process; }, 'config.json: process: is required'],
    ['process not object', (c) => { c.process = []; }, 'config.json: process: must be an object'],
    ['empty args', (c) => { c.process.args = []; }, 'config.json: process.args: must be a non-empty array'],
    ['args not array', (c) => { c.process.args = 'sh'; }, 'config.json: process.args: must be a non-empty array'],
    ['missing args', (c) => { delete c.process.args; }, 'config.json: process.args: is required'],
    ['arg not string', (c) => { c.process.args = ['sh', 3]; }, 'config.json: process.args[1]: must be a string'],
    ['relative cwd', (c) => { c.process.cwd = 'tmp'; }, 'config.json: process.cwd: must be an absolute path, not "tmp"'],
    ['missing user', (c) => { delete c.process.user; }, 'config.json: process.user: is required'],
    ['negative uid', (c) => { c.process.user.uid = -1; }, 'config.json: process.user.uid: must be between 0 and 4294967295, not -1'],
    ['fractional gid', (c) => { c.process.user.gid = 1.5; }, 'config.json: process.user.gid: must be an integer'],
    ['bad additional gid', (c) => { c.process.user.additionalGids = [1, 'x']; }, 'config.json: process.user.additionalGids[1]: must be an integer'],
    ['env without =', (c) => { c.process.env = ['PATH=/bin', 'JUNK']; }, 'config.json: process.env[1]: "JUNK" is not of the form KEY=value'],
    ['terminal not bool', (c) => { c.process.terminal = 'yes'; }, 'config.json: process.terminal: must be true or false'],
    ['unknown capability', (c) => { c.process.capabilities.bounding.push('CAP_FLY'); }, 'config.json: process.capabilities.bounding[3]: unsupported capability "CAP_FLY"'],
    ['unknown rlimit', (c) => { c.process.rlimits[0].type = 'RLIMIT_FOO'; }, 'config.json: process.rlimits[0].type: unsupported rlimit "RLIMIT_FOO"'],
    ['duplicate rlimit', (c) => { c.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }); }, 'config.json: process.rlimits[1].type: duplicate rlimit "RLIMIT_NOFILE"'],
    ['rlimit without hard', (c) => { delete c.process.rlimits[0].hard; }, 'config.json: process.rlimits[0].hard: is required'],
    ['oomScoreAdj out of range', (c) => { c.process.oomScoreAdj = 2000; }, 'config.json: process.oomScoreAdj: must be between -1000 and 1000'],
    ['missing root', (c) => { delete c.root; }, 'config.json: root: is required'],
    ['empty root path', (c) => { c.root.path = ''; }, 'config.json: root.path: must not be empty'],
    ['root readonly string', (c) => { c.root.readonly = 'true'; }, 'config.json: root.readonly: must be true or false'],
    ['mounts not array', (c) => { c.mounts = {}; }, 'config.json: mounts: must be an array'],
    ['mount without destination', (c) => { delete c.mounts[2].destination; }, 'config.json: mounts[2].destination: is required'],
    ['relative mount destination', (c) => { c.mounts[1].destination = 'dev'; }, 'config.json: mounts[1].destination: must be an absolute path, not "dev"'],
    ['mount option not string', (c) => { c.mounts[1].options = [1]; }, 'config.json: mounts[1].options[0]: must be a string'],
    ['hooks not object', (c) => { c.hooks = []; }, 'config.json: hooks: must be an object'],
    ['hook list not array', (c) => { c.hooks = { prestart: {} }; }, 'config.json: hooks.prestart: must be an array'],
    ['hook relative path', (c) => { c.hooks = { poststop: [{ path: 'x.sh' }] }; }, 'config.json: hooks.poststop[0].path: must be an absolute path, not "x.sh"'],
    ['hook without path', (c) => { c.hooks = { createRuntime: [{ args: [] }] }; }, 'config.json: hooks.createRuntime[0].path: is required'],
    ['hook zero timeout', (c) => { c.hooks = { startContainer: [{ path: '/bin/true', timeout: 0 }] }; }, 'config.json: hooks.startContainer[0].timeout: must be between 1 and'],
    ['annotation not string', (c) => { c.annotations = { a: 1 }; }, 'config.json: annotations.a: must be a string'],
    ['empty annotation key', (c) => { c.annotations = { '': 'x' }; }, 'config.json: annotations: keys must not be empty'],
    ['hostname not string', (c) => { c.hostname = 7; }, 'config.json: hostname: must be a string'],
    ['linux not object', (c) => { c.linux = 'x'; }, 'config.json: linux: must be an object'],
    ['unknown namespace', (c) => { c.linux.namespaces.push({ type: 'wormhole' }); }, 'config.json: linux.namespaces[5].type: unsupported namespace type "wormhole"'],
    ['duplicate namespace', (c) => { c.linux.namespaces.push({ type: 'pid' }); }, 'config.json: linux.namespaces[5].type: namespace "pid" is listed twice'],
    ['relative namespace path', (c) => { c.linux.namespaces[1].path = 'proc/1/ns/net'; }, 'config.json: linux.namespaces[1].path: must be an absolute path'],
    ['zero-size uid mapping', (c) => { c.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 0 }]; }, 'config.json: linux.uidMappings[0].size: must be between 1 and'],
    ['gid mapping missing hostID', (c) => { c.linux.gidMappings = [{ containerID: 0, size: 1 }]; }, 'config.json: linux.gidMappings[0].hostID: is required'],
    ['device cgroup without allow', (c) => { c.linux.resources.devices = [{ access: 'rwm' }]; }, 'config.json: linux.resources.devices[0].allow: is required'],
    ['device cgroup bad access', (c) => { c.linux.resources.devices[0].access = 'rwx'; }, 'config.json: linux.resources.devices[0].access: "rwx" is not made of r, w and m'],
    ['memory limit not number', (c) => { c.linux.resources.memory = { limit: '1G' }; }, 'config.json: linux.resources.memory.limit: must be an integer'],
    ['pids without limit', (c) => { c.linux.resources.pids = {}; }, 'config.json: linux.resources.pids.limit: is required'],
    ['seccomp bad default', (c) => { c.linux.seccomp = { defaultAction: 'ALLOW' }; }, 'config.json: linux.seccomp.defaultAction: unsupported seccomp action "ALLOW"'],
    ['seccomp rule without names', (c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }; }, 'config.json: linux.seccomp.syscalls[0].names: must be a non-empty array'],
    ['seccomp bad arg index', (c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] }; }, 'config.json: linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5, not 6'],
    ['seccomp bad operator', (c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0, op: 'EQ' }] }] }; }, 'config.json: linux.seccomp.syscalls[0].args[0].op: unsupported seccomp operator "EQ"'],
    ['masked path relative', (c) => { c.linux.maskedPaths.push('proc/kcore'); }, 'config.json: linux.maskedPaths[10]: must be an absolute path'],
    ['readonly path not string', (c) => { c.linux.readonlyPaths[0] = null; }, 'config.json: linux.readonlyPaths[0]: must be a string'],
    ['sysctl value not string', (c) => { c.linux.sysctl = { 'net.ipv4.ip_forward': 1 }; }, 'config.json: linux.sysctl.net.ipv4.ip_forward: must be a string'],
    ['device bad type', (c) => { c.linux.devices = [{ type: 'x', path: '/dev/x' }]; }, 'config.json: linux.devices[0].type: invalid device type "x"'],
    ['device path outside /dev', (c) => { c.linux.devices = [{ type: 'c', path: '/tmp/x' }]; }, 'config.json: linux.devices[0].path: device path "/tmp/x" must be under /dev, without ".."'],
    ['device path climbing out of /dev', (c) => { c.linux.devices = [{ type: 'c', path: '/dev/../etc/x' }]; }, 'config.json: linux.devices[0].path: device path "/dev/../etc/x" must be under /dev, without ".."'],
    ['device fileMode too big', (c) => { c.linux.devices = [{ type: 'c', path: '/dev/x', fileMode: 0o1000000 }]; }, 'config.json: linux.devices[0].fileMode:'],
    ['bad rootfsPropagation', (c) => { c.linux.rootfsPropagation = 'weird'; }, 'config.json: linux.rootfsPropagation: unsupported propagation "weird"'],
  ];

  test.each(cases)('rejects %s', (_name, change, expected) => {
    const doc = _name === 'not an object' ? [] : mutate(change);
    const msg = errorOf(doc);
    expect(msg.startsWith(expected)).toBe(true);
    expect(msg).not.toMatch(/\n/);
  });
});

describe('parseConfig', () => {
  test('names invalid JSON', () => {
    expect(() => parseConfig('{"ociVersion": ')).toThrow(/^config\.json: invalid JSON: /);
  });
  test('round-trips a valid file', () => {
    expect(parseConfig(JSON.stringify(defaultSpec())).hostname).toBe('tvisor');
  });
});
