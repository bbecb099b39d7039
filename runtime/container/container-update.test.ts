import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nullLogger, type Logger } from '../log';
import type { LinuxResources } from '../../oci/config';
import { defaultSpec } from '../../oci/default-spec';
import { Container, type ContainerEnv } from './container';
import { createContainer } from './container-create';
import { startContainer } from './container-start';
import { mergeResources } from '../../oci/merge-resources';
import { parseInteger, parseResourcesJson, parseSize, parseUpdateFlags, updateContainer } from './container-update';
import { NotExistError, StatusError } from './errors';
import type { SandboxRef } from './sandbox';
import { StateStore } from './store';
import { FakeSandbox } from './testing/fake-sandbox';

const MiB = 1024 * 1024;

describe('parseSize (runc: docker RAMInBytes)', () => {
  test.each([
    ['100', 100], ['64m', 64 * MiB], ['64M', 64 * MiB], ['64mb', 64 * MiB], ['64MiB', 64 * MiB], ['512k', 512 * 1024],
    ['1.5g', 1.5 * 1024 * MiB], ['2 g', 2 * 1024 * MiB], ['1t', 1024 * 1024 * MiB], ['10kb', 10240], ['-1', -1], ['0', 0],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize('memory', text)).toBe(bytes);
  });

  test.each(['abc', '', '-2', '1x', 'm', '1.2.3m', '64 mb b', '-1m'])('"%s" is refused with one line naming the flag', (text) => {
    expect(() => parseSize('memory', text)).toThrow(new RegExp(`^invalid value for --memory: "${text.replace(/[.]/g, '\\.')}" is not a size`));
  });

  test('a size beyond 2^53 bytes is refused', () => {
    expect(() => parseSize('memory', '9000p')).toThrow(/too large/);
  });
});

describe('parseInteger', () => {
  test('reads signed and unsigned decimal integers', () => {
    expect(parseInteger('cpu-quota', '-1', false)).toBe(-1);
    expect(parseInteger('cpu-share', '512', true)).toBe(512);
    expect(() => parseInteger('cpu-share', '-5', true)).toThrow('invalid value for --cpu-share: "-5" is not a non-negative integer');
    expect(() => parseInteger('pids-limit', '1.5', false)).toThrow('invalid value for --pids-limit: "1.5" is not an integer');
    expect(() => parseInteger('cpu-quota', '99999999999999999999', false)).toThrow(/out of range/);
  });
});

describe('parseUpdateFlags', () => {
  test('maps runc flags to linux.resources and leaves out unset and zero values', () => {
    const req = parseUpdateFlags({ memory: '64m', 'memory-swap': '-1', 'cpu-share': '512', 'cpu-quota': '50000', 'cpu-period': '0', 'pids-limit': '50', 'cpuset-cpus': '0-1,3' });
    expect(req.resources).toEqual({
      memory: { limit: 64 * MiB, swap: -1 }, cpu: { shares: 512, quota: 50000, cpus: '0-1,3' }, pids: { limit: 50 },
    });
    expect(req.warnings).toEqual([]);
    expect(parseUpdateFlags({}).resources).toEqual({});
    expect(parseUpdateFlags({ 'pids-limit': '-1' }).resources).toEqual({ pids: { limit: -1 } });
  });

  test('kernel memory is accepted, ignored and warned about', () => {
    const req = parseUpdateFlags({ 'kernel-memory': '10m', 'memory-reservation': '32m' });
    expect(req.resources).toEqual({ memory: { reservation: 32 * MiB } });
    expect(req.warnings).toEqual([expect.stringMatching(/^kernel memory settings are ignored/)]);
  });

  test('refuses bad values before anything is applied', () => {
    expect(() => parseUpdateFlags({ memory: '64m', 'cpuset-cpus': '0-' })).toThrow('invalid value for --cpuset-cpus: "0-" is not a list such as 0-3,8');
    expect(() => parseUpdateFlags({ 'blkio-weight': '5' })).toThrow('invalid value for blkio weight: 5 is not between 10 and 1000');
    expect(() => parseUpdateFlags({ 'pids-limit': 'abc' })).toThrow(/--pids-limit/);
  });
});

