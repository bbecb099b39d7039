/**
 * `tvisor do CMD...` (runsc do's counterpart): a host program run in a sandbox whose root
 * is the host's / (read-only, through the gofer). Its output and exit status must be
 * those of the same program run natively; the program's own flags stay its own.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');
const usable = process.getuid?.() === 0 && fs.existsSync(TVISOR);

/** run runs cmd from / (not from the checkout, which may lie under /tmp: `do` would then
 * keep the host's read-only /tmp, see the test below). */
function run(cmd: string[], opts: { cwd?: string } = {}) {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', timeout: 60_000, cwd: opts.cwd ?? '/' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

(usable ? describe : describe.skip)('tvisor do', () => {
  const cases: string[][] = [
    ['/bin/echo', 'a', 'b'],
    ['ls', '-d', '/etc', '/usr/bin'],
    ['ls', '--version'],
    ['sh', '-c', 'echo "$0 $1"; exit 7', 'x', 'y'],
    ['cat', '/etc/os-release'],
    // Threads (glibc's PROT_NONE stacks opened by mprotect), a child process, a temporary file.
    [
      'python3',
      '-c',
      'import threading, subprocess, tempfile\n' +
        'out = []\n' +
        'ts = [threading.Thread(target=lambda i=i: out.append(sum(range(i * 1000)))) for i in range(4)]\n' +
        '[t.start() for t in ts]; [t.join() for t in ts]\n' +
        'print(sorted(out))\n' +
        'print(subprocess.run(["echo", "child"], capture_output=True, text=True).stdout, end="")\n' +
        'with tempfile.NamedTemporaryFile("w+") as f: f.write("tmp ok"); f.seek(0); print(f.read())',
    ],
    // Sockets: socketpair, a localhost TCP echo server on a thread, multiprocessing.Pipe, getaddrinfo.
    [
      'python3',
      '-c',
      'import socket, threading, multiprocessing\n' +
        'a, b = socket.socketpair(); a.sendall(b"ping"); print("socketpair:", b.recv(10))\n' +
        'srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen()\n' +
        'def serve():\n' +
        '    for _ in range(2):\n' +
        '        c, _ = srv.accept()\n' +
        '        with c: c.sendall(c.recv(100).upper())\n' +
        't = threading.Thread(target=serve); t.start()\n' +
        'for w in (b"one", b"two"):\n' +
        '    with socket.create_connection(("localhost", srv.getsockname()[1])) as c: c.sendall(w); print("tcp echo:", c.recv(100))\n' +
        't.join()\n' +
        'def child(conn): conn.send({"sum": sum(conn.recv())}); conn.close()\n' +
        'p1, p2 = multiprocessing.Pipe()\n' +
        'pr = multiprocessing.Process(target=child, args=(p2,)); pr.start()\n' +
        'p1.send([1, 2, 3]); print("Pipe:", p1.recv()); pr.join(); print("exit", pr.exitcode)\n' +
        'print("getaddrinfo:", sorted({ai[4][0] for ai in socket.getaddrinfo("localhost", 80, proto=socket.IPPROTO_TCP)}))',
    ],
    // asyncio: epoll on loopback TCP sockets, and timers.
    [
      'python3',
      '-c',
      'import asyncio\n' +
        'async def handle(r, w):\n' +
        '    w.write((await r.read(100)).upper()); await w.drain(); w.close()\n' +
        'async def main():\n' +
        '    srv = await asyncio.start_server(handle, "127.0.0.1", 0)\n' +
        '    r, w = await asyncio.open_connection("127.0.0.1", srv.sockets[0].getsockname()[1])\n' +
        '    w.write(b"hello epoll"); await w.drain()\n' +
        '    print((await r.read(100)).decode()); w.close(); srv.close()\n' +
        '    await asyncio.gather(*[asyncio.sleep(0.01) for _ in range(10)]); print("timers ok")\n' +
        'asyncio.run(main())',
    ],
  ];
  test.each(cases)('%s ... matches the native run', (...cmd) => {
    const native = run(cmd);
    const sandboxed = run([TVISOR, 'do', ...cmd]);
    expect(sandboxed.stdout).toBe(native.stdout);
    expect(sandboxed.status).toBe(native.status);
  });

  test('--cwd sets the working directory, and the host\'s / is read-only', () => {
    const r = run([TVISOR, 'do', '--cwd', '/etc', 'sh', '-c', 'pwd; touch /etc/tvisor-do-probe 2>/dev/null || echo read-only']);
    expect(r.stdout).toBe('/etc\nread-only\n');
    expect(fs.existsSync('/etc/tvisor-do-probe')).toBe(false);
  });

  test('/tmp is a writable tmpfs of the sandbox\'s own', () => {
    const probe = `tvisor-do-probe-${process.pid}`;
    const r = run([TVISOR, 'do', 'sh', '-c', `echo hi > /tmp/${probe} && cat /tmp/${probe} && grep ' /tmp ' /proc/mounts | cut -d' ' -f3`]);
    expect(r.stdout).toBe('hi\ntmpfs\n');
    expect(fs.existsSync(`/tmp/${probe}`)).toBe(false);
  });

  test('a working directory inside the host\'s /tmp stays visible (no tmpfs over it)', () => {
    const dir = fs.mkdtempSync('/tmp/tvisor-do-cwd-');
    try {
      fs.writeFileSync(path.join(dir, 'here'), 'x');
      const r = run([TVISOR, 'do', '--cwd', dir, 'ls']);
      expect({ stdout: r.stdout, status: r.status }).toEqual({ stdout: 'here\n', status: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a working directory that does not exist: one error line naming it', () => {
    const r = run([TVISOR, 'do', '--cwd', '/nonexistent-tvisor-cwd', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('tvisor: chdir to cwd ("/nonexistent-tvisor-cwd") set in config.json failed: no such file or directory\n');
  });

  test('ls -la asks for extended attributes (ACLs, SELinux labels) and stays quiet, as natively', () => {
    const cmd = ['ls', '-la', '/etc/hostname', '/etc/passwd', '/nonexistent-tvisor-ls'];
    const native = run(cmd);
    const sandboxed = run([TVISOR, 'do', ...cmd]);
    expect({ stdout: sandboxed.stdout, stderr: sandboxed.stderr, status: sandboxed.status })
      .toEqual({ stdout: native.stdout, stderr: native.stderr, status: native.status });
  });

  // Real Go programs (Debian packages the tests install): the Go runtime starts threads,
  // sets up epoll and an eventfd for its network poller and runs goroutines before main.
  const goPrograms = [['/usr/bin/runsc', '--version'], ['/usr/bin/runsc', 'help'], ['/usr/bin/docker', '--version'], ['/usr/bin/containerd', '--version']];
  for (const cmd of goPrograms) {
    const present = fs.existsSync(cmd[0]);
    (present ? test : test.skip)(`Go: ${cmd.join(' ')}${present ? '' : ' (skipped: not installed)'} prints and exits as natively`, () => {
      const native = run(cmd);
      expect(native.status).toBe(0);
      const sandboxed = run([TVISOR, 'do', ...cmd]);
      expect({ stdout: sandboxed.stdout, stderr: sandboxed.stderr, status: sandboxed.status })
        .toEqual({ stdout: native.stdout, stderr: native.stderr, status: native.status });
    });
  }

  test('without --platform the sentry takes the default `tvisor platforms` marks and says so in the debug log; --platform ptrace is kept', () => {
    const listed = JSON.parse(run([TVISOR, 'platforms', '--format', 'json']).stdout) as { name: string; default?: boolean }[];
    const chosen = listed.filter((c) => c.default).map((c) => c.name);
    expect(chosen.length).toBe(1);
    const dir = fs.mkdtempSync(path.join('/tmp', 'tvisor-do-platform-'));
    try {
      const logOf = (name: string, flags: string[]) => {
        const log = path.join(dir, name);
        expect(run([TVISOR, ...flags, '--debug-log', log, 'do', '/bin/true']).status).toBe(0);
        return fs.readFileSync(log, 'utf8').split('\n').filter((l) => / platform \w+: the default/.test(l));
      };
      const byDefault = logOf('default.log', []);
      expect(byDefault.length).toBe(1);
      expect(byDefault[0]).toMatch(new RegExp(`platform ${chosen[0]}: the default`));
      expect(logOf('ptrace.log', ['--platform', 'ptrace'])).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without a command: one error line', () => {
    const r = run([TVISOR, 'do']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('tvisor: do: a command is required (tvisor do CMD [ARG...])\n');
  });
});
