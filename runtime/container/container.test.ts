import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nullLogger, type Logger } from '../log';
import { defaultSpec } from '../../oci/default-spec';
import { ConfigError } from '../../oci/validate';
import { Container, type ContainerEnv } from './container';
import { createContainer } from './container-create';
import { deleteContainer } from './container-delete';
import { killContainer } from './container-kill';
import { startContainer } from './container-start';
import { containerState, listContainers } from './container-state';
import { ExistsError, InvalidIDError, NotExistError, StatusError } from './errors';
import { isProcessAlive, waitProcessGone } from './proc';
import { StateStore } from './store';
import { FakeSandbox } from './testing/fake-sandbox';

let tmp: string;
let bundle: string;
let root: string;
let sandbox: FakeSandbox;
let env: ContainerEnv;
let warnings: string[];

function writeConfig(change: (c: any) => void = () => {}): void {
  const c: any = defaultSpec();
  c.process.terminal = false;
  change(c);
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(c));
}

function hookScript(name: string, body: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-container-'));
  bundle = path.join(tmp, 'bundle');
  fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
  root = path.join(tmp, 'root');
  writeConfig();
  sandbox = new FakeSandbox();
  warnings = [];
  const log: Logger = { ...nullLogger, warn: (m) => { warnings.push(m); } };
  env = { store: new StateStore(root), sandbox, log };
});

