import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HookError, runHook, runHooks } from './hooks';
import type { State } from '../../oci/state';
import type { Logger } from '../log';

const state: State = { ociVersion: '1.2.0', id: 'hooked', status: 'created', pid: 4242, bundle: '/b', annotations: { a: 'b' } };
let dir: string;

function script(name: string, body: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, error: () => {}, warn: (m) => { warnings.push(m); }, info: () => {}, debug: () => {}, toFile: false, close: async () => {} };
}

beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-hooks-')); });
afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

describe('runHook', () => {
  test('passes the state on stdin, args with argv[0] and exactly the given env', async () => {
    const out = path.join(dir, 'out');
    const hook = script('h.sh', `cat > ${out}.stdin; echo "$0|$1|$2" > ${out}.args; env > ${out}.env`);
    await runHook({ path: hook, args: ['myname', 'one', 'two'], env: ['FOO=bar=baz'] }, state, 'hooks.prestart[0]');
    expect(JSON.parse(fs.readFileSync(`${out}.stdin`, 'utf8'))).toEqual(state);
    // For a script, $0 is the script path whatever argv[0] was; args[1..] are $1, $2.
    expect(fs.readFileSync(`${out}.args`, 'utf8').trim().split('|').slice(1)).toEqual(['one', 'two']);
    const env = fs.readFileSync(`${out}.env`, 'utf8').trim().split('\n').filter((l) => !/^(PWD|SHLVL|_)=/.test(l));
    expect(env).toEqual(['FOO=bar=baz']);
  });

  test('argv[0] comes from args[0]', async () => {
    const out = path.join(dir, 'argv0');
    // Run /bin/sh itself as the hook with a chosen argv[0] and read its /proc cmdline.
    await runHook({ path: '/bin/sh', args: ['custom-argv0', '-c', `tr '\\0' ' ' < /proc/$$/cmdline > ${out}`] }, state, 'h');
    expect(fs.readFileSync(out, 'utf8').split(' ')[0]).toBe('custom-argv0');
  });

  test('reports a non-zero exit with the hook output', async () => {
    const hook = script('fail.sh', 'echo broken >&2; exit 3');
    await expect(runHook({ path: hook }, state, 'hooks.createRuntime[1]')).rejects.toThrow(
      `hook hooks.createRuntime[1] (${hook}) failed with exit status 3: broken`,
    );
  });

  test('kills a hook that outlives its timeout', async () => {
    const hook = script('slow.sh', 'exec sleep 30');
    const err = await runHook({ path: hook, timeout: 1 }, state, 'hooks.startContainer[0]').catch((e) => e);
    expect(err).toBeInstanceOf(HookError);
    expect(err.message).toMatch(/timed out after 1s/);
  });

  test('reports a hook that cannot be executed', async () => {
    await expect(runHook({ path: path.join(dir, 'missing') }, state, 'x')).rejects.toThrow(/cannot be run: ENOENT/);
  });

  test('a hook that ignores stdin still succeeds', async () => {
    await expect(runHook({ path: script('quiet.sh', 'exit 0') }, { ...state, annotations: { big: 'x'.repeat(1 << 20) } }, 'x')).resolves.toBeUndefined();
  });
});

describe('runHooks', () => {
  test('runs hooks in order and stops at the first failing createRuntime hook', async () => {
    const log = path.join(dir, 'order');
    const hooks = {
      createRuntime: [
        { path: script('a.sh', `echo a >> ${log}`) },
        { path: script('b.sh', `echo b >> ${log}; exit 1`) },
        { path: script('c.sh', `echo c >> ${log}`) },
      ],
    };
    await expect(runHooks(hooks, 'createRuntime', state, recordingLogger())).rejects.toThrow(/exit status 1/);
    expect(fs.readFileSync(log, 'utf8')).toBe('a\nb\n');
  });

  test('a failing poststop hook is a warning and the rest still run', async () => {
    const log = path.join(dir, 'order');
    const hooks = {
      poststop: [
        { path: script('a.sh', `echo a >> ${log}; exit 2`) },
        { path: script('b.sh', `echo b >> ${log}`) },
      ],
    };
    const logger = recordingLogger();
    await runHooks(hooks, 'poststop', state, logger);
    expect(fs.readFileSync(log, 'utf8')).toBe('a\nb\n');
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/hooks\.poststop\[0\].*exit status 2/);
  });

  test('no hooks is a no-op', async () => {
    await expect(runHooks(undefined, 'prestart', state, recordingLogger())).resolves.toBeUndefined();
  });
});
