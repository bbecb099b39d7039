/**
 * A hole punched in a file keeps a MAP_PRIVATE mapping's copy-on-write copies of its
 * pages (Linux unmaps only the file's own pages), on /tmp and /dev/shm (tmpfs under every
 * runtime); pages only read show the hole's zeros. Compared between a native run and
 * runc, runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';

for (const dir of ['/tmp', '/dev/shm']) {
  describeProgram({
    program: 'cow-punch',
    title: `a hole punched in a file on ${dir} keeps a private mapping's copies`,
    args: [dir],
    runscUnsupported: 'gVisor 2022\'s tmpfs answers fallocate(FALLOC_FL_PUNCH_HOLE) with EOPNOTSUPP, which ends the program',
    expectNative(r) {
      expect(r.status).toBe(0);
      expectLines(r.stdout, [
        'written page 0 after the hole: p',
        'written page 20 after the hole: p',
        'written page 33 after the hole: p',
        'read page 1 after the hole: byte 0',
        'read page 21 after the hole: byte 0',
        'read page 34 after the hole: byte 0',
        'page 50, outside the hole: f',
        'done',
      ]);
    },
  });
}
