/**
 * Treaddirstat (9P2000.L.fd) lists a directory with every entry's attributes in one
 * request, so that a cold walk of many files costs a few round trips: it must name
 * nothing outside the export. The export holds symlinks pointing out of it (to
 * /etc/shadow, to ../../.., to a sibling directory with a secret): each is reported with
 * the link's own attributes, never its target's; the export root's listing shows only
 * the export's entries; a file is not a directory to list; and the sibling is unchanged.
 * The attributes match what Twalk + Tgetattr (and lstat on the host) say of each name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { built, errnoOf, escapeGofer, expectKind } from '../gofer/harness';
import { Errno } from '../../native/libc';

if (!built) throw new Error('bin/tvisor is not built: run make build first');

describe('gofer confinement: Treaddirstat', () => {
  const g = escapeGofer('tvisor-readdirstat-', '9P2000.L.fd', (tree) => {
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(tree.exp, 'sub', `f${i}`), 'x'.repeat(i));
  });

  const list = (fid: number, offset = 0, count = 1000) => g.c.rpc({ kind: 'Treaddirstat', fid, offset, count });

  it('lists the export root with only its own entries, symlinks as themselves', async () => {
    const r = await list(0);
    expectKind(r, 'Rreaddirstat');
    expect(r.next).toBe(0);
    const names = r.entries.map((e) => e.name).sort();
    expect(names).toEqual(fs.readdirSync(g.tree.exp).sort());
    for (const e of r.entries) {
      const st = fs.lstatSync(path.join(g.tree.exp, e.name), { bigint: true });
      expect(e.attr.mode).toBe(Number(st.mode));
      expect(e.attr.size).toBe(Number(st.size));
      expect(e.attr.qid.path & 0xffffffffffffn).toBe(st.ino & 0xffffffffffffn);
    }
    for (const link of ['link-shadow', 'link-up', 'link-outside', 'link-out', 'link-dir']) {
      const e = r.entries.find((x) => x.name === link)!;
      expect(e.attr.mode & 0o170000).toBe(0o120000); // the link's own, never its target's
      expect(e.attr.size).toBe(fs.readlinkSync(path.join(g.tree.exp, link)).length);
    }
    expect(r.entries.some((e) => e.name === '..' || e.name === '.' || e.name === 'secret.txt' || e.name === 'outside')).toBe(false);
  });

  it('agrees with Twalk + Tgetattr of each name, and pages with offset and next', async () => {
    const w = await g.c.rpc({ kind: 'Twalk', fid: 0, newfid: 5, names: ['sub'] });
    expectKind(w, 'Rwalk');
    const first = await list(5, 0, 10);
    expectKind(first, 'Rreaddirstat');
    expect(first.entries).toHaveLength(10);
    expect(first.next).toBe(10);
    const rest = await list(5, first.next, 1000);
    expectKind(rest, 'Rreaddirstat');
    expect(rest.next).toBe(0);
    const all = [...first.entries, ...rest.entries];
    expect(all.map((e) => e.name).sort()).toEqual(fs.readdirSync(path.join(g.tree.exp, 'sub')).sort());
    for (const e of all.slice(0, 5)) {
      const fid = 100 + all.indexOf(e);
      expectKind(await g.c.rpc({ kind: 'Twalk', fid: 5, newfid: fid, names: [e.name] }), 'Rwalk');
      const got = await g.c.rpc({ kind: 'Tgetattr', fid, requestMask: 0x7ff });
      expectKind(got, 'Rgetattr');
      const { kind: _k, tag: _t, ...attr } = got;
      expect(e.attr).toEqual(attr);
      expectKind(await g.c.rpc({ kind: 'Tclunk', fid }), 'Rclunk');
    }
  });

  it('lists nothing but a walked directory of the export: a file, a symlink, an unknown fid, a zero count', async () => {
    expectKind(await g.c.rpc({ kind: 'Twalk', fid: 0, newfid: 6, names: ['file.txt'] }), 'Rwalk');
    expect(errnoOf(await list(6))).toBe(Errno.ENOTDIR);
    expectKind(await g.c.rpc({ kind: 'Twalk', fid: 0, newfid: 7, names: ['link-dir'] }), 'Rwalk');
    expect(errnoOf(await list(7))).toBe(Errno.ENOTDIR); // the link is not followed to ../outside
    expect(errnoOf(await list(999))).toBe(Errno.EBADF);
    expect(errnoOf(await list(0, 0, 0))).toBe(Errno.EINVAL);
    // `..` of the root is the root: its listing is still the export's.
    expectKind(await g.c.rpc({ kind: 'Twalk', fid: 0, newfid: 8, names: ['..', '..'] }), 'Rwalk');
    const up = await list(8);
    expectKind(up, 'Rreaddirstat');
    expect(up.entries.map((e) => e.name).sort()).toEqual(fs.readdirSync(g.tree.exp).sort());
  });

  it('is refused in plain 9P2000.L', async () => {
    const plain = await g.gofer.connect();
    try {
      await plain.handshake();
      expect(errnoOf(await plain.rpc({ kind: 'Treaddirstat', fid: 0, offset: 0, count: 10 }))).toBe(Errno.EOPNOTSUPP);
    } finally {
      plain.close();
    }
  });
});
