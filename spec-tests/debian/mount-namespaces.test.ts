/**
 * Mount namespaces as Debian's util-linux uses them (unshare -m, nsenter -m, findmnt -N),
 * under tvisor as under runc, as root with CAP_SYS_ADMIN and CAP_SYS_CHROOT (setns into
 * a mount namespace needs both): a tmpfs mounted in `unshare -m` stays in it (unshare's
 * default `--propagation private`), `--propagation slave` receives what the container
 * then mounts under a shared mount and sends nothing back, `--propagation shared` both
 * ways, nsenter joins the namespace, an open ns file keeps a namespace (and what is
 * mounted in it) after its last process, and a bubblewrap-like sandbox (a tmpfs root,
 * pivot_root, the old root detached) sees only its own mounts. The image is built by `make debian-image`;
 * without it these tests fail.
 */
import { expectSameAsRunc, runDebian, type DebianRunOptions } from './image';

const privileged: DebianRunOptions = {
  editSpec: (spec) => {
    const caps = spec.process.capabilities ?? {};
    for (const set of ['bounding', 'effective', 'permitted']) caps[set] = [...new Set([...(caps[set] ?? []), 'CAP_SYS_ADMIN', 'CAP_SYS_CHROOT'])];
    spec.process.capabilities = caps;
  },
};

/** inBackground starts `unshare -m <flags> sleep` and waits (polling, no timing) until
 * it is in its new namespace; $pid is it (not on a script's first line: see below). */
function inBackground(flags: string): string {
  return [
    `unshare -m ${flags} sleep 600 & pid=$!`,
    'while [ "$(readlink /proc/$pid/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ]; do sleep 0.05; done',
  ].join('\n');
}

/** same runs the script under runc and tvisor and expects both to print `expected`
 * (stdout), the same stderr and status 0. */
function same(script: string, expected: string, opts: DebianRunOptions = privileged): void {
  for (const rt of ['runc', 'tvisor'] as const) {
    const r = runDebian(rt, script, opts);
    expect({ rt, stdout: r.stdout, stderr: r.stderr, status: r.status }).toEqual({ rt, stdout: expected, stderr: '', status: 0 });
  }
}

describe('mount namespaces with util-linux, under tvisor as under runc', () => {
  test('unshare -m: a tmpfs mounted inside is not seen outside', () => {
    same([
      "unshare -m sh -c 'mount -t tmpfs none /mnt && findmnt -r -n -o TARGET,SOURCE,FSTYPE,PROPAGATION /mnt && findmnt -r -n -o TARGET,PROPAGATION /'",
      'echo "unshare: $?"',
      'findmnt /mnt || echo "not in the container\'s namespace"',
    ].join('\n'), '/mnt none tmpfs private\n/ private\nunshare: 0\nnot in the container\'s namespace\n');
  });

  test('unshare -m --propagation slave receives and sends nothing back; shared goes both ways', () => {
    same([
      'mount -t tmpfs sh /mnt && mount --make-shared /mnt && mkdir /mnt/a /mnt/b /mnt/c /mnt/d',
      inBackground('--propagation slave'),
      'mount -t tmpfs outer /mnt/a',
      'for m in /mnt /mnt/a; do findmnt -N $pid -r -n -o TARGET,SOURCE,PROPAGATION $m; done',
      'nsenter -t $pid -m mount -t tmpfs inner /mnt/b && echo "mounted inside"',
      'findmnt -N $pid -r -n -o TARGET,SOURCE /mnt/b',
      'findmnt -r -n /mnt/b || echo "/mnt/b not seen outside"',
      'kill $pid; wait',
      inBackground('--propagation shared'),
      'nsenter -t $pid -m mount -t tmpfs inner /mnt/c && findmnt -r -n -o TARGET,SOURCE,PROPAGATION /mnt/c',
      'mount -t tmpfs outer /mnt/d && findmnt -N $pid -r -n -o TARGET,SOURCE,PROPAGATION /mnt/d',
      'kill $pid; wait',
    ].join('\n'), [
      '/mnt sh private,slave', '/mnt/a outer private,slave', 'mounted inside', '/mnt/b inner', '/mnt/b not seen outside',
      '/mnt/c inner shared', '/mnt/d outer shared', '',
    ].join('\n'));
  });

  test('a namespace held by an open ns file outlives its last process', () => {
    same([
      ':', // runDebian's "cd /work &&" joins the first line: unshare must not be in a subshell
      inBackground(''),
      'nsenter -t $pid -m mount -t tmpfs kept /mnt && echo mounted',
      'exec 3</proc/$pid/ns/mnt',
      'kill $pid; wait',
      'nsenter --mount=/proc/self/fd/3 findmnt -r -n -o TARGET,SOURCE /mnt',
      'findmnt -r -n /mnt || echo "not in the container\'s namespace"',
    ].join('\n'), 'mounted\n/mnt kept\nnot in the container\'s namespace\n');
  });

  test('a sandbox in the container, as bubblewrap makes one: unshare -m, a tmpfs root, pivot_root, old root detached', () => {
    // /usr is a bind of the image: ext4 under runc, the gofer's 9p under tvisor (by design).
    same([
      ':',
      "unshare -m sh -c 'mount -t tmpfs nr /mnt && mkdir -p /mnt/usr /mnt/old /mnt/proc && mount --rbind /usr /mnt/usr && " +
        'ln -s usr/bin /mnt/bin && ln -s usr/lib /mnt/lib && ln -s usr/lib64 /mnt/lib64 && cd /mnt && pivot_root . old && ' +
        "mount -t proc proc /proc && umount -l /old && ls / && findmnt -r -n -o TARGET,FSTYPE,PROPAGATION | sed \"s#^/usr [a-z0-9]*#/usr HOST#\"'",
      'echo "status $?"',
      'findmnt -r -n /mnt || echo "no /mnt outside"',
    ].join('\n'), 'bin\nlib\nlib64\nold\nproc\nusr\n/ tmpfs private\n/usr HOST private\n/proc proc private\nstatus 0\nno /mnt outside\n');
  });

  test('without CAP_SYS_ADMIN unshare -m is refused', () => {
    expectSameAsRunc('unshare -m true 2>&1; echo "status $?"');
  });
});
