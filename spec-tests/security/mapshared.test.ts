/**
 * Shared file mappings and the host's files: a MAP_SHARED write path (tvisor's gofer page
 * cache, written back by msync, fsync and munmap) must never reach a host file that the
 * container may read but not write. programs/mapshared-ro.c tries, on a file in a
 * read-only bind mount and on a file opened O_RDONLY in a writable one: an open for
 * writing, a writable MAP_SHARED mapping, mprotect(PROT_WRITE) of a read-only one, and a
 * written MAP_PRIVATE mapping followed by msync, fsync and munmap. The outputs under runc
 * and tvisor must be equal and both host files keep their bytes and their mtime.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { programSkipReason, runtimeSkipReason, runUnder, type Runtime } from '../behaviour/runner';

const PROGRAM = 'mapshared-ro';
const ORIGINAL = Buffer.alloc(8192, 'o');

/** prerequisites fails the suite, naming what is missing. */
function prerequisites(): void {
  const missing = [programSkipReason(PROGRAM), runtimeSkipReason('runc'), runtimeSkipReason('tvisor')].filter((r) => r !== undefined);
  if (missing.length) throw new Error(`security/mapshared: missing prerequisites: ${missing.join(', ')}`);
}

/** attempt runs the program under a runtime with /ro (a read-only bind mount) and /rw
 * (a writable one) each holding a fresh host file "victim"; it returns the output and
 * whether each host file kept its bytes and mtime. */
function attempt(rt: Runtime, which: 'ro' | 'rw'): { stdout: string; status: number; intact: boolean } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sec-mapshared-${rt}-`));
  try {
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, ORIGINAL);
    const past = new Date('2020-01-01T00:00:00Z');
    fs.utimesSync(victim, past, past);
    const dest = `/${which}`;
    const r = runUnder(rt, PROGRAM, [`${dest}/victim`, which === 'ro' ? 'ro-mount' : 'rw-mount'], {
      mounts: [{ source: dir, destination: dest }],
      editSpec: (spec) => {
        if (which !== 'ro') return;
        for (const m of spec.mounts) if (m.destination === dest) m.options = ['rbind', 'ro'];
      },
    });
    const intact = fs.readFileSync(victim).equals(ORIGINAL) && fs.statSync(victim).mtimeMs === past.getTime();
    return { stdout: r.stdout, status: r.status, intact };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

beforeAll(prerequisites);

describe('MAP_SHARED writes never reach a file the container may not write', () => {
  test.each(['ro', 'rw'] as const)('%s: the same refusals under runc and tvisor, host file intact', (which) => {
    const runc = attempt('runc', which);
    const tvisor = attempt('tvisor', which);
    const lines = [
      ...(which === 'ro' ? ['open O_RDWR: EROFS'] : []),
      'mmap PROT_WRITE MAP_SHARED: EACCES',
      'mprotect PROT_WRITE of the shared mapping: EACCES',
      'msync of the private mapping: ok',
      "the shared mapping after the private write: 'o'",
      'msync of the shared mapping: ok',
      'fsync of the descriptor: ok',
      'done',
    ];
    expect(runc).toEqual({ stdout: lines.join('\n') + '\n', status: 0, intact: true });
    expect(tvisor).toEqual(runc);
  });
});
