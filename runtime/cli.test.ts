import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from './main';
import { defaultSpec } from '../oci/default-spec';
import pkg from '../package.json';

/** tvisor runs main() in-process and captures what it writes. */
async function tvisor(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out += a.join(' ') + '\n'; });
  const cerr = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err += a.join(' ') + '\n'; });
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    o.mockRestore(); e.mockRestore(); log.mockRestore(); cerr.mockRestore();
  }
}

let tmp: string;
let root: string;
let bundle: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-cli-'));
  root = path.join(tmp, 'root');
  bundle = path.join(tmp, 'bundle');
  fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
});
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

function writeConfig(change: (c: any) => void): void {
  const c: any = defaultSpec();
  c.process.terminal = false;
  change(c);
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(c));
}

describe('global behaviour', () => {
  test('--version prints the version and the spec version like runc', async () => {
    const r = await tvisor('--version');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toBe(`tvisor version ${pkg.version}`);
    expect(lines[1]).toBe('spec: 1.2.0');
  });

  test('--help lists the OCI commands, the extras and the internal gofer', async () => {
    const r = await tvisor('--help');
    expect(r.code).toBe(0);
    for (const c of ['create', 'start', 'state', 'kill', 'delete', 'list', 'spec', 'features', 'install', 'uninstall', 'do', 'gofer']) {
      expect(r.out).toMatch(new RegExp(`tvisor ${c}\\b`));
    }
    expect(r.out).toMatch(/--root .*\/run\/tvisor/);
  });

  test('unknown commands and flags are one line and exit 1', async () => {
    let r = await tvisor('frobnicate');
    expect([r.code, r.err]).toEqual([1, 'tvisor: unknown command "frobnicate" (see tvisor --help)\n']);
    r = await tvisor('--bogus', 'list');
    expect([r.code, r.err]).toEqual([1, 'tvisor: unknown global flag "--bogus" (see tvisor --help)\n']);
    r = await tvisor('--root', root, 'list', '--nope');
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^tvisor: Unknown argument: nope/);
    r = await tvisor('--platform', 'vmware', 'list');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^tvisor: Invalid values:/);
  });

  test('runc global flags are accepted', async () => {
    const r = await tvisor('--root', root, '--systemd-cgroup', '--platform', 'kvm', '--network', 'host', '--strace', '--debug', 'list', '-q');
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
  });

  test('--platform names the systrap backend too', async () => {
    const r = await tvisor('--root', root, '--platform', 'systrap', 'list', '-q');
    expect([r.code, r.out, r.err]).toEqual([0, '', '']);
  });
});

