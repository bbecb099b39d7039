/**
 * Host device nodes in bind mounts never reach a host device (issue 11's /dev). A host
 * directory holding device nodes (the memory devices, /dev/tty, /dev/mem 1:1, the kernel
 * log 1:11, /dev/kvm 10:232, a disk: block 8:0) is bind-mounted into the container; the
 * gofer reports each node, and opening it gives the sandbox's own device of that number
 * where it emulates one (null reads nothing, zero reads zeros, full refuses writes with
 * ENOSPC, urandom reads bytes; tty without a controlling terminal is ENXIO, as on Linux),
 * else ENXIO, even when the device rules allow every device. With runc's default device
 * rules the container sees exactly what runc's does (the host devices it denies: EPERM).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Spec } from '../../oci/config';
import { BUSYBOX, OciRuntime } from '../oci/harness';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');
const RUNC = '/usr/sbin/runc';

/** NODES: [name, type, major, minor]. */
const NODES: [string, string, number, number][] = [
  ['null', 'c', 1, 3], ['zero', 'c', 1, 5], ['full', 'c', 1, 7], ['urandom', 'c', 1, 9], ['tty', 'c', 5, 0],
  ['mem', 'c', 1, 1], ['kmsg', 'c', 1, 11], ['kvm', 'c', 10, 232], ['sda', 'b', 8, 0],
];

/** SCRIPT reads 4 bytes of each node (dd's first line: the records or the error, and the
 * byte count) and writes 1 byte to it (dd's first line). */
const SCRIPT = NODES.map(([n]) => {
  const p = `/mnt/devs/${n}`;
  const first = "busybox head -n 1 | busybox sed 's/.*: //'";
  return `echo "${n}: read $(busybox dd if=${p} bs=4 count=1 2>&1 >/dev/null | ${first}) $(busybox dd if=${p} bs=4 count=1 2>/dev/null | busybox wc -c) bytes; write $(echo x | busybox dd of=${p} bs=1 count=1 2>&1 | ${first})"`;
}).join('\n');

describe('host device nodes in bind mounts', () => {
  let dir: string;
  beforeAll(() => {
    expect(process.getuid?.()).toBe(0);
    for (const f of [BUSYBOX, TVISOR, RUNC]) expect(fs.existsSync(f) ? f : `${f} is missing`).toBe(f);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bind-devices-'));
    for (const [n, t, ma, mi] of NODES) execFileSync('mknod', ['-m', '0666', path.join(dir, n), t, String(ma), String(mi)]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** run runs SCRIPT in a container with `dir` bound at /mnt/devs; `allowAll` lets the device rules allow every device. */
  function run(name: string, bin: string, allowAll: boolean): string {
    const rt = new OciRuntime(name, bin);
    try {
      const bundle = rt.bundle('bind-devices', ['sh', '-c', SCRIPT], (s: Spec) => {
        s.mounts!.push({ destination: '/mnt/devs', type: 'bind', source: dir, options: ['rbind', 'rw'] });
        if (allowAll) s.linux!.resources!.devices = [{ allow: true, access: 'rwm' }];
      });
      const r = rt.run('run', '--bundle', bundle, `bind-devices-${name}-${process.pid}`);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      return r.stdout;
    } finally {
      rt.cleanup();
    }
  }

  test('with runc\'s default device rules, tvisor shows what runc shows', () => {
    const runc = run('runc', RUNC, false);
    expect(runc).toContain('null: read 0+0 records in 0 bytes; write 1+0 records in');
    expect(run('tvisor', TVISOR, false)).toBe(runc);
  }, 60_000);

  test('with every device allowed, only the sandbox\'s devices open; the rest is ENXIO', () => {
    const out = run('tvisor', TVISOR, true).trim().split('\n');
    const ENXIO = 'No such device or address';
    expect(out).toEqual([
      'null: read 0+0 records in 0 bytes; write 1+0 records in',
      'zero: read 1+0 records in 4 bytes; write 1+0 records in',
      'full: read 1+0 records in 4 bytes; write No space left on device',
      'urandom: read 1+0 records in 4 bytes; write 1+0 records in',
      ...['tty', 'mem', 'kmsg', 'kvm', 'sda'].map((n) => `${n}: read ${ENXIO} 0 bytes; write ${ENXIO}`),
    ]);
  }, 60_000);
});
