/**
 * Creating a name in /proc (proc-create.c): mkdir, mknod, symlink and open(O_CREAT) of a
 * name /proc lacks fail ENOENT, in /proc, /proc/sys (a read-only mount in runc's and
 * tvisor's containers: the lookup fails before the read-only check, so not EROFS) and
 * /proc/self. Compared between a native run and runc, runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';

const ENOENT_ALL = (dir: string) => ['mkdir', 'mknod fifo', 'symlink', 'open O_CREAT'].map((op) => `${dir}: ${op} ENOENT`);

describeProgram({
  program: 'proc-create',
  runscUnsupported: 'Debian\'s 2022 runsc answers EACCES for every creation in its /proc (it checks the directory\'s permission before the lookup)',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      ...ENOENT_ALL('/proc'), ...ENOENT_ALL('/proc/sys'), ...ENOENT_ALL('/proc/sys/kernel'), ...ENOENT_ALL('/proc/self'),
      '/proc/sys/kernel: mkdir existing hostname EEXIST',
    ]);
  },
});
