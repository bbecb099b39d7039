/**
 * Copy-on-write of file pages: MAP_PRIVATE mappings of a gofer file (a bind mount) and
 * of a tmpfs file (/dev/shm) show the file's later writes on the pages not written
 * through them and keep their own copy of a page once written, across fork, mprotect,
 * partial munmap, mremap, MADV_DONTNEED, read(2) and write(2) through the mapping and a
 * truncate (SIGBUS past the new end, the copies there dropped as Linux drops them).
 * Compared between a native run and runc, runsc and tvisor.
 */
import { SCRATCH } from './runner';
import { describeProgram, expectLines } from './compare';

const ROUND = [
  'the mapping reads the file: yes',
  'pages not written see the file\'s writes: yes',
  'a written page keeps its bytes after the file changes: yes',
  'its neighbour, not written, sees the file: yes',
  'the file never sees the private write: yes',
  'fork: child exit 0; the parent keeps its pages: yes',
  'after the fork, the file unchanged: yes',
  'read-only now, a store: SIGSEGV',
  'read-only: the copy kept, the rest sees the file: yes',
  'writable again: a new write copies, the rest sees the file: yes',
  'after a partial munmap: copies kept, the file seen: yes',
  'the unmapped page: SIGSEGV',
  'mremap: copy moved, the rest sees the file: yes',
  'mremap: a write there copies: yes',
  'MADV_DONTNEED: the written page shows the file: yes',
  'read() into the mapping: its own copy, the file unchanged: yes',
  'write() from the mapping sends the file\'s bytes: yes',
  'PROT_READ private mapping, a store: SIGSEGV',
  'truncated: the last page\'s tail reads zeros: yes',
  'truncated: a page past the end: SIGBUS',
  'truncated: a written page past the end: SIGBUS',
  'truncated: a store past the end: SIGBUS',
  'truncated: a copy before the end stays: yes',
  'grown again: the written page past the old end reads the file (zeros): yes',
];

describeProgram({
  program: 'cowfile',
  title: 'MAP_PRIVATE file mappings copy a page on its first write',
  args: [SCRATCH, '/dev/shm'],
  options: { scratchMount: '/cow' }, // a bind mount: a gofer file under tvisor
  runscUnsupported: 'its private file mappings stop showing the file\'s writes on pages never written (a written page\'s neighbours, and after mprotect, munmap or mremap) and a truncate leaves the last page\'s tail: the run diverges from the fourth line on',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, ['round 1', ...ROUND, 'round 2', ...ROUND, 'done']);
  },
});
