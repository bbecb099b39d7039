/**
 * Unit tests of the capability transitions (capabilities(7)): user id changes, execve
 * (root, non-root with ambient, set-user-ID, no_new_privs), capset, ambient raise,
 * securebits, the OCI builder, and access(2)'s credentials (permitted() is tested in
 * vfs/permission.test.ts).
 */
import {
  ALL_CAPS, ambientRaise, CAP_CHOWN, CAP_KILL, CAP_LAST_CAP, CAP_SETPCAP, capBit, capMask,
  capsetCheck, capsForExec, fixupSetuid, fullCaps, noCaps, SECBIT_KEEP_CAPS, SECBIT_NOROOT, securebitsSettable, type CapSets,
} from './capabilities';
import { Credentials, credentialsFromProcess } from './credentials';

const sets = (p: Partial<CapSets>): CapSets => ({ ...noCaps(), bounding: 0n, ...p });
const bits = (...caps: number[]) => caps.reduce((m, c) => m | capBit(c), 0n);
const root = { uid: 0, euid: 0, gid: 0, egid: 0 };
const user = { uid: 1000, euid: 1000, gid: 1000, egid: 1000 };

describe('names and masks', () => {
  test('CAP_LAST_CAP is 40 and names map to capability.h numbers', () => {
    expect(CAP_LAST_CAP).toBe(40);
    expect(capMask(['CAP_CHOWN', 'CAP_KILL', 'CAP_CHECKPOINT_RESTORE'])).toBe(bits(0, 5, 40));
    expect(ALL_CAPS).toBe((1n << 41n) - 1n);
  });
  test('an unknown name throws', () => {
    expect(() => capMask(['CAP_NOPE'])).toThrow('unknown capability "CAP_NOPE"');
  });
});

describe('user id changes', () => {
  test('leaving uid 0 everywhere clears permitted, effective and ambient', () => {
    const c = fullCaps();
    c.inheritable = bits(CAP_KILL);
    c.ambient = bits(CAP_KILL);
    fixupSetuid(c, { real: 0, effective: 0, saved: 0 }, { real: 1, effective: 1, saved: 1 });
    expect([c.permitted, c.effective, c.ambient, c.inheritable, c.bounding]).toEqual([0n, 0n, 0n, bits(CAP_KILL), ALL_CAPS]);
  });
  test('SECBIT_KEEP_CAPS keeps permitted but not effective', () => {
    const c = { ...fullCaps(), securebits: SECBIT_KEEP_CAPS };
    fixupSetuid(c, { real: 0, effective: 0, saved: 0 }, { real: 1, effective: 1, saved: 1 });
    expect([c.permitted, c.effective]).toEqual([ALL_CAPS, 0n]);
  });
  test('effective uid 0 -> 1 -> 0 with saved 0 drops then restores effective', () => {
    const c = fullCaps();
    fixupSetuid(c, { real: 0, effective: 0, saved: 0 }, { real: 0, effective: 1, saved: 0 });
    expect([c.permitted, c.effective]).toEqual([ALL_CAPS, 0n]);
    fixupSetuid(c, { real: 0, effective: 1, saved: 0 }, { real: 0, effective: 0, saved: 0 });
    expect(c.effective).toBe(ALL_CAPS);
  });
});

describe('execve', () => {
  test('root gets bounding ∪ inheritable, all effective', () => {
    const r = capsForExec(sets({ bounding: bits(0, 5), permitted: bits(5), effective: bits(5), inheritable: bits(7) }), root, {}, false);
    expect(r.caps.permitted).toBe(bits(0, 5, 7));
    expect(r.caps.effective).toBe(bits(0, 5, 7));
    expect(r.secure).toBe(false);
  });
  test('root under no_new_privs gains nothing', () => {
    const r = capsForExec(sets({ bounding: bits(0, 5), permitted: bits(5), effective: bits(5) }), root, {}, true);
    expect([r.caps.permitted, r.caps.effective]).toEqual([bits(5), bits(5)]);
  });
  test('SECBIT_NOROOT: root is not special', () => {
    const r = capsForExec({ ...fullCaps(), securebits: SECBIT_NOROOT }, root, {}, false);
    expect([r.caps.permitted, r.caps.effective]).toEqual([0n, 0n]);
  });
  test('non-root keeps the ambient set only, as permitted and effective', () => {
    const old = sets({ bounding: ALL_CAPS, permitted: bits(1, 5), effective: bits(1, 5), inheritable: bits(1), ambient: bits(1) });
    const r = capsForExec(old, user, {}, false);
    expect([r.caps.permitted, r.caps.effective, r.caps.ambient, r.caps.inheritable]).toEqual([bits(1), bits(1), bits(1), bits(1)]);
    expect(r.secure).toBe(false);
  });
  test('a set-user-ID root file makes a user root with the bounding set, clears ambient, is secure', () => {
    const old = sets({ bounding: bits(0, 5), inheritable: bits(1), permitted: bits(1), effective: bits(1), ambient: bits(1) });
    const r = capsForExec(old, user, { setuid: 0 }, false);
    expect(r.ids).toEqual({ uid: 1000, euid: 0, gid: 1000, egid: 1000 });
    expect([r.caps.permitted, r.caps.effective, r.caps.ambient]).toEqual([bits(0, 1, 5), bits(0, 1, 5), 0n]);
    expect(r.secure).toBe(true);
  });
  test('keepcaps is cleared by execve', () => {
    expect(capsForExec({ ...fullCaps(), securebits: SECBIT_KEEP_CAPS }, root, {}, false).caps.securebits).toBe(0);
  });
  test('an effective uid other than the real one is a set-id exec: ambient is lost', () => {
    const old = sets({ bounding: ALL_CAPS, permitted: bits(1), inheritable: bits(1), ambient: bits(1) });
    const r = capsForExec(old, { ...user, euid: 1001 }, {}, false);
    expect([r.caps.ambient, r.secure]).toEqual([0n, true]);
  });
});

