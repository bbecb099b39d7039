/**
 * tmpfs bounds: nr_inodes counts every name (hard links too, as Linux's tmpfs does), the
 * sandbox-wide budget caps all tmpfs together, size= makes a write short then ENOSPC, and
 * pages come back at the last link and the last close.
 */
import { Credentials } from '../../kernel/credentials';
import { Errno, LinuxError } from '../../kernel/errors';
import type { Task } from '../../kernel/task';
import { Dentry, Mount } from '../../vfs/mount';
import { O_RDWR } from '../../vfs/file';
import { inodeBudget, setInodeBudget, Tmpfs, TmpfsInode } from './tmpfs';

const root0 = new Credentials(0, 0);
const task = {} as Task;
const ENOSPC = new LinuxError(Errno.ENOSPC);

function openFile(fs: Tmpfs, ino: TmpfsInode) {
  const mount = new Mount(fs, null, null, 0, 'tmpfs');
  return ino.open({ mount, dentry: new Dentry('f', mount.root, ino) }, O_RDWR);
}

describe('tmpfs bounds', () => {
  afterEach(() => setInodeBudget(Number.MAX_SAFE_INTEGER));

  test('nr_inodes counts the root and every name, hard links included; unlink gives one back', () => {
    const fs = new Tmpfs(0o1777, 0, 0, { maxInodes: 4 });
    const a = fs.root.create('a', 0o600, root0);
    fs.root.link('b', a);
    fs.root.mkdir('d', 0o700, root0);
    expect(() => fs.root.create('c', 0o600, root0)).toThrow(ENOSPC);
    expect(() => fs.root.link('c', a)).toThrow(ENOSPC);
    fs.root.unlink('b');
    fs.root.create('c', 0o600, root0);
    expect(fs.statfs()).toMatchObject({ files: 4, ffree: 0 });
  });

  test('the sandbox-wide budget bounds all tmpfs together', () => {
    const before = inodeBudget.used;
    setInodeBudget(before + 3);
    const one = new Tmpfs(), two = new Tmpfs(); // roots are never refused
    one.root.create('x', 0o600, root0);
    expect(() => two.root.create('y', 0o600, root0)).toThrow(ENOSPC);
    one.root.unlink('x');
    two.root.create('y', 0o600, root0);
  });

  test('a symlink\'s target counts against the budget, one unit a KiB, given back with the link', () => {
    const before = inodeBudget.used;
    setInodeBudget(before + 8);
    const fs = new Tmpfs(); // 1 unit: its root
    fs.root.symlink('long', 'x'.repeat(4000), root0); // 1 + 4 units
    expect(() => fs.root.symlink('more', 'y'.repeat(2000), root0)).toThrow(ENOSPC); // 1 + 2 more: 8 reached
    fs.root.symlink('short', 'z', root0); // 1 + 1
    expect(inodeBudget.used).toBe(before + 8);
    fs.root.unlink('long');
    expect(inodeBudget.used).toBe(before + 3);
  });

  test('size= makes a write short, then ENOSPC; pages come back at the last link and last close', () => {
    const fs = new Tmpfs(0o1777, 0, 0, { maxBytes: 3 * 4096 });
    const ino = fs.root.create('f', 0o600, root0) as TmpfsInode;
    const f = openFile(fs, ino);
    expect(f.write(task, Buffer.alloc(5000, 1))).toBe(5000);
    expect(f.write(task, Buffer.alloc(10000, 2))).toBe(3 * 4096 - 5000);
    expect(() => f.write(task, Buffer.alloc(1))).toThrow(ENOSPC);
    const back = Buffer.alloc(3 * 4096);
    expect(f.read(task, back, 0)).toBe(3 * 4096);
    expect(back[4999]).toBe(1);
    expect(back[5000]).toBe(2);
    expect(fs.statfs()).toMatchObject({ blocks: 3, bfree: 0 });
    fs.root.unlink('f');
    expect(fs.pages).toBe(3); // still open
    f.unref();
    expect(fs.pages).toBe(0);
    expect(fs.statfs()).toMatchObject({ blocks: 3, bfree: 3 });
  });

  test('fallocate: allocate charges the pages (growing the file unless KEEP_SIZE, ENOSPC past size=), punchHole zeroes and gives whole chunks back', () => {
    const fs = new Tmpfs(0o1777, 0, 0, { maxBytes: 40 * 4096 });
    const ino = fs.root.create('f', 0o600, root0) as TmpfsInode;
    const f = openFile(fs, ino);
    ino.allocate(4096, 20 * 4096, true);
    expect([ino.size, ino.stat().blocks]).toEqual([0, 20 * 8]);
    ino.allocate(0, 30 * 4096, false);
    expect([ino.size, ino.stat().blocks]).toEqual([30 * 4096, 30 * 8]);
    expect(() => ino.allocate(30 * 4096, 20 * 4096, false)).toThrow(ENOSPC);
    expect(ino.size).toBe(30 * 4096);
    f.write(task, Buffer.alloc(30 * 4096, 7), 0);
    // [1000, 20 pages): chunk 0 is only partly covered (zeroed in place), chunk 1 is not stored past page 19.
    ino.punchHole(1000, 20 * 4096 - 1000);
    const b = Buffer.alloc(30 * 4096);
    f.read(task, b, 0);
    expect([b[999], b[1000], b[20 * 4096 - 1], b[20 * 4096]]).toEqual([7, 0, 0, 7]);
    ino.punchHole(0, 16 * 4096); // all of chunk 0: given back
    expect(ino.stat().blocks).toBe(14 * 8);
    expect(fs.pages).toBe(14);
    f.unref();
    fs.root.unlink('f');
    expect(fs.pages).toBe(0);
  });

  test('holes cost nothing and read as zeros; truncation zeroes the tail', () => {
    const fs = new Tmpfs();
    const ino = fs.root.create('f', 0o600, root0) as TmpfsInode;
    const f = openFile(fs, ino);
    f.write(task, Buffer.from('end'), 10 * 65536);
    const b = Buffer.alloc(10 * 65536 + 3, 9);
    expect(f.read(task, b, 0)).toBe(b.length);
    expect(b.subarray(0, 10 * 65536).every((x) => x === 0)).toBe(true);
    expect(b.subarray(10 * 65536).toString()).toBe('end');
    f.truncate(10 * 65536 + 1);
    f.truncate(10 * 65536 + 3);
    const c = Buffer.alloc(3);
    f.read(task, c, 10 * 65536);
    expect([...c]).toEqual([0x65, 0, 0]);
  });
});
