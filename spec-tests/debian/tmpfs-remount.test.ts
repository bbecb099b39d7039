/**
 * A tmpfs remounted with size= and nr_inodes= (mount -o remount), under tvisor as under
 * runc, as root with CAP_SYS_ADMIN: shrinking below the pages or inodes in use is EINVAL
 * (mount(8) exits 32), shrinking to what is used or more is allowed and then writes past
 * the new size get ENOSPC (a short write first), a limit on a tmpfs mounted unlimited
 * (size=0) is EINVAL, an unknown word is EINVAL, and mountinfo's super options and df
 * show the new bounds. The image is built by `make debian-image`; without it this fails.
 */
import { runDebian } from './image';

test('tmpfs remount with size= and nr_inodes= as under runc', () => {
  const script = `mount -t tmpfs -o size=1m,nr_inodes=10,mode=750 none /mnt
head -c 600k /dev/zero > /mnt/a
mount -o remount,size=512k /mnt 2>/dev/null; echo "shrink below use: $?"
mount -o remount,size=700k /mnt; echo "shrink to 700k: $?"
findmnt -r -n -o OPTIONS /mnt
head -c 200k /dev/zero > /mnt/b 2>/dev/null; echo "write past: $?"; stat -c %s /mnt/b
mount -o remount,nr_inodes=2 /mnt 2>/dev/null; echo "nr_inodes=2: $?"
mount -o remount,nr_inodes=3 /mnt; echo "nr_inodes=3: $?"
touch /mnt/c 2>/dev/null; echo "touch: $?"
mount -o remount,size=2m,nr_inodes=100 /mnt; echo "grow: $?"; findmnt -r -n -o OPTIONS /mnt
mount -o remount,bogus=1 /mnt 2>/dev/null; echo "bogus: $?"
df -k /mnt | tail -1 | awk '{print $2, $3}'
mount -t tmpfs -o size=0 none /srv; findmnt -r -n -o OPTIONS /srv
mount -o remount,size=1m /srv 2>/dev/null; echo "limit unlimited: $?"`;
  const caps = (spec: any) => {
    const c = spec.process.capabilities;
    for (const s of ['bounding', 'effective', 'permitted']) c[s] = [...c[s], 'CAP_SYS_ADMIN'];
  };
  const expected = ['shrink below use: 32', 'shrink to 700k: 0', 'rw,relatime,size=700k,nr_inodes=10,mode=750', 'write past: 1', '102400',
    'nr_inodes=2: 32', 'nr_inodes=3: 0', 'touch: 1', 'grow: 0', 'rw,relatime,size=2048k,nr_inodes=100,mode=750', 'bogus: 32', '2048 700',
    'rw,relatime,size=0k', 'limit unlimited: 32', ''].join('\n');
  for (const rt of ['runc', 'tvisor'] as const) {
    const r = runDebian(rt, script, { editSpec: caps });
    expect({ rt, stdout: r.stdout, stderr: r.stderr, status: r.status }).toEqual({ rt, stdout: expected, stderr: '', status: 0 });
  }
});
