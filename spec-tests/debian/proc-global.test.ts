/**
 * /proc's global files that describe the kernel's drivers, read by Debian's tools under
 * tvisor as under runc:
 *  - /proc/devices names the major of each character device the container has (/dev/null
 *    "mem", /dev/tty, /dev/ptmx, a pty slave "pts") and lists block devices after them;
 *  - /proc/filesystems lists what mount(2) accepts: each type the sandbox lists mounts
 *    (tvisor's list is exactly that; runc's is the host kernel's, with types a container
 *    cannot mount, so only tvisor runs the whole list);
 *  - /proc/cmdline is readable (tvisor: a constant naming the sandbox, as gVisor's).
 */
import { expectSameAsRunc, runDebian } from './image';

const SYS_ADMIN = (spec: any) => {
  for (const set of ['bounding', 'effective', 'permitted']) spec.process.capabilities[set].push('CAP_SYS_ADMIN');
};

describe('/proc global files under tvisor match runc', () => {
  test('/proc/devices names the majors of the devices the container has', () => {
    expectSameAsRunc([
      `for p in "/dev/null mem" "/dev/zero mem" "/dev/tty /dev/tty" "/dev/ptmx /dev/ptmx"; do set -- $p; m=$((0x$(stat -c %t $1))); grep -qxE " *$m $2" /proc/devices && echo "$1: $m $2"; done`,
      `script -qc 'm=$((0x$(stat -c %t $(tty)))); grep -qxE " *$m pts" /proc/devices && echo "a pty: $m pts"' /dev/null | tr -d '\\r'`,
      'head -1 /proc/devices; grep -c "^Block devices:$" /proc/devices',
      '[ -r /proc/cmdline ] && echo cmdline readable',
    ].join('\n'));
  });

  test('the types mount(2) accepts are listed in /proc/filesystems', () => {
    expectSameAsRunc('for t in proc sysfs tmpfs; do mkdir -p /tmp/m-$t; mount -t $t none /tmp/m-$t && echo "$t mounts"; grep -qxE "nodev.$t" /proc/filesystems && echo "$t listed"; umount /tmp/m-$t; done', { editSpec: SYS_ADMIN });
  });

  test('tvisor: every type /proc/filesystems lists mounts; /proc/cmdline names the sandbox', () => {
    const r = runDebian('tvisor', 'for t in $(cut -f2 /proc/filesystems); do mkdir -p /tmp/m-$t; mount -t $t none /tmp/m-$t && echo "$t mounts"; done; cut -f1 /proc/filesystems | sort -u; cat /proc/cmdline', { editSpec: SYS_ADMIN });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toBe('sysfs mounts\ntmpfs mounts\nproc mounts\ndevpts mounts\nnodev\nBOOT_IMAGE=/vmlinuz-4.4.0-tvisor quiet\n');
  });
});