afterEach(() => {
  sandbox.killAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const locked = <T>(id: string, fn: (c: Container) => Promise<T>) => Container.locked(env, id, fn);

describe('create', () => {
  test('creates a container in status created with a private state directory and a pid file', async () => {
    const pidFile = path.join(tmp, 'pid');
    const c = await createContainer(env, { id: 'web', bundle, pidFile });
    expect(c.status()).toBe('created');
    const st = containerState(env, 'web');
    expect(st).toMatchObject({ id: 'web', status: 'created', pid: sandbox.pids[0], bundle, rootfs: path.join(bundle, 'rootfs') });
    expect(fs.readFileSync(pidFile, 'utf8')).toBe(String(sandbox.pids[0]));
    expect(fs.statSync(root).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(root, 'web')).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(root)).toEqual(['web']);
  });

  test('rejects a duplicate id and leaves the first container alone', async () => {
    await createContainer(env, { id: 'dup', bundle });
    const before = fs.readFileSync(path.join(root, 'dup', 'state.json'), 'utf8');
    await expect(createContainer(env, { id: 'dup', bundle })).rejects.toThrow(ExistsError);
    await expect(createContainer(env, { id: 'dup', bundle })).rejects.toThrow('container "dup" already exists');
    expect(fs.readFileSync(path.join(root, 'dup', 'state.json'), 'utf8')).toBe(before);
    expect(sandbox.calls.filter((x) => x.startsWith('spawn'))).toHaveLength(1);
    expect(fs.readdirSync(root)).toEqual(['dup']);
  });

  test('an invalid id or config leaves nothing under --root', async () => {
    await expect(createContainer(env, { id: '../evil', bundle })).rejects.toThrow(InvalidIDError);
    writeConfig((c) => { c.process.args = []; });
    await expect(createContainer(env, { id: 'bad', bundle })).rejects.toThrow(ConfigError);
    await expect(createContainer(env, { id: 'bad', bundle })).rejects.toThrow('config.json: process.args: must be a non-empty array');
    writeConfig((c) => { c.root.path = 'nope'; });
    await expect(createContainer(env, { id: 'bad', bundle })).rejects.toThrow(/root\.path: .*nope is not a directory/);
    expect(fs.existsSync(root)).toBe(false);
    expect(sandbox.calls).toEqual([]);
  });

  test('a terminal config needs a console socket', async () => {
    writeConfig((c) => { c.process.terminal = true; });
    await expect(createContainer(env, { id: 'tty', bundle })).rejects.toThrow(/--console-socket/);
    expect(fs.existsSync(root)).toBe(false);
  });

  test('a sandbox that fails to spawn leaves nothing behind', async () => {
    sandbox.failOn.add('spawn');
    const pidFile = path.join(tmp, 'pid');
    await expect(createContainer(env, { id: 'x', bundle, pidFile })).rejects.toThrow('fake sandbox: spawn failed');
    expect(fs.existsSync(root)).toBe(false);
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  test('hooks see the creating state; a failing createRuntime hook stops and destroys the container', async () => {
    const seen = path.join(tmp, 'seen');
    const poststop = path.join(tmp, 'poststop');
    writeConfig((c) => {
      c.hooks = {
        prestart: [{ path: hookScript('pre.sh', `cat > ${seen}`) }],
        createRuntime: [{ path: hookScript('fail.sh', 'echo nope >&2; exit 1') }],
        poststop: [{ path: hookScript('post.sh', `cat > ${poststop}`) }],
      };
    });
    fs.mkdirSync(root, { mode: 0o700 });
    const err = await createContainer(env, { id: 'h', bundle }).catch((e) => e);
    expect(err.message).toMatch(/hooks\.createRuntime\[0\].*exit status 1: nope/);
    const state = JSON.parse(fs.readFileSync(seen, 'utf8'));
    expect(state).toMatchObject({ id: 'h', status: 'creating', pid: sandbox.pids[0], bundle });
    expect(JSON.parse(fs.readFileSync(poststop, 'utf8'))).toMatchObject({ id: 'h', status: 'stopped' });
    expect(await waitProcessGone(sandbox.pids[0], undefined, 5000)).toBe(true);
    expect(fs.readdirSync(root)).toEqual([]);
  });
});

describe('start', () => {
  test('moves created to running once; a second start is an error that changes nothing', async () => {
    const post = path.join(tmp, 'poststart');
    writeConfig((c) => { c.hooks = { poststart: [{ path: hookScript('p.sh', `cat > ${post}; exit 4`) }] }; });
    await createContainer(env, { id: 's', bundle });
    await locked('s', startContainer);
    expect(containerState(env, 's').status).toBe('running');
    expect(JSON.parse(fs.readFileSync(post, 'utf8'))).toMatchObject({ id: 's', status: 'running' });
    expect(warnings.join()).toMatch(/poststart\[0\].*exit status 4/);
    const before = fs.readFileSync(path.join(root, 's', 'state.json'), 'utf8');
    await expect(locked('s', startContainer)).rejects.toThrow(StatusError);
    await expect(locked('s', startContainer)).rejects.toThrow('cannot start container "s": it is running, not created');
    expect(fs.readFileSync(path.join(root, 's', 'state.json'), 'utf8')).toBe(before);
    expect(sandbox.calls.filter((x) => x.startsWith('start'))).toHaveLength(1);
  });

  test('a sandbox that fails to start leaves the container created', async () => {
    await createContainer(env, { id: 's', bundle });
    sandbox.failOn.add('start');
    await expect(locked('s', startContainer)).rejects.toThrow('fake sandbox: start failed');
    expect(containerState(env, 's').status).toBe('created');
  });

  test('a failing startContainer hook stops and deletes the container', async () => {
    const poststop = path.join(tmp, 'poststop');
    writeConfig((c) => {
      c.hooks = {
        startContainer: [{ path: hookScript('f.sh', 'exit 7') }],
        poststop: [{ path: hookScript('post.sh', `cat > ${poststop}`) }],
      };
    });
    await createContainer(env, { id: 's', bundle });
    await expect(locked('s', startContainer)).rejects.toThrow(/startContainer\[0\].*exit status 7/);
    expect(() => containerState(env, 's')).toThrow(NotExistError);
    expect(isProcessAlive(sandbox.pids[0], undefined)).toBe(false);
    expect(fs.existsSync(poststop)).toBe(true);
    expect(sandbox.calls).not.toContain('start s');
  });

  test('start of an unknown container says it does not exist', async () => {
    await expect(locked('ghost', startContainer)).rejects.toThrow('container "ghost" does not exist');
  });
});

describe('kill', () => {
  test('signals a created or running container; the container stops when its process exits', async () => {
    await createContainer(env, { id: 'k', bundle });
    await locked('k', (c) => killContainer(c, 0));
    expect(containerState(env, 'k').status).toBe('created');
    await locked('k', startContainer);
    await locked('k', (c) => killContainer(c, 15, true));
    // Signal 0 only checks the container's state (runc's `kill ID 0`): nothing reaches the sandbox.
    expect(sandbox.signals).toEqual([{ id: 'k', signo: 15, all: true }]);
    expect(await waitProcessGone(sandbox.pids[0], undefined, 5000)).toBe(true);
    expect(containerState(env, 'k')).toMatchObject({ status: 'stopped', pid: 0 });
    await expect(locked('k', (c) => killContainer(c, 9))).rejects.toThrow(/container not running/);
    expect(sandbox.signals).toHaveLength(1);
  });

  test('a reused pid (another start time) reads as stopped', async () => {
    await createContainer(env, { id: 'r', bundle });
    const rec = JSON.parse(fs.readFileSync(path.join(root, 'r', 'state.json'), 'utf8'));
    rec.pidStartTime = '1';
    fs.writeFileSync(path.join(root, 'r', 'state.json'), JSON.stringify(rec));
    expect(containerState(env, 'r').status).toBe('stopped');
    await expect(locked('r', (c) => killContainer(c, 9))).rejects.toThrow(/container not running/);
    expect(isProcessAlive(sandbox.pids[0], undefined)).toBe(true);
  });
});

describe('delete', () => {
  test('refuses a running container without --force, deletes it with --force', async () => {
    const poststop = path.join(tmp, 'poststop');
    writeConfig((c) => { c.hooks = { poststop: [{ path: hookScript('post.sh', `cat > ${poststop}`) }] }; });
    await createContainer(env, { id: 'd', bundle });
    await locked('d', startContainer);
    await expect(deleteContainer(env, 'd')).rejects.toThrow('cannot delete container "d" that is not stopped: it is running');
    expect(containerState(env, 'd').status).toBe('running');
    expect(fs.existsSync(poststop)).toBe(false);
    await deleteContainer(env, 'd', true);
    expect(() => containerState(env, 'd')).toThrow(NotExistError);
    expect(isProcessAlive(sandbox.pids[0], undefined)).toBe(false);
    expect(JSON.parse(fs.readFileSync(poststop, 'utf8'))).toMatchObject({ id: 'd', status: 'stopped' });
    expect(sandbox.calls).toContain('destroy d');
  });

  test('deletes a created container by killing it first (runc behaviour)', async () => {
    await createContainer(env, { id: 'c', bundle });
    await deleteContainer(env, 'c');
    expect(isProcessAlive(sandbox.pids[0], undefined)).toBe(false);
    expect(fs.readdirSync(root)).toEqual([]);
  });

  test('deletes a stopped container; the id can be reused', async () => {
    await createContainer(env, { id: 'st', bundle });
    await locked('st', startContainer);
    process.kill(sandbox.pids[0], 'SIGKILL');
    await waitProcessGone(sandbox.pids[0], undefined, 5000);
    expect(containerState(env, 'st').status).toBe('stopped');
    await deleteContainer(env, 'st');
    await createContainer(env, { id: 'st', bundle });
    expect(containerState(env, 'st').status).toBe('created');
  });

  test('an unknown id is an error, except with --force', async () => {
    await expect(deleteContainer(env, 'nobody')).rejects.toThrow('container "nobody" does not exist');
    await expect(deleteContainer(env, 'nobody', true)).resolves.toBeUndefined();
    await expect(deleteContainer(env, 'a/b', true)).rejects.toThrow(InvalidIDError);
  });

  test('concurrent deletes of one container: exactly one succeeds', async () => {
    await createContainer(env, { id: 'cc', bundle });
    const results = await Promise.allSettled([deleteContainer(env, 'cc'), deleteContainer(env, 'cc'), deleteContainer(env, 'cc')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(NotExistError);
    expect(sandbox.calls.filter((x) => x === 'destroy cc')).toHaveLength(1);
  });
});

describe('list', () => {
  test('lists every container with its live status', async () => {
    await createContainer(env, { id: 'b', bundle });
    await createContainer(env, { id: 'a', bundle });
    await locked('a', startContainer);
    expect(listContainers(env).map((s) => [s.id, s.status])).toEqual([['a', 'running'], ['b', 'created']]);
  });
  test('an absent --root lists nothing', () => {
    expect(listContainers(env)).toEqual([]);
  });
});

describe('run', () => {
  test('a foreground run returns the exit status and deletes the container', async () => {
    const { runContainer } = await import('./container-run');
    const running = runContainer(env, { id: 'fg', bundle });
    while (sandbox.pids.length === 0 || containerState(env, 'fg').status !== 'running') await new Promise((r) => setTimeout(r, 5));
    // Without hooks or a pid file the sandbox was asked to start init by itself.
    expect(sandbox.requests.at(-1)?.startAtOnce).toBe(true);
    expect(sandbox.calls).not.toContain('start fg');
    process.kill(sandbox.pids[0], 'SIGTERM');
    expect(await running).toBe(128 + os.constants.signals.SIGTERM);
    expect(() => containerState(env, 'fg')).toThrow(NotExistError);
  });
  test('with hooks or a pid file, run creates and then starts, as two steps', async () => {
    const { runContainer } = await import('./container-run');
    const pidFile = path.join(tmp, 'run.pid');
    expect(await runContainer(env, { id: 'two', bundle, pidFile, detach: true })).toBe(0);
    expect(sandbox.requests.at(-1)?.startAtOnce).toBe(false);
    expect(sandbox.calls).toContain('start two');
    writeConfig((c) => { c.hooks = { poststart: [{ path: hookScript('ok.sh', 'exit 0') }] }; });
    expect(await runContainer(env, { id: 'three', bundle, detach: true })).toBe(0);
    expect(sandbox.requests.at(-1)?.startAtOnce).toBe(false);
    expect(sandbox.calls).toContain('start three');
    expect(containerState(env, 'three').status).toBe('running');
  });
  test('a detached run leaves the container running', async () => {
    const { runContainer } = await import('./container-run');
    expect(await runContainer(env, { id: 'bg', bundle, detach: true })).toBe(0);
    expect(containerState(env, 'bg').status).toBe('running');
  });
});
