/**
 * tmpfs mount options as Docker writes them into config.json (--shm-size: /dev/shm's
 * size=; --tmpfs /run:size=1m,...), against Debian's runc (the reference) and tvisor on a
 * busybox bundle: the sizes df shows, ENOSPC past size= and past nr_inodes=, and the mode,
 * uid and gid of a tmpfs whose mount point the runtime creates (runc chmods an existing
 * mount point back to its own mode, so that case is left out).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUSYBOX, OciRuntime } from './harness';

const TVISOR = path.resolve(__dirname, '../../bin/tvisor');
const RUNTIMES: [string, string][] = [['runc', '/usr/sbin/runc'], ['tvisor', TVISOR]];

const SCRIPT = [
  'df -k /dev/shm /scratch | tail -2',
  'stat -c "%a %u %g" /scratch',
  'dd if=/dev/zero of=/scratch/f bs=1k count=2048 2>&1 | head -1; rm /scratch/f',
  'for i in 1 2 3 4 5; do mkdir /scratch/d$i 2>/dev/null || echo "mkdir $i failed"; done',
  'dd if=/dev/zero of=/dev/shm/f bs=1k count=9000 2>&1 | head -1',
].join('; ');

/** outputs holds each runtime's output, compared at the end. */
const outputs = new Map<string, string>();

describe.each(RUNTIMES)('%s tmpfs options', (name, bin) => {
  const rt = new OciRuntime(name, bin);
  afterAll(() => rt.cleanup());

  test('size, nr_inodes, mode, uid and gid of /dev/shm and a --tmpfs mount', () => {
    expect(process.getuid?.()).toBe(0);
    for (const f of [BUSYBOX, bin]) expect(fs.existsSync(f)).toBe(true);
    const bundle = rt.bundle('b', ['sh', '-c', SCRIPT], (s) => {
      s.process!.user = { uid: 5, gid: 6 };
      s.mounts = [
        ...(s.mounts ?? []).filter((m) => m.destination !== '/dev/shm'),
        { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=8388608'] },
        { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m', 'nr_inodes=4', 'mode=750', 'uid=5', 'gid=6'] },
      ];
    });
    for (const a of ['df', 'dd', 'mkdir', 'stat', 'tail', 'head', 'rm']) fs.symlinkSync('busybox', path.join(bundle, 'rootfs', 'bin', a));
    const r = rt.run('run', '--bundle', bundle, `tmpfs-${name}-${process.pid}`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    outputs.set(name, r.stdout);
  }, 60_000);
});

test('tvisor shows and enforces the options as runc does', () => {
  const runc = outputs.get('runc');
  expect(runc).toBe([
    'shm                       8192         0      8192   0% /dev/shm',
    'tmpfs                     1024         0      1024   0% /scratch',
    '750 5 6',
    "dd: error writing '/scratch/f': No space left on device",
    'mkdir 4 failed', 'mkdir 5 failed',
    "dd: error writing '/dev/shm/f': No space left on device",
    '',
  ].join('\n'));
  expect(outputs.get('tvisor')).toBe(runc);
});
