/**
 * /proc/self/io (procio.c): the read and write counters move by exactly the bytes and
 * calls a process made (pipes, /dev/null, /dev/zero, vectored calls, EAGAIN reads from
 * a pipe and a timerfd that count, an EBADF one that does not, a reaped child's writes).
 * read_bytes and write_bytes are not compared: natively they count block I/O, which
 * depends on the host's page cache. Compared between a native run and runc, runsc and
 * tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'procio',
  // Debian's 2022 runsc: its io file's first field does not read as "rchar", and a reaped
  // child's writes are not added to its parent's counts.
  runscDeviations: [
    ['fields: rchar wchar syscr syscw read_bytes write_bytes cancelled_write_bytes', 'fields: char wchar syscr syscw read_bytes write_bytes cancelled_write_bytes'],
    ['wchar +2100 (pipe 1000, /dev/null 300 and 100+200, the child\'s 500)', 'wchar +1600 (pipe 1000, /dev/null 300 and 100+200, the child\'s 500)'],
    ['syscw +4', 'syscw +3'],
  ],
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'fields: rchar wchar syscr syscw read_bytes write_bytes cancelled_write_bytes',
      'rchar +5216 (pipe 600+400, /dev/zero 4096 and 50+70)',
      'wchar +2100 (pipe 1000, /dev/null 300 and 100+200, the child\'s 500)',
      'syscr +6 (the EAGAIN reads count, the EBADF one does not)',
      'syscw +4',
    ]);
  },
});
