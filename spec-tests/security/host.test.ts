/**
 * The sandbox's own host processes are confined (README "The sandbox's host processes"):
 * while a container runs, the sentry, the gofer and every ptrace stub are under a
 * seccomp filter with no_new_privs; a call outside a process's allowlist ends that
 * process (and with --debug the process names the call first). While a container walks
 * its tree, the sentry holds no host directory (the gofer passes regular files only).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { OciRuntime } from '../oci/harness';

const REPO = path.resolve(__dirname, '../..');
const TVISOR = path.join(REPO, 'bin', 'tvisor');

/** status reads the fields of /proc/<pid>/status. */
function status(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** children lists the child processes of every thread of `pid` (for the sentry: its stubs). */
function children(pid: number): number[] {
  return fs.readdirSync(`/proc/${pid}/task`).flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
}

/** HostProcs are a running container's tvisor host processes. */
interface HostProcs { sentry: number; gofer: number; stubs: number[] }

function hostProcs(rt: OciRuntime, id: string): HostProcs {
  const st = JSON.parse(fs.readFileSync(path.join(rt.root, id, 'state.json'), 'utf8'));
  const sentry = st.pid as number;
  const gofer = st.sandbox.goferPid as number;
  return { sentry, gofer, stubs: children(sentry) };
}

/** all lists the host processes as [kind, pid]. */
function all(p: HostProcs): [string, number][] {
  return [['sentry', p.sentry], ['gofer', p.gofer], ...p.stubs.map((s): [string, number] => ['stub', s])];
}

describe('tvisor host processes while a container runs', () => {
  if (!fs.existsSync(TVISOR)) throw new Error(`${TVISOR} is missing: run make build`);
  const rt = new OciRuntime('tvisor', TVISOR);
  let procs: HostProcs;

  beforeAll(async () => {
    // Two processes (sh and its sleep), so two stubs besides the sentry and the gofer.
    const bundle = rt.bundle('host', ['sh', '-c', 'sleep 30 & wait']);
    expect(rt.run('create', '--bundle', bundle, 'host-confined').status).toBe(0);
    expect(rt.run('start', 'host-confined').status).toBe(0);
    // The stubs settle once sleep has been exec'd (a fork's stub is replaced at exec).
    let last = '';
    for (let i = 0; i < 200; i++) {
      procs = hostProcs(rt, 'host-confined');
      const now = procs.stubs.join(',');
      if (procs.stubs.length >= 2 && now === last) break;
      last = now;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(procs!.stubs.length).toBeGreaterThanOrEqual(2);
  }, 60_000);
  afterAll(() => rt.cleanup());

  test('each is under a seccomp filter with no_new_privs', () => {
    for (const [what, pid] of all(procs)) {
      const s = status(pid);
      expect([what, s.Seccomp, s.NoNewPrivs]).toEqual([what, '2', '1']);
    }
    // Each stub has its own filter; one born after the sentry's confinement (sleep's) keeps the sentry's too.
    expect(procs.stubs.map((p) => status(p).Seccomp_filters)).toContain('2');
  });

  test('each has mount, IPC and UTS namespaces of its own and an empty root', () => {
    const host = fs.statSync('/');
    for (const [what, pid] of all(procs)) {
      for (const ns of ['mnt', 'ipc', 'uts']) expect([what, ns, fs.readlinkSync(`/proc/${pid}/ns/${ns}`)]).not.toEqual([what, ns, fs.readlinkSync(`/proc/self/ns/${ns}`)]);
      const root = fs.statSync(`/proc/${pid}/root`);
      expect([what, root.dev === host.dev && root.ino === host.ino]).toEqual([what, false]);
      // The sentry's root holds its private devpts (exec -t terminals); the gofer's nothing.
      expect([what, fs.readdirSync(`/proc/${pid}/root`)]).toEqual([what, what === 'gofer' ? [] : ['pts']]);
    }
    // The sentry and the gofer do not share theirs.
    expect(fs.readlinkSync(`/proc/${procs.sentry}/ns/mnt`)).not.toBe(fs.readlinkSync(`/proc/${procs.gofer}/ns/mnt`));
  });

  test('the sentry and its stubs run as nobody without capabilities; the gofer keeps its file capabilities', () => {
    const none = '0000000000000000';
    // CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID, SETGID, SETUID (README).
    const gofer = '00000000000000df';
    for (const [what, pid] of all(procs)) {
      if (what === 'gofer') continue;
      for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
        const st = status(Number(t));
        // The bounding set is the main thread's (below): other threads keep the one they
        // were born with, which no_new_privs makes moot (no execve can raise capabilities).
        expect([what, st.Uid, st.Gid, st.Groups, st.CapInh, st.CapPrm, st.CapEff, st.CapAmb]).toEqual([what, '65534\t65534\t65534\t65534', '65534\t65534\t65534\t65534', '', none, none, none, none]);
      }
      expect([what, status(pid).CapBnd]).toEqual([what, none]);
    }
    const g = status(procs.gofer);
    // Between requests the main thread may keep its last caller's fsuid, fsgid, groups and
    // filesystem capabilities (hostfs/creds.ts switches lazily): its effective set is then
    // a subset of the permitted one, never more.
    expect([g.Uid.split('\t').slice(0, 3), g.CapInh, g.CapPrm, g.CapBnd, g.CapAmb]).toEqual([['0', '0', '0'], none, gofer, gofer, none]);
    expect(BigInt(`0x${g.CapEff}`) & ~BigInt(`0x${gofer}`)).toBe(0n);
    // Its other threads (V8's, libuv's) hold nothing: only the main thread makes host calls.
    for (const t of fs.readdirSync(`/proc/${procs.gofer}/task`).filter((t) => Number(t) !== procs.gofer)) {
      expect([t, status(Number(t)).CapPrm, status(Number(t)).CapEff]).toEqual([t, none, none]);
    }
  });

  test('each holds only the descriptors the README lists', () => {
    const bundle = path.join(rt.dir, 'host');
    // The stub binary of the platform the sandbox runs on (ptrace's, or systrap's under TVISOR_PLATFORM=systrap).
    const stubs = ['tvisor-stub', 'tvisor-systrap-stub'].map((name) => fs.realpathSync(path.join(REPO, 'build', 'native', name)));
    /** kind names what a descriptor is, or returns `other: <target>` for anything undocumented. */
    const kind = (what: string, pid: number, target: string): string => {
      if (/^(pipe|socket):\[\d+\]$/.test(target)) return 'pipe or socket';
      if (/^anon_inode:\[(eventpoll|eventfd)\]$/.test(target)) return 'node';
      if (target === '/dev/null' || target === '/null') return '/dev/null';
      if (target.startsWith(`${bundle}/rootfs`)) return 'rootfs';
      if (target === path.join(rt.dir, 'out') || target === path.join(rt.dir, 'err')) return 'stdio';
      if (what === 'sentry' && target === '/memfd:tvisor-memory (deleted)') return 'memory file';
      if (what === 'sentry' && stubs.includes(target)) return 'stub binary';
      if (what === 'sentry' && target === path.join(rt.root, 'host-confined', 'exit-status')) return 'exit status';
      // The namespace's counters and sysctls for the sandbox's /proc/net/snmp, netstat and /proc/sys/net (sentry/net/netlink/host-proc-net.ts).
      if (what === 'sentry' && /^\/\d+\/task\/\d+\/net\/(snmp|netstat)$/.test(target)) return '/proc/net counters';
      if (what === 'sentry' && /^\/sys\/net\/(core|ipv4)\/[a-z_]+$/.test(target)) return 'namespace sysctl';
      // systrap's placement samples the host's runnable count (native/systrap/addon.cc); seen from the pivoted root.
      if (what === 'sentry' && (target === '/loadavg' || target === '/proc/loadavg')) return 'loadavg';
      if (what === 'gofer' && target === `/${pid}/fd`) return '/proc/self/fd';
      // A bind mount's cache watches (Tcachewatch): the gofer's inotify instances, one handed to the sentry.
      if (target === 'anon_inode:inotify') return 'inotify';
      return `other: ${target}`;
    };
    for (const [what, pid] of all(procs)) {
      const fds = fs.readdirSync(`/proc/${pid}/fd`).map((fd) => [Number(fd), fs.readlinkSync(`/proc/${pid}/fd/${fd}`)] as const);
      if (what === 'stub') {
        expect([what, fds]).toEqual([what, [[3, '/memfd:tvisor-memory (deleted)']]]);
        continue;
      }
      expect([what, fds.map(([, t]) => kind(what, pid, t)).filter((k) => k.startsWith('other'))]).toEqual([what, []]);
    }
  });

  test('every thread of the sentry and the gofer is filtered (TSYNC)', () => {
    for (const pid of [procs.sentry, procs.gofer]) {
      const tasks = fs.readdirSync(`/proc/${pid}/task`);
      expect(tasks.length).toBeGreaterThan(1);
      for (const t of tasks) expect(/^Seccomp:\s+(\d)/m.exec(fs.readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8'))?.[1]).toBe('2');
    }
  });
});

/** hostDirs lists the host directories among `pid`'s descriptors, as [fd, target]. */
function hostDirs(pid: number): [number, string][] {
  const out: [number, string][] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.statSync(`/proc/${pid}/fd/${fd}`).isDirectory()) out.push([Number(fd), fs.readlinkSync(`/proc/${pid}/fd/${fd}`)]);
    } catch {
      // closed since the listing
    }
  }
  return out;
}

