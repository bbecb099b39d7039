/**
 * A session's controlling terminal and job control (programs/sessions.c): a pseudo-terminal
 * made in the program, taken by a session leader with TIOCSCTTY; the leader's exit and its
 * TIOCNOTTY hang the foreground group up (SIGHUP; SIGCONT too for TIOCNOTTY) and leave the
 * terminal no session's; another member's TIOCNOTTY drops only its own (and its future
 * children's) link; a background group gets SIGTTIN for a read and SIGTTOU for a
 * write with TOSTOP (EIO when SIGTTIN is ignored or blocked); another session's process is
 * refused (ENOTTY, EPERM). Compared between a native run and runc, runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'sessions',
  runscUnsupported: "gVisor's setsid fails in a forked child here, so no session takes the terminal",
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'foreground child: got SIGHUP when the session leader exited',
      'its TIOCGSID on the slave then: ENOTTY',
      'its open of /dev/tty then: ENXIO',
      'it reads the slave afterwards: ok hi',
      "foreground child: got SIGHUP and SIGCONT after the leader's TIOCNOTTY",
      "leader's TIOCNOTTY: ok; the leader (in the foreground group) got SIGHUP and SIGCONT too",
      'TIOCGSID after it: ENOTTY',
      'TIOCSCTTY again: ok',
      "a member's TIOCSCTTY: EPERM",
      "a member's TIOCNOTTY: ok; then its TIOCGPGRP ENOTTY, /dev/tty ENXIO, TIOCNOTTY again ENOTTY, its child's /dev/tty ENXIO",
      "the leader's TIOCGSID after it: ok, its own session: yes",
      "the foreground group is the leader's: yes",
      'background read: stopped by SIGTTIN',
      'background read, SIGTTIN ignored: EIO',
      'background read, SIGTTIN blocked: EIO',
      'background write without TOSTOP: ok',
      'background write with TOSTOP: stopped by SIGTTOU',
      'background write with TOSTOP, SIGTTOU ignored: ok',
      'orphaned background group: read EIO, write with TOSTOP EIO',
      'TIOCSPGRP to a group of another session: EPERM',
      "another session's terminal: TIOCGPGRP ENOTTY, TIOCGSID ENOTTY, TIOCSCTTY EPERM",
      'done',
    ]);
  },
});
