import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nullLogger } from '../log';
import { defaultSpec } from '../../oci/default-spec';
import { Container, type ContainerEnv } from './container';
import { createContainer } from './container-create';
import { parseDuration, statsEvent, watchEvents } from './container-events';
import { NotExistError, StatusError } from './errors';
import type { SandboxRef, SandboxStats } from './sandbox';
import { encodeEvent, type ContainerEvent, type ContainerStats } from './stats';
import { StateStore } from './store';
import { FakeSandbox } from './testing/fake-sandbox';

describe('parseDuration (Go time.ParseDuration)', () => {
  test.each([['5s', 5000], ['500ms', 500], ['1m30s', 90_000], ['1.5h', 5_400_000], ['250us', 0.25], ['0', 0], ['-1s', -1000], ['.5s', 500]])(
    '%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  test.each(['1', '', 's', '5 s', '5x', '1s2'])('"%s" is refused', (text) => {
    expect(() => parseDuration(text)).toThrow(/^invalid duration ".*": use a number with a unit/);
  });
});

test('encodeEvent prints 64-bit counters exactly and leaves out absent fields', () => {
  const e: ContainerEvent = { type: 'stats', id: 'c', data: { pids: { current: 3, limit: undefined }, memory: { usage: { limit: 9223372036854771712n, failcnt: 0 } } } as unknown as ContainerStats };
  expect(encodeEvent(e)).toBe('{"type":"stats","id":"c","data":{"pids":{"current":3},"memory":{"usage":{"limit":9223372036854771712,"failcnt":0}}}}');
  expect(encodeEvent({ type: 'oom', id: 'c' })).toBe('{"type":"oom","id":"c"}');
});

/** StatsSandbox is the fake sandbox with figures and an OOM-kill count a test can raise. */
class StatsSandbox extends FakeSandbox {
  kills = 0;
  reads = 0;
  async stats(_ref: SandboxRef): Promise<SandboxStats> {
    this.reads++;
    return { data: { pids: { current: 1 } } as ContainerStats, oomKills: this.kills };
  }
  async oomKills(): Promise<number> {
    return this.kills;
  }
}

describe('events', () => {
  let tmp: string;
  let env: ContainerEnv;
  let sandbox: StatsSandbox;

  beforeEach(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-events-'));
    const bundle = path.join(tmp, 'bundle');
    fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
    const spec = defaultSpec();
    spec.process!.terminal = false;
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
    sandbox = new StatsSandbox();
    env = { store: new StateStore(path.join(tmp, 'root')), sandbox, log: nullLogger };
    await createContainer(env, { id: 'e1', bundle });
  });

  afterEach(() => {
    sandbox.killAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('--stats gives one stats event of a live container', async () => {
    expect(await statsEvent(env, 'e1')).toEqual({ type: 'stats', id: 'e1', data: { pids: { current: 1 } } });
    await expect(statsEvent(env, 'nosuch')).rejects.toThrow(NotExistError);
  });

  test('the loop gives stats each interval and one oom event per kill, and ends when the container stops', async () => {
    const got: ContainerEvent[] = [];
    const pid = Container.load(env, 'e1').record.pid!;
    const done = watchEvents(env, 'e1', { intervalMs: 40, pollMs: 10 }, (e) => {
      got.push(e);
      const stats = got.filter((g) => g.type === 'stats').length;
      if (stats === 2 && e.type === 'stats') sandbox.kills = 2;
      if (got.some((g) => g.type === 'oom') && stats === 3 && e.type === 'stats') process.kill(pid, 'SIGKILL');
    });
    await done;
    expect(got.map((e) => e.type)).toEqual(['stats', 'stats', 'oom', 'oom', 'stats']);
    expect(got.every((e) => e.id === 'e1')).toBe(true);
  });

  test('a stopped container is refused with runc\'s message', async () => {
    const ref = Container.load(env, 'e1').sandboxRef();
    process.kill(ref.pid, 'SIGKILL');
    await sandbox.wait(ref, 5000);
    await expect(statsEvent(env, 'e1')).rejects.toThrow(new StatusError('container with id e1 is not running', 'stopped'));
    await expect(watchEvents(env, 'e1', { intervalMs: 1000 }, () => {})).rejects.toThrow('container with id e1 is not running');
  });

  test('the loop ends when the container is deleted, and at once when aborted', async () => {
    const stop = new AbortController();
    const aborted = watchEvents(env, 'e1', { intervalMs: 60_000, signal: stop.signal }, () => {});
    stop.abort();
    await aborted;
    const deleted = watchEvents(env, 'e1', { intervalMs: 60_000, pollMs: 10 }, () => {});
    env.store.remove('e1');
    await deleted;
    await expect(watchEvents(env, 'e1', { intervalMs: 0 }, () => {})).rejects.toThrow('--interval must be greater than 0');
  });
});
