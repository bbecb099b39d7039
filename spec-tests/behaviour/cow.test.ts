/**
 * Copy-on-write fork: children and a grandchild of a process with 64 MiB touched each
 * write their own pages and see the rest unchanged; vfork and posix_spawn after forks; a
 * MAP_PRIVATE file mapping, a signal frame on an alternate stack and a read(2) as the
 * first stores into pages shared since a fork. Compared between a native run and runc,
 * runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'cow',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      '4 children each wrote one page: 4 saw the rest unchanged',
      'the parent\'s 64 MiB after them: 0 pages changed',
      'child forks a grandchild: exit 0',
      '  parent sees neither: yes',
      'vfork child (after forks): exit 4, the parent sees its writes: yes',
      'posix_spawn of itself: 0',
      '  spawned child: exit 7',
      'MAP_PRIVATE file mapping, child writes: exit 0; parent keeps its copy: yes',
      'signal right after fork, frame on the alternate stack: child exit 0, parent\'s stack bytes changed: 0',
      'read() into a buffer shared since the fork: child exit 0, parent\'s bytes changed: 0',
      'the parent\'s 64 MiB at the end: 0 pages changed',
      'done',
    ]);
  },
});
