/**
 * /dev on the Debian image under tvisor as under runc: `script` (util-linux) makes a pty
 * pair with openpty() and runs a shell on its slave, whose `tty` names /dev/pts/N;
 * python's pty module does the same with os.openpty; `ls -la /dev /dev/pts` lists the
 * same nodes. Normalisation, the only one: dates and times in `ls` are cut, and pty
 * numbers are printed as N (other ptys may exist). The image is built by
 * `make debian-image`; without it these tests fail.
 */
import { expectSameAsRunc } from './image';

const LS_DATE = "sed -E 's/ [A-Z][a-z]{2} +[0-9]+ +[0-9:]+ / DATE /'";

const CASES: Array<[string, string]> = [
  ['script -qc tty', `script -qc 'tty; echo ok' /dev/null | sed -E 's#/dev/pts/[0-9]+#/dev/pts/N#'`],
  ['python pty.openpty and os.ttyname', `python3 -c '
import os, pty, termios
m, s = pty.openpty()
print(os.ttyname(s).rstrip("0123456789"), os.isatty(m), os.isatty(s))
os.write(m, b"line\\n")
print(os.read(s, 100))
print(os.read(m, 100))
attrs = termios.tcgetattr(s)
print(bool(attrs[3] & termios.ECHO), bool(attrs[1] & termios.ONLCR))
'`],
  ['ls -la /dev /dev/pts', `ls -la /dev /dev/pts | ${LS_DATE}`],
  ['ls -ln /dev/pts inside script (the slave: owner, tty group, 620)', `script -qc "ls -ln /dev/pts | ${LS_DATE}" /dev/null | sed -E 's/ [0-9]+\r?$/ N/'`],
  ['stat of ptmx and pts/ptmx', `stat -c '%n %F %t %T %a %u %g' /dev/ptmx /dev/pts/ptmx /dev/null /dev/tty`],
];

describe('/dev on the Debian image: tvisor as runc', () => {
  test.each(CASES)('%s', (_name, script) => {
    expectSameAsRunc(script);
  });
});
