/**
 * bundle.ts builds the OCI bundles that the behaviour tests and `make bench-syscalls` run
 * under runc, runsc and tvisor: a rootfs of Debian's static busybox with every applet
 * linked, the program under test (at /prog by default), /etc/passwd and /etc/group, a
 * world-writable /tmp; and a config.json that starts from `runc spec` (the reference
 * runtime's own default) with the process, the root and the mounts edited.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** BUSYBOX is the static busybox the rootfs is made of (Debian's busybox-static). */
export const BUSYBOX = '/bin/busybox';
/** RUNC is Debian's runc, the reference runtime whose `spec` gives the base config. */
export const RUNC = '/usr/sbin/runc';

/** PASSWD is the rootfs's /etc/passwd. */
export const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\n';

/** BindMount is a host directory bind-mounted read-write into the container. */
export interface BindMount {
  source: string;
  destination: string;
}

/** BundleOptions says what the container runs and what it sees. */
export interface BundleOptions {
  /** program is a host file copied into the rootfs at programPath; omitted: none. */
  program?: string;
  /** programPath is where the program lands in the rootfs (default /prog). */
  programPath?: string;
  /** args is process.args, argv[0] included. */
  args: string[];
  /** mounts are extra bind mounts (their destinations are created in the rootfs). */
  mounts?: BindMount[];
  /** keepNetworkNamespace keeps `runc spec`'s network namespace (default: removed). */
  keepNetworkNamespace?: boolean;
  /** editSpec, when given, changes the finished config.json before it is written. */
  editSpec?: (spec: any) => void;
  /** rootfs, when given, is an existing image used read-only as the root (shared between
   * runs, so nothing is written into it): the program is bind-mounted at programPath and
   * /tmp is a tmpfs. Every mount point must already exist in it. */
  rootfs?: string;
}

let baseSpec: any;

/** runcSpec returns (once per process) the config.json that `runc spec` writes. */
export function runcSpec(): any {
  if (!baseSpec) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runc-spec-'));
    try {
      execFileSync(RUNC, ['spec', '--bundle', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
      baseSpec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return JSON.parse(JSON.stringify(baseSpec));
}

let applets: string[] | undefined;

/** busyboxApplets lists the applet paths relative to / ("bin/sh", "usr/bin/wc", ...). */
function busyboxApplets(): string[] {
  if (!applets) {
    applets = execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' })
      .split('\n')
      .filter((a) => a && a !== 'bin/busybox' && !a.includes('..'));
  }
  return applets;
}

/** makeRootfs fills dir with the busybox rootfs (and the program, when given). */
export function makeRootfs(dir: string, opts: BundleOptions): void {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'dev', 'sys', 'root']) {
    fs.mkdirSync(path.join(dir, d), { recursive: true });
  }
  fs.mkdirSync(path.join(dir, 'tmp'));
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  fs.copyFileSync(BUSYBOX, path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  for (const a of busyboxApplets()) fs.symlinkSync('/bin/busybox', path.join(dir, a));
  fs.writeFileSync(path.join(dir, 'etc/passwd'), PASSWD);
  fs.writeFileSync(path.join(dir, 'etc/group'), GROUP);
  if (opts.program) {
    const dest = path.join(dir, opts.programPath ?? '/prog');
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(opts.program, dest);
    fs.chmodSync(dest, 0o755);
  }
  for (const m of opts.mounts ?? []) fs.mkdirSync(path.join(dir, m.destination), { recursive: true });
}

/** makeBundle writes rootfs/ and config.json into the (existing, empty) directory bundle. */
export function makeBundle(bundle: string, opts: BundleOptions): void {
  if (opts.args.length === 0) throw new Error('bundle: args must not be empty');
  if (!opts.rootfs) makeRootfs(path.join(bundle, 'rootfs'), opts);
  const spec = runcSpec();
  spec.process.terminal = false;
  spec.process.args = opts.args;
  spec.process.env = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'];
  spec.process.cwd = '/';
  // The scratch directories (/tmp, bind mounts) must be writable; the rest could be
  // read-only, but a writable root keeps one bundle good for every program.
  spec.root = { path: 'rootfs', readonly: false };
  if (opts.rootfs) {
    spec.root = { path: opts.rootfs, readonly: true };
    spec.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] });
    if (opts.program) {
      spec.mounts.push({ destination: opts.programPath ?? '/prog', type: 'bind', source: opts.program, options: ['bind', 'ro'] });
    }
  }
  spec.hostname = 'behaviour';
  for (const m of opts.mounts ?? []) {
    spec.mounts.push({ destination: m.destination, type: 'bind', source: m.source, options: ['rbind', 'rw'] });
  }
  if (!opts.keepNetworkNamespace) {
    spec.linux.namespaces = spec.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
  }
  opts.editSpec?.(spec);
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
}
