/**
 * Tests of the per-thread credential switch (creds.ts) with the real syscalls (the test
 * runs as root, as the gofer does): inside asCreds the thread's fsuid, fsgid, groups and
 * effective set are the caller's, the host kernel refuses what that user may not do; the
 * thread keeps them for the next call by the same caller, changes only what differs for
 * another, and has everything of the gofer's own again after restoreOwn or inside asOwn.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { asCreds, asOwn, canSwitch, CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, restoreOwn, switchedTo } from './creds';

/** status returns the calling thread's Uid/Gid/Groups/CapEff lines. */
function status(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync('/proc/thread-self/status', 'utf8').split('\n')) {
    const m = /^(Uid|Gid|Groups|CapEff):\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].trim().replace(/\s+/g, ' ');
  }
  return out;
}

let dir = '';

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('creds.test: must run as root (the gofer does)');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'creds-test-'));
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'root-file'), 'x', { mode: 0o644 });
});

afterEach(() => restoreOwn());

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the gofer, running as root with CAP_SETUID and CAP_SETGID, can switch', () => {
  expect(canSwitch()).toBe(true);
});

test('inside, the thread has the caller fsuid, fsgid, groups and only the asked capabilities; after restoreOwn, its own', () => {
  const before = status();
  const inside = asCreds({ uid: 1000, gid: 1001, groups: [1002, 1003], caps: (1 << CAP_CHOWN) | (1 << CAP_FOWNER) }, status);
  expect(typeof inside).toBe('object');
  const s = inside as Record<string, string>;
  expect(s.Uid).toBe('0 0 0 1000');
  expect(s.Gid).toBe('0 0 0 1001');
  expect(s.Groups).toBe('1002 1003');
  expect(s.CapEff).toBe('0000000000000009');
  // The caller's credentials stay for its next call; restoreOwn gives the gofer's back.
  expect(status()).toEqual(s);
  expect(switchedTo()).toEqual({ uid: 1000, gid: 1001, groups: [1002, 1003], effective: 9n });
  restoreOwn();
  expect(switchedTo()).toBeNull();
  expect(status()).toEqual(before);
});

test('from one caller to another: only what differs changes, and each call runs with exactly its own credentials', () => {
  const before = status();
  const a = { uid: 1000, gid: 1001, groups: [1002], caps: 0 };
  expect(asCreds(a, status)).toEqual({ Uid: '0 0 0 1000', Gid: '0 0 0 1001', Groups: '1002', CapEff: '0000000000000000' });
  expect(asCreds({ ...a, caps: 1 << CAP_DAC_OVERRIDE }, status)).toEqual({ Uid: '0 0 0 1000', Gid: '0 0 0 1001', Groups: '1002', CapEff: '0000000000000002' });
  // Another caller's groups and ids need CAP_SETGID and CAP_SETUID, which a caller's
  // effective set lacks: the switch takes the gofer's own back first.
  expect(asCreds({ uid: 2000, gid: 2001, groups: [2002, 2003], caps: 0 }, status)).toEqual({ Uid: '0 0 0 2000', Gid: '0 0 0 2001', Groups: '2002 2003', CapEff: '0000000000000000' });
  expect(asCreds({ uid: 2000, gid: 3000, groups: [2002, 2003], caps: 1 << CAP_CHOWN }, status)).toEqual({ Uid: '0 0 0 2000', Gid: '0 0 0 3000', Groups: '2002 2003', CapEff: '0000000000000001' });
  expect(asCreds({ uid: 0, gid: 0, groups: [], caps: 0 }, status)).toEqual({ Uid: '0 0 0 0', Gid: '0 0 0 0', Groups: '', CapEff: '0000000000000000' });
  expect(asOwn(status)).toEqual(before);
  expect(asCreds(a, status)).toEqual({ Uid: '0 0 0 1000', Gid: '0 0 0 1001', Groups: '1002', CapEff: '0000000000000000' });
  expect(asOwn(status)).toEqual(before);
});

test('a switch that fails (too many groups) runs nothing and leaves the gofer its own credentials', () => {
  const before = status();
  expect(asCreds({ uid: 1000, gid: 1000, groups: [1000], caps: 0 }, status)).not.toEqual(before);
  let ran = false;
  const r = asCreds({ uid: 1000, gid: 1000, groups: Array.from({ length: 70000 }, (_, i) => i), caps: 0 }, () => (ran = true));
  expect([r, ran]).toEqual([-22, false]);
  expect(switchedTo()).toBeNull();
  expect(status()).toEqual(before);
});

test('the host kernel checks as the caller: uid 1000 cannot write a root 0644 file, root with no capability can', () => {
  const file = path.join(dir, 'root-file');
  const asUser = asCreds({ uid: 1000, gid: 1000, groups: [], caps: 0 }, () => {
    try {
      fs.openSync(file, 'r+');
      return 'opened';
    } catch (e) {
      return (e as NodeJS.ErrnoException).code;
    }
  });
  expect(asUser).toBe('EACCES');
  const asRoot = asCreds({ uid: 0, gid: 0, groups: [], caps: 0 }, () => {
    fs.closeSync(fs.openSync(file, 'r+'));
    return 'opened';
  });
  expect(asRoot).toBe('opened');
  expect(fs.readFileSync(file, 'utf8')).toBe('x');
});

test('files created inside belong to the caller', () => {
  fs.chmodSync(dir, 0o777);
  asCreds({ uid: 1234, gid: 5678, groups: [], caps: 0 }, () => fs.writeFileSync(path.join(dir, 'made'), 'y'));
  const st = fs.statSync(path.join(dir, 'made'));
  expect([st.uid, st.gid]).toEqual([1234, 5678]);
});
