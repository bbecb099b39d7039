/**
 * Unit tests of the user namespaces an application makes (user-namespace.ts): writing
 * uid_map/gid_map and setgroups under Linux's rules, the ids seen through the maps (and
 * through nested ones), capabilities relative to a namespace (ns_capable), and the
 * credentials a task has in one. programs/newuser.c compares the whole against Linux.
 */
import { ALL_CAPS, CAP_DAC_OVERRIDE, CAP_SETFCAP, CAP_SYS_ADMIN, capBit, noCaps } from './capabilities';
import { Credentials } from './credentials';
import { LinuxError } from './errors';
import { capableIn, fromKernelId, mapText, newUserNamespace, OVERFLOW, toKernelId, UserNamespace, writeMap, writeSetgroups } from './user-namespace';

/** errnoOf runs f and returns the errno it failed with (0: none). */
function errnoOf(f: () => void): number {
  try {
    f();
    return 0;
  } catch (e) {
    if (e instanceof LinuxError) return e.errno;
    throw e;
  }
}

/** user makes uid/gid `id` credentials without capabilities in namespace ns. */
function user(id: number, ns: UserNamespace | null = null): Credentials {
  const c = new Credentials(id, id, id, id, id, id, [], noCaps());
  c.userns = ns;
  return c;
}

/** entered is c in a new namespace with every capability there (set_cred_user_ns). */
function entered(c: Credentials): [Credentials, UserNamespace] {
  const ns = newUserNamespace(c, false);
  const n = c.clone();
  n.userns = ns;
  n.caps = { ...n.caps, effective: ALL_CAPS, permitted: ALL_CAPS, bounding: ALL_CAPS };
  return [n, ns];
}

describe('maps', () => {
  test('a user maps its own id once; the ids show through the map, others as 65534', () => {
    const [c, ns] = entered(user(1000));
    expect(fromKernelId(ns, 'uid', 1000)).toBe(OVERFLOW);
    writeMap(ns, 'uid', c, '0 1000 1\n');
    expect(fromKernelId(ns, 'uid', 1000)).toBe(0);
    expect(fromKernelId(ns, 'uid', 0)).toBe(OVERFLOW);
    expect(toKernelId(ns, 'uid', 0)).toBe(1000);
    expect(toKernelId(ns, 'uid', 1)).toBe(-1);
    expect(errnoOf(() => writeMap(ns, 'uid', c, '0 1000 1'))).toBe(1); // once: EPERM
  });

  test('malformed, empty, zero-length and overlapping lines are EINVAL; ids beyond the writer\'s own EPERM', () => {
    const [c, ns] = entered(user(1000));
    for (const bad of ['0 1000', '', '0 1000 0', 'a b c', '0 1000 1\n0 1001 1', '4294967295 1000 2']) {
      expect([bad, errnoOf(() => writeMap(ns, 'uid', c, bad))]).toEqual([bad, 22]);
    }
    expect(errnoOf(() => writeMap(ns, 'uid', c, '0 0 1'))).toBe(1);
    expect(errnoOf(() => writeMap(ns, 'uid', c, '0 1000 2'))).toBe(1);
    expect(ns.uidMap).toBeNull(); // nothing written by a refused write
  });

  test('gid_map of a user needs setgroups denied first; deny is refused once gid_map is written', () => {
    const [c, ns] = entered(user(1000));
    expect(errnoOf(() => writeMap(ns, 'gid', c, '0 1000 1'))).toBe(1);
    writeSetgroups(ns, c, 'deny\n');
    expect(errnoOf(() => writeSetgroups(ns, c, 'allow'))).toBe(1);
    writeMap(ns, 'gid', c, '0 1000 1');
    expect(errnoOf(() => writeSetgroups(ns, c, 'deny'))).toBe(1);
    expect(errnoOf(() => writeSetgroups(ns, c, 'maybe'))).toBe(22);
  });

  test('mapping the parent\'s root needs CAP_SETFCAP at creation (verify_root_map)', () => {
    const rootWith = new Credentials(0, 0);
    const [c1, ns1] = entered(rootWith);
    writeMap(ns1, 'uid', c1, '0 0 1');
    const rootWithout = new Credentials(0, 0);
    rootWithout.caps.effective &= ~capBit(CAP_SETFCAP);
    const [c2, ns2] = entered(rootWithout);
    expect(errnoOf(() => writeMap(ns2, 'uid', c2, '0 0 1'))).toBe(1);
    expect(ns2.uidMap).toBeNull();
    // Root of the parent (holding CAP_SETUID there) maps another id to the namespace's root.
    const [, ns3] = entered(rootWithout);
    writeMap(ns3, 'uid', new Credentials(0, 0), '0 1000 1');
    expect(toKernelId(ns3, 'uid', 0)).toBe(1000);
  });

  test('a writer in the parent with CAP_SETUID there maps ranges; lower ids must lie in one parent extent', () => {
    const root = new Credentials(0, 0);
    const [, ns] = entered(root);
    writeMap(ns, 'uid', root, '0 100000 65536\n65536 5000 10');
    expect(toKernelId(ns, 'uid', 65536 + 3)).toBe(5003);
    expect(mapText(ns, 'uid', null)).toBe(`${'0'.padStart(10)} ${'100000'.padStart(10)} ${'65536'.padStart(10)}\n${'65536'.padStart(10)} ${'5000'.padStart(10)} ${'10'.padStart(10)}\n`);
    // Nested: lower ids are the parent's ids, each range inside one of its extents.
    const inner = new UserNamespace(ns, 100000, 100000, true);
    const writer = user(100000, ns);
    writer.caps.effective = ALL_CAPS;
    expect(errnoOf(() => writeMap(inner, 'uid', writer, '0 65530 20'))).toBe(1); // crosses an extent's end
    writeMap(inner, 'uid', writer, '0 10 5');
    expect(toKernelId(inner, 'uid', 2)).toBe(100012);
    // A reader in the inner namespace sees lower ids as the parent does; the root reader as kernel ids.
    expect(mapText(inner, 'uid', inner).trim().split(/\s+/)).toEqual(['0', '10', '5']);
    expect(mapText(inner, 'uid', null).trim().split(/\s+/)).toEqual(['0', '100010', '5']);
  });
});

describe('capabilities relative to a namespace', () => {
  test('a task in its own namespace holds its set there and below, nothing above', () => {
    const [c, ns] = entered(user(1000));
    const bit = capBit(CAP_SYS_ADMIN);
    expect(capableIn(c, ns, bit)).toBe(true);
    expect(capableIn(c, null, bit)).toBe(false);
    expect(c.capable(CAP_DAC_OVERRIDE)).toBe(false); // capable() asks about the sandbox
    const below = new UserNamespace(ns, 4242, 4242);
    expect(capableIn(c, below, bit)).toBe(true);
  });

  test('the owner of a child namespace holds everything in it without any capability', () => {
    const u = user(1000);
    const ns = newUserNamespace(u, false);
    expect(capableIn(u, ns, capBit(CAP_SYS_ADMIN))).toBe(true);
    expect(capableIn(user(1001), ns, capBit(CAP_SYS_ADMIN))).toBe(false);
  });

  test('nesting stops at 32 levels (EUSERS); a chrooted task gets EPERM', () => {
    let c = user(1000);
    for (let i = 0; i < 32; i++) c = entered(c)[0];
    expect(errnoOf(() => newUserNamespace(c, false))).toBe(87);
    expect(errnoOf(() => newUserNamespace(user(1000), true))).toBe(1);
  });
});
