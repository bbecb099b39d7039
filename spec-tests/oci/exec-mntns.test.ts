/**
 * `exec` joins the mount namespace the container's init is in, as runc's setns does: an
 * init that made its own (busybox unshare -m, then a tmpfs on /tmp) is followed by the
 * exec'd process, which sees that tmpfs at the namespace's root; the same under runc and
 * tvisor (the top mount on /tmp is compared: tvisor has a tmpfs of its own below it). Needs root, busybox and runc (it fails without them).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, OciRuntime } from './harness';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');
const INIT = ['/bin/busybox', 'unshare', '-m', '/bin/busybox', 'sh', '-c', '/bin/busybox mount -t tmpfs inits /tmp && touch /tmp/mark 2>/dev/null; exec sleep 100'];
const SHOW = ['/bin/busybox', 'sh', '-c', '/bin/busybox awk \'$5 == "/tmp" { for (i = 6; $i != "-"; i++); top = $5 " " $(i + 1) " " $(i + 2) } END { print top }\' /proc/self/mountinfo; ls /tmp; pwd'];

/** execView starts INIT detached with CAP_SYS_ADMIN, waits until its tmpfs is there, and
 * returns what an exec'd process prints. */
function execView(name: string, bin: string): string {
  const rt = new OciRuntime(name, bin);
  try {
    const bundle = rt.bundle('b', INIT, (spec) => {
      const caps = spec.process!.capabilities!;
      for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_SYS_ADMIN'];
      spec.process!.cwd = '/';
    });
    const id = `mntns-${process.pid}`;
    expect(rt.run('run', '--detach', '--bundle', bundle, id).status).toBe(0);
    // Polling, no timing: until init's tmpfs is mounted (or 200 tries).
    let r = rt.run('exec', id, ...SHOW);
    for (let i = 0; i < 200 && !r.stdout.includes('inits'); i++) r = rt.run('exec', id, ...SHOW);
    expect(r.status).toBe(0);
    rt.run('delete', '--force', id);
    return r.stdout;
  } finally {
    rt.cleanup();
  }
}

describe('exec joins init\'s mount namespace, runc vs tvisor', () => {
  test('prerequisites: root, busybox, runc and bin/tvisor', () => {
    expect({ root: process.getuid?.() === 0, busybox: fs.existsSync(BUSYBOX), runc: fs.existsSync('/usr/sbin/runc'), tvisor: fs.existsSync(TVISOR) })
      .toEqual({ root: true, busybox: true, runc: true, tvisor: true });
  });

  test('an exec\'d process sees the tmpfs init mounted in its own namespace', () => {
    const runc = execView('runc', '/usr/sbin/runc');
    expect(runc).toBe('/tmp tmpfs inits\nmark\n/\n');
    expect(execView('tvisor', TVISOR)).toBe(runc);
  });
});
