/**
 * mount(2) from inside a tvisor container never reaches a host mount (issue 11): root
 * with CAP_SYS_ADMIN (and CAP_MKNOD) in the sandbox tries a host block device, 9p and
 * overlay, a bind of /proc/1/root, binds through `..` and symlinks that climb out, umount
 * of / and of a gofer bind, and proc mounted again; each lands in the sandbox's own tree
 * (or fails with Linux's errno) and the sandbox keeps running. Run on the Debian image
 * (spec-tests/debian/image.ts; `make debian-image`, without it these fail). runc is not
 * run: with CAP_SYS_ADMIN it would mount for real on the host.
 */
import { runDebian, type DebianRunOptions } from '../debian/image';

const privileged: DebianRunOptions = {
  editSpec: (spec) => {
    const caps = spec.process.capabilities ?? {};
    for (const set of ['bounding', 'effective', 'permitted']) caps[set] = [...new Set([...(caps[set] ?? []), 'CAP_SYS_ADMIN', 'CAP_MKNOD'])];
    spec.process.capabilities = caps;
  },
};

/** inSandbox runs the script under tvisor as privileged root; it must end with "alive". */
function inSandbox(script: string): string {
  const r = runDebian('tvisor', `${script}\necho alive`, privileged);
  expect({ status: r.status, last: r.stdout.trimEnd().split('\n').pop() }).toEqual({ status: 0, last: 'alive' });
  return r.stdout;
}

/** NOTHING_ON_MNT prints what is mounted on /mnt (nothing: an empty line) and its entries. */
const NOTHING_ON_MNT = 'echo "mnt: [$(findmnt -n -o SOURCE /mnt)] $(ls -A /mnt | wc -l)"';

describe('mount(2) inside tvisor reaches no host mount', () => {
  test('a host block device, by node or by name, is not mounted', () => {
    const out = inSandbox([
      'mknod /tmp/vda b 254 0 2>/dev/null; echo "mknod: $?"',
      'mount /tmp/vda /mnt 2>/dev/null; echo "mount node: $?"',
      'mount -t ext4 /dev/vda /mnt 2>/dev/null; echo "mount ext4: $?"',
      NOTHING_ON_MNT,
    ].join('\n'));
    // mknod of a block device is allowed (as runc allows it; the node opens with ENXIO,
    // never the host's disk), and mount(8) of it fails (exit 1); /dev/vda is not in the
    // sandbox either (mount fails: 32).
    expect(out).toBe('mknod: 0\nmount node: 1\nmount ext4: 32\nmnt: [] 0\nalive\n');
  });

  test('9p, overlay and other host file system types are unknown (ENODEV)', () => {
    const out = inSandbox([
      'mkdir -p /tmp/u /tmp/w',
      'for t in 9p overlay ext4 nfs fuse devtmpfs; do',
      `  python3 -c 'import ctypes, os, sys; libc = ctypes.CDLL(None, use_errno=True); r = libc.mount(b"none", b"/mnt", sys.argv[1].encode(), 0, b"trans=fd,rfdno=0,wfdno=1,lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w"); print(sys.argv[1], r, os.strerror(ctypes.get_errno()) if r else "")' $t`,
      'done',
      NOTHING_ON_MNT,
    ].join('\n'));
    expect(out).toBe(['9p', 'overlay', 'ext4', 'nfs', 'fuse', 'devtmpfs'].map((t) => `${t} -1 No such device\n`).join('') + 'mnt: [] 0\nalive\n');
  });

  test('a bind of /proc/1/root is the sandbox root, not the host\'s', () => {
    const out = inSandbox([
      'mount --bind /proc/1/root /mnt && echo bound',
      '[ "$(ls -A /mnt)" = "$(ls -A /)" ] && echo "same entries as /"',
      'cmp /mnt/etc/os-release /etc/os-release && echo "same os-release"',
      'umount /mnt && echo unmounted',
    ].join('\n'));
    expect(out).toBe('bound\nsame entries as /\nsame os-release\nunmounted\nalive\n');
  });

  test('binds through .. and symlinks stay inside the sandbox', () => {
    const out = inSandbox([
      'mount --bind /../../../../../etc /mnt && cmp /mnt/os-release /etc/os-release && echo "dotdot: the sandbox /etc"',
      'umount /mnt',
      'ln -s /../../../.. /tmp/up && mount --bind /tmp/up/etc /mnt && cmp /mnt/os-release /etc/os-release && echo "symlink: the sandbox /etc"',
      'umount /mnt',
      // A path that exists on the host only is not found.
      'ln -s /work/main/sentry /tmp/host && mount --bind /tmp/host /mnt 2>/dev/null; echo "host path: $?"',
      NOTHING_ON_MNT,
    ].join('\n'));
    expect(out).toBe('dotdot: the sandbox /etc\nsymlink: the sandbox /etc\nhost path: 32\nmnt: [] 0\nalive\n');
  });

  test('umount of / and of the gofer bind leave the sandbox running', () => {
    const out = inSandbox([
      // Linux turns umount of the caller's root into a read-only remount; MNT_DETACH of the
      // namespace's root mount is EINVAL here.
      'umount / 2>/dev/null; echo "umount /: $?"',
      'umount -l / 2>/dev/null; echo "umount -l /: $?"',
      'touch /work/x; umount /work 2>/dev/null; echo "umount /work as cwd: $?"',
      'cd / && umount /work && echo "umount /work: 0"',
      'ls -A /work | wc -l',
      'cat /etc/debian_version >/dev/null && echo "root still readable"',
    ].join('\n'));
    expect(out).toBe('umount /: 0\numount -l /: 32\numount /work as cwd: 32\numount /work: 0\n0\nroot still readable\nalive\n');
  });

  test('proc mounted again is the sandbox\'s: its pid 1 is the container\'s init', () => {
    const out = inSandbox([
      'mount -t proc proc /mnt && tr "\\0" "\\n" < /mnt/1/cmdline | head -2',
      'grep -c " /mnt " /proc/self/mountinfo',
      'umount /mnt && echo unmounted',
    ].join('\n'));
    expect(out).toBe('/bin/bash\n-c\n1\nunmounted\nalive\n');
  });
});
