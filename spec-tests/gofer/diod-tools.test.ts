/**
 * Real 9P clients against the gofer: Debian's diodls and diodcat (TCP only, so socat
 * bridges a loopback port to the gofer's Unix socket). Their output is compared with
 * what the host file system says. Also shows the difference in confinement: diod itself
 * serves the target of a symlink to /etc/shadow, the gofer does not.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { built, GoferProcess } from './harness';

const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const tools = have('diodls') && have('diodcat') && have('socat') && have('diod');
const why = !built ? 'bin/tvisor is not built' : !tools ? 'diod, diodls, diodcat or socat is not installed (apt-get install diod socat)' : '';
const describeIf = why ? describe.skip : describe;
if (why) console.warn(`skipping diod client tests: ${why}`);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitPort(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describeIf('diodls and diodcat against the gofer', () => {
  let base: string;
  let gofer: GoferProcess;
  let bridge: ChildProcess;
  let server: string;
  let diod: ChildProcess | undefined;
  let diodServer = '';

  beforeAll(async () => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-diodtools-'));
    fs.mkdirSync(path.join(base, 'dir/nested'), { recursive: true });
    fs.writeFileSync(path.join(base, 'hello.txt'), 'hello from the gofer\n');
    fs.writeFileSync(path.join(base, 'dir/nested/deep.txt'), 'deep\n');
    fs.writeFileSync(path.join(base, 'big.bin'), Buffer.alloc(300_000, 7));
    fs.symlinkSync('/etc/shadow', path.join(base, 'shadow-link'));
    gofer = await GoferProcess.start(['--root', base]);
    const port = await freePort();
    bridge = spawn('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `UNIX-CONNECT:${gofer.socketPath}`], { stdio: 'ignore' });
    await waitPort(port);
    server = `127.0.0.1:${port}`;
    if (process.getuid?.() === 0) {
      const dport = await freePort();
      // cwd: a core file of diod's (it may abort after SIGTERM) goes with `base`, not into the repository.
      diod = spawn('diod', ['-f', '-n', '-l', `127.0.0.1:${dport}`, '-e', base], { stdio: 'ignore', cwd: base });
      await waitPort(dport);
      diodServer = `127.0.0.1:${dport}`;
    }
  });

  afterAll(async () => {
    diod?.kill();
    bridge?.kill();
    await gofer?.stop();
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('lists the export root as the host sees it (diodls -l)', () => {
    const r = run('diodls', ['-s', server, '-a', '/', '-l', '/']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const names = lines.map((l) => l.trim().split(/\s+/).pop()).sort();
    expect(names).toEqual(['.', '..', ...fs.readdirSync(base)].sort());
    const hello = lines.find((l) => l.endsWith(' hello.txt'))!;
    expect(hello.split(/\s+/)[4]).toBe(String(fs.statSync(path.join(base, 'hello.txt')).size));
  });

  const asRoot = process.getuid?.() === 0; // diod serves as root only
  (asRoot ? it : it.skip)('lists every directory as diod lists the same tree', () => {
    for (const dir of ['/', '/dir', '/dir/nested']) {
      const ours = run('diodls', ['-s', server, '-a', '/', dir]);
      const theirs = run('diodls', ['-s', diodServer, '-a', base, dir]);
      expect(ours.status).toBe(0);
      expect(ours.stdout.split('\n').sort()).toEqual(theirs.stdout.split('\n').sort());
      // With -l, every line matches but `..` of the root, which diod takes from the host.
      const strip = (out: string) => out.split('\n').filter((l) => !(dir === '/' && l.endsWith(' ..'))).sort();
      const oursL = run('diodls', ['-s', server, '-a', '/', '-l', dir]);
      const theirsL = run('diodls', ['-s', diodServer, '-a', base, '-l', dir]);
      expect(strip(oursL.stdout)).toEqual(strip(theirsL.stdout));
    }
  });

  it('reads files byte for byte (diodcat)', () => {
    const r = spawnSync('diodcat', ['-s', server, '-a', '/', 'hello.txt', 'dir/nested/deep.txt', 'big.bin'], { timeout: 20_000 });
    expect(r.status).toBe(0);
    const expected = Buffer.concat(['hello.txt', 'dir/nested/deep.txt', 'big.bin'].map((f) => fs.readFileSync(path.join(base, f))));
    expect(Buffer.compare(r.stdout, expected)).toBe(0);
  });

  it('does not serve /etc/shadow through a symlink', () => {
    const r = run('diodcat', ['-s', server, '-a', '/', 'shadow-link']);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Too many levels of symbolic links/);
  });

  (asRoot ? it : it.skip)('(for contrast) diod itself follows that symlink to the host file', () => {
    const r = spawnSync('diodcat', ['-s', diodServer, '-a', base, 'shadow-link'], { timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(Buffer.compare(r.stdout, fs.readFileSync('/etc/shadow'))).toBe(0);
  });
});

