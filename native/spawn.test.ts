import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HostError } from './libc';
import { reap, spawnProcess } from './spawn';

async function waitReap(pid: number): Promise<number> {
  for (;;) {
    const st = reap(pid);
    if (st !== undefined) return st;
    await new Promise((r) => setTimeout(r, 2));
  }
}

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tvisor-spawn-')); });
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('spawnProcess', () => {
  test('runs a program with the given argv and environment, and reap gives its exit status', async () => {
    const out = path.join(tmp, 'out');
    const fd = fs.openSync(out, 'w');
    const pid = spawnProcess({ file: '/bin/sh', argv: ['sh', '-c', 'echo "$0 $1 $FOO"; exit 7', 'a', 'b'], env: { FOO: 'bar', GONE: undefined }, fds: [null, fd, fd] });
    fs.closeSync(fd);
    const st = await waitReap(pid);
    expect((st >> 8) & 0xff).toBe(7);
    expect(fs.readFileSync(out, 'utf8')).toBe('a b bar\n');
  });

  test('the child gets exactly the descriptors asked for, swapped ones included, and no other', async () => {
    const out = path.join(tmp, 'out');
    const fd = fs.openSync(out, 'w');
    const a = fs.openSync(path.join(tmp, 'a'), 'w');
    const b = fs.openSync(path.join(tmp, 'b'), 'w');
    // fds 3 and 4 of the child are b and a; everything the test process holds besides is closed.
    const pid = spawnProcess({ file: '/bin/sh', argv: ['sh', '-c', 'echo three >&3; echo four >&4; ls /proc/self/fd'], env: {}, fds: [null, fd, fd, b, a] });
    fs.closeSync(fd);
    await waitReap(pid);
    fs.closeSync(a);
    fs.closeSync(b);
    expect(fs.readFileSync(path.join(tmp, 'b'), 'utf8')).toBe('three\n');
    expect(fs.readFileSync(path.join(tmp, 'a'), 'utf8')).toBe('four\n');
    // ls itself opens one descriptor for /proc/self/fd.
    const fds = fs.readFileSync(out, 'utf8').trim().split('\n').map(Number).sort((x, y) => x - y);
    expect(fds.filter((n) => n <= 4)).toEqual([0, 1, 2, 3, 4]);
    expect(fds.filter((n) => n > 4).length).toBeLessThanOrEqual(1);
  });

  test('setsid gives the child a session of its own', async () => {
    const out = path.join(tmp, 'out');
    const fd = fs.openSync(out, 'w');
    const pid = spawnProcess({ file: '/bin/sh', argv: ['sh', '-c', 'cut -d" " -f6 /proc/self/stat'], env: {}, fds: [null, fd, fd], setsid: true });
    fs.closeSync(fd);
    await waitReap(pid);
    // cut is a child of the shell, in the shell's session, whose id is the shell's pid.
    expect(Number(fs.readFileSync(out, 'utf8'))).toBe(pid);
  });

  test('a missing program is an error, not a child', () => {
    expect(() => spawnProcess({ file: path.join(tmp, 'nope'), argv: ['nope'], env: {}, fds: [] })).toThrow(HostError);
    expect(() => spawnProcess({ file: path.join(tmp, 'nope'), argv: ['nope'], env: {}, fds: [] })).toThrow('ENOENT');
  });
});