// A directory descriptor would let a compromised sentry stat host paths through `..`
// (newfstatat and statx take any directory descriptor): the gofer passes none.
describe('tvisor: the sentry holds no host directory while a container walks its tree', () => {
  if (!fs.existsSync(TVISOR)) throw new Error(`${TVISOR} is missing: run make build`);
  const rt = new OciRuntime('tvisor', TVISOR);
  afterAll(() => rt.cleanup());

  test('ls -R / twice: no descriptor of the sentry is a directory but its own root or its devpts', async () => {
    const bundle = rt.bundle('walk', ['sh', '-c', 'ls -R / >/dev/null 2>&1; ls -R / >/dev/null 2>&1; echo > /walked; sleep 30'], (s) => {
      s.root!.readonly = false;
    });
    for (let i = 0; i < 20; i++) fs.mkdirSync(path.join(bundle, 'rootfs', 'tree', `d${i}`, 'e', 'f'), { recursive: true });
    const created = rt.run('create', '--bundle', bundle, 'host-walk');
    expect([created.status, created.stderr]).toEqual([0, '']);
    const sentry = hostProcs(rt, 'host-walk').sentry;
    const root = fs.statSync(`/proc/${sentry}/root`);
    const pts = fs.statSync(`/proc/${sentry}/root/pts`);
    const allowed = (t: string) => {
      const st = fs.statSync(t);
      return (st.dev === root.dev && st.ino === root.ino) || (st.dev === pts.dev && st.ino === pts.ino);
    };
    expect(rt.run('start', 'host-walk').status).toBe(0);
    const seen = new Set<string>();
    let samples = 0;
    const sample = () => {
      samples++;
      for (const [fd, target] of hostDirs(sentry)) {
        try {
          if (!allowed(`/proc/${sentry}/fd/${fd}`)) seen.add(target);
        } catch {
          // closed since the listing
        }
      }
    };
    // Sampled during both walks and once after (an idle descriptor would stay cached).
    const done = path.join(bundle, 'rootfs', 'walked');
    for (let i = 0; i < 3000 && !fs.existsSync(done); i++) {
      sample();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(fs.existsSync(done)).toBe(true);
    sample();
    expect(samples).toBeGreaterThan(1);
    expect([...seen]).toEqual([]);
  }, 90_000);
});

describe('tvisor --debug', () => {
  const rt = new OciRuntime('tvisor', TVISOR);
  afterAll(() => rt.cleanup());

  test('the sentry and the gofer trap a refused call (a SIGSYS handler names it) instead of dying silently', () => {
    const bundle = rt.bundle('debug', ['sleep', '30']);
    expect(rt.run('--debug', '--debug-log', path.join(rt.dir, 'debug.log'), 'create', '--bundle', bundle, 'host-debug').status).toBe(0);
    const p = hostProcs(rt, 'host-debug');
    const sigsys = 1n << 30n; // SIGSYS is signal 31
    for (const pid of [p.sentry, p.gofer]) {
      const s = status(pid);
      expect([pid, s.Seccomp, (BigInt(`0x${s.SigCgt}`) & sigsys) !== 0n]).toEqual([pid, '2', true]);
    }
    expect(rt.run('delete', '--force', 'host-debug').status).toBe(0);
  }, 60_000);
});

describe('a call outside the allowlist', () => {
  const out = path.join(REPO, 'build', 'security', `confine-driver-${process.pid}.js`);
  beforeAll(() => {
    buildSync({
      entryPoints: [path.join(__dirname, 'confine-driver.ts')], outfile: out, bundle: true, platform: 'node', format: 'cjs',
      external: ['koffi', '*.node'], logLevel: 'warning',
    });
  });
  afterAll(() => fs.rmSync(out, { force: true }));
  const drive = (...args: string[]) => spawnSync(process.execPath, [out, ...args], { encoding: 'utf8', timeout: 30_000 });

  test.each(['sentry', 'gofer'])('kills the %s (SIGSYS) in the default mode', (who) => {
    const r = drive(who, 'kill', 'uname');
    expect(r.stdout).toMatch(/^confined \d+ threads, seccomp 2(,2)+\n$/);
    expect([r.signal, r.status]).toEqual(['SIGSYS', null]);
  });

  test('allowed calls go on: the process ends normally', () => {
    const r = drive('sentry', 'kill', 'none');
    expect([r.stdout.split('\n')[1], r.status]).toEqual(['survived', 0]);
  });

  test('names the syscall in debug (trap) mode, then ends the process', () => {
    const r = drive('sentry', 'trap', 'uname');
    expect(r.stdout).not.toContain('survived');
    expect(r.stderr).toMatch(/^tvisor sentry \(pid \d+\): host syscall uname \(63, arguments 0x[0-9a-f]+ 0x[0-9a-f]+ 0x[0-9a-f]+ 0x[0-9a-f]+\) is not in its seccomp allowlist; the process ends\n$/);
    expect(r.status).toBe(128 + 31);
    // An argument outside a constraint is refused the same way: no socket for the gofer.
    const g = drive('gofer', 'trap', 'socket');
    expect(g.stderr).toContain('host syscall socket (41, arguments ');
  });
});
