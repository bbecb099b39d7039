/**
 * Device nodes never reach a host device (issue 11's /dev). A container whose root has
 * CAP_MKNOD makes nodes for the host's memory (/dev/mem 1:1, /dev/kmem 1:2, /dev/port
 * 1:4), kernel log (1:11), a disk (block 8:0), a virtual console (4:0), /dev/kvm (10:232)
 * and /dev/fuse (10:229) in /dev and in a tmpfs, and config.json's linux.devices names
 * some of them too, with device rules that allow every device: every open answers ENXIO,
 * the sandbox's answer for a device it does not emulate. A device node in a gofer-served directory (the rootfs) is refused (EPERM:
 * the gofer makes no device node on the host), and nothing appears on the host.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Spec } from '../../oci/config';
import { BUSYBOX, OciRuntime } from '../oci/harness';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');

const NODES: [string, string, number, number][] = [
  ['mem', 'c', 1, 1], ['kmem', 'c', 1, 2], ['port', 'c', 1, 4], ['kmsg', 'c', 1, 11], ['sda', 'b', 8, 0],
  ['tty0', 'c', 4, 0], ['kvm', 'c', 10, 232], ['fuse', 'c', 10, 229],
];

describe('tvisor: device nodes reach no host device', () => {
  let rt: OciRuntime;
  beforeAll(() => { rt = new OciRuntime('tvisor', TVISOR); });
  afterAll(() => rt?.cleanup());

  test('prerequisites: root, busybox and a built tvisor', () => {
    expect(process.getuid?.()).toBe(0);
    for (const f of [BUSYBOX, TVISOR]) expect(fs.existsSync(f) ? f : `${f} is missing`).toBe(f);
  });

  test('mknod in /dev and in a tmpfs, and linux.devices: every open is ENXIO', () => {
    const made = NODES.flatMap(([n, t, ma, mi]) => [`busybox mknod /dev/${n} ${t} ${ma} ${mi}`, `busybox mknod /tmp/${n} ${t} ${ma} ${mi}`]);
    const opens = NODES.flatMap(([n]) => [`/dev/${n}`, `/tmp/${n}`]).concat(['/dev/spec-mem', '/dev/spec-disk'])
      .map((p) => `busybox dd if=${p} of=/dev/null bs=1 count=1 2>&1 | busybox head -n 1`);
    const script = [...made, ...opens, 'echo "rootfs mknod: $(busybox mknod /bin/mem c 1 1 2>&1)"'].join('; ');
    const bundle = rt.bundle('devsec', ['sh', '-c', script], (s: Spec) => {
      for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set] = [...(s.process!.capabilities![set] ?? []), 'CAP_MKNOD'];
      s.root = { path: 'rootfs', readonly: false }; // a writable rootfs: the gofer gets the mknod
      // Every device allowed by the device rules: what remains is the sandbox's own answer.
      s.linux!.resources!.devices = [{ allow: true, access: 'rwm' }];
      s.linux!.devices = [{ path: '/dev/spec-mem', type: 'c', major: 1, minor: 1 }, { path: '/dev/spec-disk', type: 'b', major: 8, minor: 0 }];
    });
    const r = rt.run('run', '--bundle', bundle, `devsec-${process.pid}`);
    const lines = r.stdout.trim().split('\n');
    const enxio = lines.filter((l) => l.endsWith('No such device or address'));
    expect({ enxio: enxio.length, others: lines.filter((l) => !enxio.includes(l)) })
      .toEqual({ enxio: NODES.length * 2 + 2, others: ['rootfs mknod: mknod: /bin/mem: Operation not permitted'] });
    expect(fs.existsSync(path.join(bundle, 'rootfs', 'bin', 'mem'))).toBe(false);
    expect(r.status).toBe(0);
  });
});