describe('state, list, kill, delete, start on unknown ids', () => {
  test.each([['state'], ['start'], ['kill'], ['delete']])('%s of an unknown id says it does not exist', async (cmd) => {
    const r = await tvisor('--root', root, cmd, 'ghost');
    expect(r.code).toBe(1);
    expect(r.err).toBe('tvisor: container "ghost" does not exist\n');
  });
  test('delete --force of an unknown id succeeds', async () => {
    expect((await tvisor('--root', root, 'delete', '--force', 'ghost')).code).toBe(0);
  });
  test('an invalid id is refused', async () => {
    const r = await tvisor('--root', root, 'state', '../etc');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^tvisor: invalid container id "\.\.\/etc"/);
  });
  test('the bundles make no dynamic import() (bin/tvisor runs them through vm.Script, which has no loader for it)', () => {
    const dist = path.resolve(__dirname, '..', 'dist');
    for (const f of ['tvisor.js', 'tvisor-yargs.js', 'tvisor-winston.js', 'sentry.js', 'gofer.js']) {
      expect(fs.readFileSync(path.join(dist, f), 'utf8')).not.toMatch(/\bimport\(\s*["'`]/);
    }
  });
  test("the CLI's bundle requires yargs and winston from their own bundles beside it, and holds neither", () => {
    const dist = path.resolve(__dirname, '..', 'dist');
    const cli = fs.readFileSync(path.join(dist, 'tvisor.js'), 'latin1');
    expect([...cli.matchAll(/require\("(\.\/tvisor-[a-z]+\.js)"\)/g)].map((m) => m[1]).sort()).toEqual(['./tvisor-winston.js', './tvisor-yargs.js']);
    // Their sources' own markers: yargs-parser's and winston's logform.
    expect(cli).not.toMatch(/node_modules\/(yargs|yargs-parser|winston|logform)\//);
    expect(fs.readFileSync(path.join(dist, 'tvisor-yargs.js'), 'latin1')).toMatch(/node_modules\/yargs-parser\//);
    expect(fs.readFileSync(path.join(dist, 'tvisor-winston.js'), 'latin1')).toMatch(/node_modules\/logform\//);
  });
  test('the bundles are ASCII (one other character makes V8 hold the whole source as a two-byte string: slower to decode and hash at every start)', () => {
    const dist = path.resolve(__dirname, '..', 'dist');
    for (const f of ['tvisor.js', 'sentry.js', 'gofer.js']) {
      const text = fs.readFileSync(path.join(dist, f), 'latin1');
      // eslint-disable-next-line no-control-regex
      expect({ f, at: text.search(/[^\x00-\x7f]/) }).toEqual({ f, at: -1 });
    }
  });
  test("the sentry's bundle does not load node:net at its top level (net and its streams at every start, for a lifeline pipe and diod's 9P)", () => {
    // The bundle is minified (scripts/build.mjs): what its top level loads is read from
    // Node's list of the built-in modules a process loaded, after evaluating the bundle
    // in a fresh process (its main is not called).
    const bundle = path.resolve(__dirname, '..', 'dist', 'sentry.js');
    const loaded = (pre: string) => JSON.parse(execFileSync(process.execPath, ['-e', `${pre}require(${JSON.stringify(bundle)}); console.log(JSON.stringify(process.moduleLoadList.filter((m) => /^NativeModule (net|stream)$/.test(m))))`], { encoding: 'utf8' })) as string[];
    expect(loaded('')).toEqual([]);
    expect(loaded("require('node:net'); ")).toEqual(['NativeModule stream', 'NativeModule net']); // the probe sees a load
  });
  test("the sentry's and the gofer's bundles embed their own seccomp program (kill mode) and no other process's", () => {
    const dist = path.resolve(__dirname, '..', 'dist');
    const embedded = (f: string) => [...fs.readFileSync(path.join(dist, f), 'latin1').matchAll(/"(sentry|gofer):(kill|trap|log)":"/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(embedded('sentry.js')).toEqual(['sentry:kill']);
    expect(embedded('gofer.js')).toEqual(['gofer:kill']);
    expect(embedded('tvisor.js')).toEqual([]);
  });
  test('exec --preserve-fds is refused in one line, not ignored', async () => {
    const r = await tvisor('--root', root, 'exec', '--preserve-fds', '2', 'any', 'true');
    expect(r.code).toBe(255); // runc's status for any failed exec
    expect(r.err).toBe('tvisor: exec --preserve-fds is not supported by tvisor yet (create and run support it)\n');
  });
  test('kill with an unknown signal names it', async () => {
    const r = await tvisor('--root', root, 'kill', 'x', 'SIGBOGUS');
    expect(r.err).toBe('tvisor: unknown signal "SIGBOGUS"\n');
  });
  test('list of an empty root: table header, [] as JSON, nothing with -q', async () => {
    expect((await tvisor('--root', root, 'list')).out).toBe('ID          PID         STATUS      BUNDLE      CREATED     OWNER\n');
    expect(JSON.parse((await tvisor('--root', root, 'list', '--format', 'json')).out)).toEqual([]);
    expect((await tvisor('--root', root, 'list', '-q')).out).toBe('');
  });
});

describe('create', () => {
  test('a malformed config is one error line naming the JSON path and leaves nothing', async () => {
    writeConfig((c) => { c.process.args = []; });
    const r = await tvisor('--root', root, 'create', '--bundle', bundle, 'c1');
    expect(r.code).toBe(1);
    expect(r.err).toBe('tvisor: config.json: process.args: must be a non-empty array\n');
    expect(fs.existsSync(root)).toBe(false);
  });

  test('a missing config.json is named', async () => {
    const r = await tvisor('--root', root, 'create', '-b', path.join(tmp, 'nowhere'), 'c1');
    expect(r.err).toMatch(/^tvisor: bundle .*nowhere: cannot read config\.json: ENOENT\n$/);
  });

  test('a program that does not exist fails create with one clear line, leaving nothing under --root', async () => {
    writeConfig((c) => { c.process.args = ['/no/such/program']; c.process.terminal = false; });
    const logFile = path.join(tmp, 'log.json');
    const pidFile = path.join(tmp, 'pid');
    const r = await tvisor('--root', root, '--log', logFile, '--log-format', 'json', 'create', '-b', bundle, '--pid-file', pidFile, 'c1');
    expect(r.code).toBe(1);
    expect(r.err).toBe('tvisor: exec "/no/such/program": no such file or directory\n');
    expect(fs.existsSync(root)).toBe(false);
    expect(fs.existsSync(pidFile)).toBe(false);
    const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const last = lines[lines.length - 1];
    expect(last.level).toBe('error');
    expect(last.msg).toBe(r.err.slice('tvisor: '.length).trim());
    expect(typeof last.time).toBe('string');
    expect(Number.isNaN(Date.parse(last.time))).toBe(false);
  });

  test('text logs are logrus-style lines', async () => {
    writeConfig((c) => { c.ociVersion = '9.0.0'; });
    const logFile = path.join(tmp, 'log.txt');
    await tvisor('--root', root, '--log', logFile, 'create', '-b', bundle, 'c1');
    expect(fs.readFileSync(logFile, 'utf8')).toMatch(/^time="[^"]+" level=error msg="config\.json: ociVersion: unsupported version \\"9\.0\.0\\".*"/m);
  });
});

describe('spec and features', () => {
  test('spec writes a valid default config and refuses to overwrite it', async () => {
    expect((await tvisor('spec', '--bundle', bundle)).code).toBe(0);
    const written = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    expect(written.ociVersion).toBe('1.2.0');
    expect(written.process.args).toEqual(['sh']);
    const r = await tvisor('spec', '-b', bundle);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/config\.json exists\. Remove it first/);
    fs.rmSync(path.join(bundle, 'config.json'));
    await tvisor('spec', '-b', bundle, '--rootless');
    const rootless = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    expect(rootless.linux.namespaces.map((n: any) => n.type)).toContain('user');
  });

  test('features prints the OCI features document', async () => {
    const f = JSON.parse((await tvisor('features')).out);
    expect(f.ociVersionMin).toBe('1.0.0');
    expect(f.ociVersionMax).toBe('1.2.0');
    expect(f.hooks).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
    expect(f.linux.namespaces).toContain('pid');
  });
});

describe('install and uninstall', () => {
  test('edit only the tvisor runtime entry of daemon.json', async () => {
    const file = path.join(tmp, 'daemon.json');
    fs.writeFileSync(file, JSON.stringify({ debug: true, runtimes: { runsc: { path: '/usr/bin/runsc' } } }));
    expect((await tvisor('install', '--config-file', file)).code).toBe(0);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(doc.debug).toBe(true);
    expect(doc.runtimes.runsc).toEqual({ path: '/usr/bin/runsc' });
    expect(path.isAbsolute(doc.runtimes.tvisor.path)).toBe(true);
    expect((await tvisor('uninstall', '--config-file', file)).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ debug: true, runtimes: { runsc: { path: '/usr/bin/runsc' } } });
  });
});

describe('what a lifecycle command loads', () => {
  // net (with the streams under it), crypto and child_process cost a few ms each at every
  // start: the lifecycle commands load each only on the path that uses it (a sentry's
  // socket, a detached exec's random name, a hook, ps); yargs and winston (bundles of their
  // own, scripts/build.mjs) only for a line the lean parser leaves to yargs, and an event logged. The commands run on a --root
  // without the container, which takes each up to its state lookup.
  const bin = path.join(__dirname, '..', 'bin', 'tvisor');
  const ALL = ['net', 'crypto', 'child_process'];
  test.each([
    ['state', ['state', 'nope'], ALL],
    ['kill', ['kill', 'nope', 'KILL'], ALL],
    ['start', ['start', 'nope'], ALL],
    ['exec', ['exec', 'nope', 'true'], ALL],
    // delete hashes the state directory's path (store.ts: its short alias), without crypto (sha256.ts).
    ['delete', ['delete', 'nope'], ALL],
  ])('%s does not load what it does not use', (_name, args, unused) => {
    if (!fs.existsSync(bin) || !fs.existsSync(path.join(__dirname, '..', 'dist', 'tvisor.js'))) throw new Error('bin/tvisor is not built: run make');
    const hook = path.join(tmp, 'hook.js');
    const list = path.join(tmp, 'modules');
    // Node's built-ins, then the files required (the CLI's yargs and winston bundles among them).
    fs.writeFileSync(hook, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, [...process.moduleLoadList, ...Object.keys(require.cache).map((f) => 'File ' + require('path').basename(f))].join('\\n')));\n`);
    // stdout and stderr are files, as a pipe would load net for process.stdout itself.
    const out = fs.openSync(path.join(tmp, 'out'), 'w');
    const r = spawnSync(process.execPath, ['--require', hook, bin, '--root', root, ...args], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    expect(fs.readFileSync(path.join(tmp, 'out'), 'utf8')).toBe(`tvisor: container "nope" does not exist\n`);
    expect(r.status).not.toBe(0);
    const loaded = fs.readFileSync(list, 'utf8').split('\n').filter((m) => unused.some((u) => m === `NativeModule ${u}`) || /^File tvisor-(yargs|winston)\.js$/.test(m));
    expect(loaded).toEqual([]);
  });
});

describe('the built binary', () => {
  const bin = path.join(__dirname, '..', 'bin', 'tvisor');
  const built = fs.existsSync(bin) && fs.existsSync(path.join(__dirname, '..', 'dist', 'tvisor.js'));
  (built ? test : test.skip)('bin/tvisor exits with the status main returns (skipped unless `make` ran)', () => {
    const ok = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^tvisor version /);
    const bad = spawnSync(bin, ['--root', root, 'state', 'nope'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('tvisor: container "nope" does not exist\n');
    const inst = spawnSync(bin, ['install', '--config-file', path.join(tmp, 'd.json')], { encoding: 'utf8' });
    expect(inst.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 'd.json'), 'utf8')).runtimes.tvisor.path).toBe(fs.realpathSync(bin));
  });
});
