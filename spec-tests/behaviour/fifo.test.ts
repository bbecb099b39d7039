/**
 * FIFOs by name, on tmpfs and on a bind mount: fifo(7)'s open rules (a blocking open
 * waits for its partner, ENXIO, O_NONBLOCK and O_RDWR opens, a signal ending a waiting
 * open with EINTR or restarting it), data dropped with the last end, fstat of an open
 * FIFO; compared natively, under runc, runsc and tvisor. Under tvisor a FIFO on a bind
 * mount is served by the sentry (the host's FIFO is never opened).
 */
import { SCRATCH, type RunResult } from './runner';
import { describeProgram, expectLines } from './compare';

/** RUNSC_GAP: where Debian's gVisor (2022) leaves Linux, after which the run diverges. */
const RUNSC_GAP = 'a FIFO open interrupted by a SA_RESTART handler fails with EINTR (and a reader no writer ever opened polls POLLHUP)';

/** expectFifo asserts the native run's output (the same wherever the FIFO lives). */
function expectFifo(r: RunResult): void {
  expect(r.status).toBe(0);
  expectLines(r.stdout, [
    'early reader read "first" then end of file',
    'late reader read "second" then end of file',
    'O_WRONLY|O_NONBLOCK without a reader: ENXIO',
    'O_RDONLY|O_NONBLOCK without a writer: opened',
    '  read: end of file',
    '  poll: 0, revents',
    '  a writer now opens: ok',
    '  poll after the writer closed: 1, revents POLLHUP',
    'O_RDWR: opened without waiting',
    'data left when every end closed: gone',
    'blocking open interrupted by SIGALRM: EINTR',
    'then O_WRONLY|O_NONBLOCK: ENXIO',
    'restarted reader read "restarted" then end of file',
    'fstat: FIFO, same inode as stat: yes',
    'reopened pipe without a writer: read 4 then 0',
    'pipe\'s write end reopened O_NONBLOCK without a reader: opened',
    'done',
  ]);
}

describeProgram({ program: 'fifo', title: 'fifo on tmpfs', args: [SCRATCH], expectNative: expectFifo, runscUnsupported: RUNSC_GAP });

describeProgram({
  program: 'fifo',
  title: 'fifo on a bind mount',
  args: [SCRATCH],
  options: { scratchMount: '/work' },
  expectNative: expectFifo,
  runscUnsupported: RUNSC_GAP,
});
