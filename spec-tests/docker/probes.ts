/**
 * probes.ts decides, before the Docker tests are declared, what can be tested here and
 * why not. The prerequisites (root, Debian's docker.io, busybox-static, a built tvisor)
 * skip the whole suite; tvisor features that Docker needs and the sentry may not have yet
 * are probed on tvisor itself, without Docker, in a few hundred milliseconds each, so
 * that their tests turn on by themselves once the sentry supports them:
 *
 *  - a bind mount of a single file (Docker mounts /etc/hosts, /etc/hostname and
 *    /etc/resolv.conf in every container: without it no container starts at all);
 *  - `exec` (a new process in a running container);
 *  - terminals (process.terminal with --console-socket).
 *
 * TVISOR_DOCKER_TESTS=1 runs every test regardless of the feature probes, =0 none.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUSYBOX, DOCKER, DOCKERD, TVISOR, run } from './harness';

/** prerequisiteSkipReason returns why the Docker suite cannot run here, or undefined. */
export function prerequisiteSkipReason(): string | undefined {
  if (process.env.TVISOR_DOCKER_TESTS === '0') return 'TVISOR_DOCKER_TESTS=0';
  if (process.getuid?.() !== 0) return 'the Docker tests need root (dockerd)';
  if (!fs.existsSync(DOCKERD) || !fs.existsSync(DOCKER)) return `${DOCKERD} or ${DOCKER} is missing (apt-get install docker.io)`;
  if (!fs.existsSync(BUSYBOX)) return `${BUSYBOX} is missing (apt-get install busybox-static)`;
  if (!fs.existsSync(TVISOR)) return `${TVISOR} is missing (run make)`;
  return undefined;
}

/** FeatureProbes say which tvisor features are missing, each with the reason to print. */
export interface FeatureProbes {
  /** fileBind: why a bind-mounted file does not work (no container can start), or undefined. */
  fileBind?: string;
  exec?: string;
  terminal?: string;
}

/** errorLine picks the line of a failed tvisor command that says why: the gofer's, or the last. */
function errorLine(s: string): string {
  const lines = s.trim().split('\n').filter((l) => l && !l.includes('"level":"warn"'));
  return lines.find((l) => l.startsWith('tvisor gofer:')) ?? lines[lines.length - 1] ?? '';
}

/** probeFeatures runs the feature probes on tvisor (see the module comment). */
export function probeFeatures(): FeatureProbes {
  if (process.env.TVISOR_DOCKER_TESTS === '1') return {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tvd-probe-'));
  const root = path.join(dir, 'state');
  try {
    const bundle = path.join(dir, 'bundle');
    const rootfs = path.join(bundle, 'rootfs');
    for (const d of ['bin', 'etc', 'tmp']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
    fs.copyFileSync(BUSYBOX, path.join(rootfs, 'bin', 'busybox'));
    fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
    for (const a of ['sh', 'cat', 'true', 'sleep']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
    const hostname = path.join(dir, 'hostname');
    fs.writeFileSync(hostname, 'probe-host\n');
    const spec = run(TVISOR, ['spec', '--bundle', bundle]);
    if (spec.status !== 0) throw new Error(`tvisor spec: ${spec.stderr}`);
    const configFile = path.join(bundle, 'config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    config.process.terminal = false;
    config.process.args = ['cat', '/etc/hostname'];
    config.mounts.push({ destination: '/etc/hostname', type: 'bind', source: hostname, options: ['rbind', 'rprivate'] });
    fs.writeFileSync(configFile, JSON.stringify(config));

    const out: FeatureProbes = {};
    const bind = run(TVISOR, ['--root', root, 'run', '--bundle', bundle, 'probe-bind'], { timeoutMs: 30_000 });
    if (bind.status !== 0 || bind.stdout !== 'probe-host\n') {
      out.fileBind = `tvisor cannot bind-mount a single file yet, as Docker does for /etc/hosts, /etc/hostname, /etc/resolv.conf `
        + `(probe: "${errorLine(bind.stderr)}")`;
    }
    run(TVISOR, ['--root', root, 'delete', '--force', 'probe-bind']);

    const exec = run(TVISOR, ['--root', root, 'exec', 'probe-missing', 'true']);
    if (/not supported/.test(exec.stderr)) out.exec = `tvisor exec not implemented yet (probe: "${errorLine(exec.stderr)}")`;

    config.process.terminal = true;
    fs.writeFileSync(configFile, JSON.stringify(config));
    const tty = run(TVISOR, ['--root', root, 'create', '--bundle', bundle, '--console-socket', path.join(dir, 'no.sock'), 'probe-tty']);
    if (/terminals? (are|is) not supported|not supported by this build/.test(tty.stderr)) {
      out.terminal = `terminals not implemented yet (probe: "${errorLine(tty.stderr)}")`;
    }
    run(TVISOR, ['--root', root, 'delete', '--force', 'probe-tty']);
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
