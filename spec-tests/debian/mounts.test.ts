/**
 * The mount table as Debian's tools see it (findmnt, df, mount, umount, /proc/self/mountinfo,
 * stat, ls), under tvisor as under runc. The image is built by `make debian-image`; without
 * it these tests fail.
 *
 * Normalisation, each for a reason that is not tvisor's to change:
 * - mount IDs, parent IDs and device numbers (mountinfo's first three columns) differ
 *   from one kernel to the next: replaced by ID, PARENT, DEV;
 * - the root and /work are host directories under runc (ext4 on the host's disk, rooted
 *   at the host path, with the host's ext4 options); under tvisor they are served by the
 *   gofer (9p): their root, type, source and file system options are replaced by HOST;
 * - runc mounts the host's cgroup v1 hierarchies under /sys/fs/cgroup, and masks or
 *   protects the /proc entries the host has (acpi, keys, timer_list, bus, fs, irq); the
 *   sandbox's /proc and cgroup files are another part of the work (issue 11's /proc and
 *   /sys items): lines for /proc/<entry> and /sys/fs/cgroup are left out.
 */
import { runDebian, type DebianRunOptions } from './image';

/** same runs the script under runc and tvisor, each output passed through `norm`, and
 * expects the same output and status; it returns runc's normalised output. */
function same(script: string, norm: (s: string) => string = (s) => s, opts: DebianRunOptions = {}): string {
  const runc = runDebian('runc', script, opts);
  expect(runc.status).toBe(0);
  const tvisor = runDebian('tvisor', script, opts);
  expect({ stdout: norm(tvisor.stdout), stderr: tvisor.stderr, status: tvisor.status }).toEqual({ stdout: norm(runc.stdout), stderr: runc.stderr, status: runc.status });
  return norm(runc.stdout);
}

/** OTHER_PARTS matches mount points that belong to other parts of issue 11 (see above). */
const OTHER_PARTS = /^\/(proc\/.+|sys\/fs\/cgroup(\/.*)?)$/;

/** normMountinfo normalises /proc/self/mountinfo lines (see the module comment). */
function normMountinfo(s: string): string {
  return s.split('\n').filter((l) => l !== '').flatMap((l) => {
    const f = l.split(' ');
    const point = f[4];
    if (OTHER_PARTS.test(point)) return [];
    const dash = f.indexOf('-');
    const head = ['ID', 'PARENT', 'DEV', point === '/' || point === '/work' ? 'HOST' : f[3], ...f.slice(4, dash)];
    const tail = point === '/' || point === '/work' ? ['HOST'] : f.slice(dash + 1);
    return [[...head, '-', ...tail].join(' ')];
  }).join('\n');
}

/** normTable normalises lines whose first word is a mount point (findmnt -r, mount
 * rewritten by the script): /proc/<entry> and cgroup lines out, / and /work's source,
 * type and file system options replaced. `fsCols` are the column numbers that are host
 * facts for / and /work. */
function normTable(fsCols: number[]) {
  return (s: string): string => s.split('\n').filter((l) => l !== '').flatMap((l) => {
    const f = l.split(' ');
    if (OTHER_PARTS.test(f[0])) return [];
    if (f[0] === '/' || f[0] === '/work') for (const c of fsCols) f[c] = 'HOST';
    return [f.join(' ')];
  }).join('\n');
}

const withSysAdmin: DebianRunOptions = {
  editSpec: (spec) => {
    const caps = spec.process.capabilities ?? {};
    for (const set of ['bounding', 'effective', 'permitted']) caps[set] = [...new Set([...(caps[set] ?? []), 'CAP_SYS_ADMIN'])];
    spec.process.capabilities = caps;
  },
};