describe('capset, ambient, securebits', () => {
  const c = sets({ bounding: bits(0, 5), permitted: bits(0, 5), effective: bits(0), inheritable: 0n });
  test('permitted may shrink, not grow; effective within permitted', () => {
    expect(capsetCheck(c, bits(0), bits(0), 0n)).toBe(true);
    expect(capsetCheck(c, bits(0), bits(0, 1), 0n)).toBe(false);
    expect(capsetCheck(c, bits(5), bits(0), 0n)).toBe(false);
  });
  test('inheritable grows within permitted, or anywhere in bounding with CAP_SETPCAP', () => {
    expect(capsetCheck(c, 0n, bits(0, 5), bits(5))).toBe(true);
    expect(capsetCheck(c, 0n, bits(0, 5), bits(7))).toBe(false);
    const p = sets({ bounding: bits(7, CAP_SETPCAP), permitted: bits(CAP_SETPCAP), effective: bits(CAP_SETPCAP) });
    expect(capsetCheck(p, 0n, bits(CAP_SETPCAP), bits(7))).toBe(true);
  });
  test('ambient raise needs permitted and inheritable', () => {
    const a = sets({ permitted: bits(5), inheritable: bits(0) });
    expect(ambientRaise(a, 5)).toBe(false);
    a.inheritable |= bits(5);
    expect(ambientRaise(a, 5)).toBe(true);
    expect(a.ambient).toBe(bits(5));
  });
  test('a locked securebit cannot change', () => {
    expect(securebitsSettable(0, SECBIT_KEEP_CAPS)).toBe(true);
    expect(securebitsSettable(SECBIT_KEEP_CAPS << 1, SECBIT_KEEP_CAPS | (SECBIT_KEEP_CAPS << 1))).toBe(false);
    expect(securebitsSettable(0, 1 << 20)).toBe(false);
  });
});

describe('credentialsFromProcess', () => {
  test('applies the OCI sets; ambient outside permitted ∩ inheritable is dropped', () => {
    const c = credentialsFromProcess({
      user: { uid: 1000, gid: 1000, additionalGids: [5] },
      capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], ambient: ['CAP_KILL'] },
      noNewPrivileges: true,
    });
    expect([c.uid, c.euid, c.suid, c.gid, c.groups]).toEqual([1000, 1000, 1000, 1000, [5]]);
    expect(c.caps).toEqual({ bounding: bits(CAP_CHOWN, CAP_KILL), permitted: bits(CAP_KILL), effective: bits(CAP_KILL), inheritable: 0n, ambient: 0n, securebits: 0 });
    expect(c.noNewPrivs).toBe(true);
  });
  test('without process.capabilities every set is empty, as runc does', () => {
    const c = credentialsFromProcess({ user: { uid: 0, gid: 0 } });
    expect(c.caps).toEqual({ ...noCaps(), bounding: 0n });
  });
});

describe('forAccess', () => {
  test('access(2) checks with the real ids: effective cleared for a non-root real uid', () => {
    const c = new Credentials(1000, 1000, 0, 0, 0, 0, [], fullCaps());
    const a = c.forAccess();
    expect([a.euid, a.caps.effective]).toEqual([1000, 0n]);
    expect(new Credentials(0, 0, 5, 5, 0, 0, [], { ...fullCaps(), effective: 0n }).forAccess().caps.effective).toBe(ALL_CAPS);
  });
});
