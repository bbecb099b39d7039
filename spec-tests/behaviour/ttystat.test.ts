/**
 * /proc/<pid>/stat's tty_nr and tpgid (ttystat.c): none in a new session, the slave's
 * device and the leader's group once a session leader opens a pseudo-terminal slave,
 * the new foreground group after tcsetpgrp (seen by the leader and by the member), none
 * after TIOCNOTTY; compared between a native run and runc, runsc and tvisor (compare.ts).
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'ttystat',
  // gVisor's /proc/<pid>/stat has 0 for both fields, with a terminal or without.
  runscDeviations: [
    ['a new session has no terminal: tty_nr 0, tpgid -1', 'a new session has no terminal: tty_nr 0, tpgid 0'],
    ['after acquiring the slave: tty_nr is its device: yes, tpgid is our group: yes', 'after acquiring the slave: tty_nr is its device: no, tpgid is our group: no'],
    ['after tcsetpgrp: the leader sees tpgid the member\'s group: yes', 'after tcsetpgrp: the leader sees tpgid the member\'s group: no'],
    ['a member in the new foreground group sees tpgid its group: yes', 'a member in the new foreground group sees tpgid its group: no'],
    ['after TIOCNOTTY: tty_nr 0, tpgid -1', 'after TIOCNOTTY: tty_nr 0, tpgid 0'],
  ],
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'a new session has no terminal: tty_nr 0, tpgid -1',
      'after acquiring the slave: tty_nr is its device: yes, tpgid is our group: yes',
      'after tcsetpgrp: the leader sees tpgid the member\'s group: yes',
      'a member in the new foreground group sees tpgid its group: yes',
      'after TIOCNOTTY: tty_nr 0, tpgid -1',
      'done',
    ]);
  },
});
