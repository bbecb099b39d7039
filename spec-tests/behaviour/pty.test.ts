/**
 * Pseudo-terminals made inside the container (pty.c): posix_openpt/openpty, the slave's
 * lock, TIOCGPTN and ptsname, canonical input with echo, ONLCR output, echo off, raw mode,
 * window size from both sides, /dev/tty of a session that took the slave (TIOCSCTTY, or
 * an open without O_NOCTTY), ^C to the foreground group, and the close semantics, compared between a native run and
 * runc, runsc and tvisor (see compare.ts).
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'pty',
  // runsc (2022) gives TIOCGPTN on a slave instead of ENOTTY, then never returns from the
  // master's read once the slave is closed (Linux: EIO).
  runscUnsupported: 'a pty master read after the slave closed blocks instead of failing with EIO',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'open slave while locked: EIO',
      'open slave: ok',
      'slave: char device yes, owner rw yes, owner is me yes, major 136 minor is N yes',
      'slave read: hello\\n',
      'master echo: hello\\r\\n',
      'master read: out\\r\\n',
      'after erase: pat\\n',
      'master echo bytes: 0',
      'raw read: ab\\r',
      'raw output: x\\n',
      'TIOCGWINSZ on slave: ok 24x80',
      'master read after slave close: EIO',
      'node after both closed: ENOENT',
      'session leader with the slave as controlling terminal: exit 0',
      'master read: via tty\\r\\n',
      'open slave with O_NOCTTY in a new session, then /dev/tty: exit 20',
      'open slave without O_NOCTTY in a new session, then /dev/tty: exit 0',
      'child says: ready\\r\\n',
      'child after ^C: exit 0',
      'master read: ^Cgot SIGINT\\r\\n',
      'slave read after master close: 0 ',
      'slave write after master close: EIO',
    ]);
  },
});