describe('parseResourcesJson (-r)', () => {
  test('reads the fields runc update takes, ignoring unknown ones and zeros', () => {
    const req = parseResourcesJson(JSON.stringify({
      memory: { limit: 128 * MiB, reservation: 0, swap: -1 }, cpu: { shares: 700, cpus: '', mems: '0' }, blockIO: { weight: 300 }, pids: { limit: 0 }, extra: 1,
    }), 'r.json');
    expect(req.resources).toEqual({ memory: { limit: 128 * MiB, swap: -1 }, cpu: { shares: 700, mems: '0' }, blockIO: { weight: 300 } });
  });

  test('names the field of a wrong type', () => {
    expect(() => parseResourcesJson('{"memory":{"limit":"x"}}', 'standard input')).toThrow('standard input: memory.limit: must be an integer');
    expect(() => parseResourcesJson('{"cpu":{"shares":-2}}', 'r.json')).toThrow('r.json: cpu.shares: must not be negative');
    expect(() => parseResourcesJson('{"cpu":{"cpus":3}}', 'r.json')).toThrow('r.json: cpu.cpus: must be a string');
    expect(() => parseResourcesJson('[1]', 'r.json')).toThrow('r.json: must be a JSON object');
    expect(() => parseResourcesJson('{', 'r.json')).toThrow(/^r\.json: not valid JSON/);
  });
});

test('mergeResources replaces the fields given and keeps the others', () => {
  const old: LinuxResources = { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 10, swap: 20 }, cpu: { shares: 5 } };
  expect(mergeResources(old, { memory: { limit: 30 }, pids: { limit: 9 } })).toEqual({
    devices: [{ allow: false, access: 'rwm' }], memory: { limit: 30, swap: 20 }, cpu: { shares: 5 }, pids: { limit: 9 },
  });
});

/** UpdatingSandbox is the fake sandbox with an update that records (or refuses) what it gets. */
class UpdatingSandbox extends FakeSandbox {
  readonly updates: LinuxResources[] = [];
  refuse = false;
  async update(_ref: SandboxRef, r: LinuxResources): Promise<string[]> {
    if (this.refuse) throw new Error('cgroup cpu.shares: cannot write 1: EINVAL');
    this.updates.push(r);
    return r.blockIO ? ['blkio weight'] : [];
  }
}

describe('updateContainer', () => {
  let tmp: string;
  let env: ContainerEnv;
  let sandbox: UpdatingSandbox;
  let warnings: string[];

  beforeEach(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-update-'));
    const bundle = path.join(tmp, 'bundle');
    fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
    const spec = defaultSpec();
    spec.process!.terminal = false;
    spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 256 * MiB } };
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
    sandbox = new UpdatingSandbox();
    warnings = [];
    const log: Logger = { ...nullLogger, warn: (m) => { warnings.push(m); } };
    env = { store: new StateStore(path.join(tmp, 'root')), sandbox, log };
    await createContainer(env, { id: 'u1', bundle });
  });

  afterEach(() => {
    sandbox.killAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const update = (flags: Record<string, string>) => Container.locked(env, 'u1', (c) => updateContainer(c, parseUpdateFlags(flags)));

  test('applies to a created and a running container and records the limits in the saved config', async () => {
    await update({ memory: '64m', 'cpu-share': '512' });
    await Container.locked(env, 'u1', (c) => startContainer(c));
    await update({ 'pids-limit': '20', 'blkio-weight': '300' });
    expect(sandbox.updates).toEqual([{ memory: { limit: 64 * MiB }, cpu: { shares: 512 } }, { pids: { limit: 20 }, blockIO: { weight: 300 } }]);
    expect(env.store.readConfig('u1').linux!.resources).toMatchObject({ memory: { limit: 64 * MiB }, cpu: { shares: 512 }, pids: { limit: 20 } });
    expect(warnings).toEqual(['not applied on this host: blkio weight']);
  });

  test('a refused update changes nothing in the record', async () => {
    sandbox.refuse = true;
    await expect(update({ 'cpu-share': '1' })).rejects.toThrow('cgroup cpu.shares: cannot write 1: EINVAL');
    expect(env.store.readConfig('u1').linux!.resources!.cpu).toBeUndefined();
  });

  test('a stopped container and an unknown id are refused', async () => {
    process.kill(Container.load(env, 'u1').record.pid!, 'SIGKILL');
    await sandbox.wait(Container.load(env, 'u1').sandboxRef(), 5000);
    await expect(update({ memory: '64m' })).rejects.toThrow(new StatusError('cannot update container "u1": container not running (it is stopped)', 'stopped'));
    await expect(Container.locked(env, 'nosuch', (c) => updateContainer(c, parseUpdateFlags({})))).rejects.toThrow(NotExistError);
    expect(sandbox.updates).toEqual([]);
  });
});