describe('the mount table under tvisor matches runc', () => {
  test('/proc/self/mountinfo, in mount order', () => {
    const out = same('cat /proc/self/mountinfo', normMountinfo);
    expect(out).toContain('ID PARENT DEV / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755');
    expect(out).toContain('ID PARENT DEV / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,gid=5,mode=620,ptmxmode=666');
  });

  test('/proc/mounts and /proc/self/mounts are the same file', () => {
    same('cmp /proc/mounts /proc/self/mounts && readlink /proc/mounts && echo same');
  });

  test('findmnt lists the tree with per-mount and file system options', () => {
    // -r: raw, one mount a line; columns TARGET SOURCE FSTYPE OPTIONS PROPAGATION.
    const out = same('findmnt -r -n -o TARGET,SOURCE,FSTYPE,OPTIONS,PROPAGATION', normTable([1, 2, 3]));
    expect(out).toContain('/dev/shm shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k private');
  });

  test('mount | sort', () => {
    // mount prints "SOURCE on TARGET type TYPE (OPTIONS)": turned into TARGET SOURCE TYPE OPTIONS.
    same(`mount | awk '{ print $3, $1, $5, $6 }' | sort`, normTable([1, 2, 3]));
  });

  test('df -h: the tmpfs mounts and the shape of the rest', () => {
    // Sizes of / and /work are the host disk's (df hides /work under runc: the same
    // device as /); tmpfs sizes are the sandbox's (half the memory, or size=).
    same(`df -h /dev/shm /tmp; df -h / | awk 'NR == 1 || $6 == "/" { print NF, $6 }'`);
  });

  test('stat reports the device number mountinfo shows', () => {
    const out = same(`for m in / /tmp /dev /dev/shm /proc /sys /work; do
      if [ "$(stat -c '%Hd:%Ld' $m)" = "$(findmnt -n -o MAJ:MIN --mountpoint $m | tr -d " ")" ]; then echo "$m same"; else echo "$m differs"; fi
    done`);
    expect(out).toBe(['/', '/tmp', '/dev', '/dev/shm', '/proc', '/sys', '/work'].map((m) => `${m} same\n`).join(''));
  });

  test('mount -t tmpfs as root with CAP_SYS_ADMIN, then umount', () => {
    const out = same('mount -t tmpfs -o size=2m none /mnt && touch /mnt/x && ls /mnt && findmnt -r -n -o SOURCE,FSTYPE,OPTIONS /mnt && umount /mnt && ls -A /mnt | wc -l', (s) => s, withSysAdmin);
    expect(out).toBe('x\nnone tmpfs rw,relatime,size=2048k\n0\n');
  });

  test('mount --rbind / and umount -R, a readonly path unmounted and bound again read-only', () => {
    // The counts differ (runc's container has the host's cgroup and /proc mounts): what is
    // compared is that every mount is copied and that umount -R takes them all away.
    const out = same([
      'before=$(findmnt -r -n | wc -l)',
      'mount --rbind / /mnt && [ $(( $(findmnt -r -n -o TARGET | grep -c "^/mnt") * 2 )) -eq $(findmnt -r -n | wc -l) ] && echo "every mount copied"',
      'umount -R /mnt && [ $(findmnt -r -n | wc -l) -eq $before ] && echo "all unmounted"',
      'umount /proc/sys && echo "umount /proc/sys"',
      'mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && findmnt -r -n -o TARGET,OPTIONS /proc/sys',
    ].join('\n'), (s) => s, withSysAdmin);
    expect(out).toBe('every mount copied\nall unmounted\numount /proc/sys\n/proc/sys ro,relatime\n');
  });

  test('mount without CAP_SYS_ADMIN is refused', () => {
    same('mount -t tmpfs none /mnt 2>&1; echo status $?');
  });

  test('mount points are listed in their parent directory', () => {
    // /sys/fs's other entries are the host's sysfs under runc (not tvisor's to show yet):
    // only the mount point is compared there.
    same('ls /dev; ls /sys/fs | grep -x cgroup; ls / | grep -x -e dev -e proc -e sys -e tmp -e work');
  });

  test('a spec mount whose parent the image lacks: placeholders listed and kept', () => {
    // tvisor only: runc would create /a/b in the image's directory, which every test shares.
    const r = runDebian('tvisor', 'ls / | grep -x a; ls /a; for i in 1 2 3; do ls /a/b; done; touch /a/b/x && ls /a/b; findmnt -r -n -o TARGET,FSTYPE /a/b', {
      editSpec: (spec) => spec.mounts.push({ destination: '/a/b', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] }),
    });
    expect({ stdout: r.stdout, stderr: r.stderr, status: r.status }).toEqual({ stdout: 'a\nb\nx\n/a/b tmpfs\n', stderr: '', status: 0 });
  });

  test('a spec mount below a bind mount whose directory lacks its parent', () => {
    // Names under a bind mount are revalidated with the gofer: the placeholder p, which the
    // host directory does not have, must survive that (runc creates it on the host).
    same('ls /work; for i in 1 2 3; do ls /work/p; done; touch /work/p/q/x && ls /work/p/q; findmnt -r -n -o TARGET,FSTYPE /work/p/q', (s) => s, {
      editSpec: (spec) => spec.mounts.push({ destination: '/work/p/q', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] }),
    });
  });
});
