/**
 * Advisory locks (programs/locks.c): POSIX record locks between processes (ranges, waits,
 * EINTR and SA_RESTART, EDEADLK, release on close and exit, access modes), OFD locks,
 * flock and its independence from fcntl locks, a CLONE_FILES child whose exit leaves the
 * shared descriptor table open (and one that execs, which gets its own), SCM_RIGHTS
 * descriptors dropped past RLIMIT_NOFILE; in /tmp of the rootfs and in a gofer-served bind
 * mount, compared between a native run and runc, runsc and tvisor (see compare.ts). The
 * expected lines are what Linux's fs/locks.c does for each case.
 */
import { RunResult, SCRATCH } from './runner';
import { describeProgram, expectLines } from './compare';

const EXPECTED = [
  "child: F_SETLK F_WRLCK at 15: EAGAIN",
  "child: F_SETLK F_RDLCK 0+10: ok",
  "child: F_GETLK F_WRLCK 0+0: F_WRLCK 10+10, l_pid is the parent's: yes",
  "after the child exited, its lock on 0+10 is gone: F_UNLCK",
  "hole 40+10: F_UNLCK",
  "30+20 across the hole: F_WRLCK 0+40 whence 0, l_pid the holder's",
  "read 25+1 inside the read lock: F_UNLCK",
  "read 15+20: F_WRLCK 0+20 whence 0, l_pid the holder's",
  "write at 60 with l_len -5: F_WRLCK 50+50 whence 0, l_pid the holder's",
  "write at SEEK_END-1: F_WRLCK 50+50 whence 0, l_pid the holder's",
  "35+1 after filling the hole (merged): F_WRLCK 30+70 whence 0, l_pid the holder's",
  "1000+1: F_WRLCK 200+0 whence 0, l_pid the holder's",
  "after unlocking 0+0: F_UNLCK",
  "child: F_SETLKW: ok, saw the mark written before the release: yes",
  "child: F_SETLKW with a handler without SA_RESTART: EINTR",
  "child: F_SETLKW with an SA_RESTART handler, after 3 or more handlers: ok",
  "deadlock: 1 EDEADLK, 1 granted",
  "before closing another descriptor: F_WRLCK 0+10 whence 0, l_pid the holder's",
  "after closing another descriptor of the file: F_UNLCK",
  "after dup2 over a dup of the descriptor: F_UNLCK",
  "OFD: lock 0+10 on a: ok",
  "OFD: lock at 5 on b: EAGAIN",
  "OFD: POSIX lock at 5 on b: EAGAIN",
  "OFD: F_OFD_GETLK on b: F_WRLCK 0+10, l_pid -1",
  "OFD: l_pid 1: F_OFD_SETLK EINVAL, F_OFD_GETLK EINVAL",
  "OFD: seen by another process: F_WRLCK 0+10 whence 0, l_pid -1",
  "OFD: closing another descriptor keeps it: EAGAIN",
  "OFD: a closed, its dup open: EAGAIN",
  "OFD: the dup closed too: ok",
  "flock: LOCK_EX on a: ok",
  "flock: LOCK_EX|LOCK_NB on b: EAGAIN",
  "flock: LOCK_SH|LOCK_NB on b: EAGAIN",
  "flock: fcntl F_SETLK on another open while flocked: ok",
  "flock child: LOCK_EX|LOCK_NB on the inherited a: ok",
  "flock child: LOCK_EX|LOCK_NB on its own open: EAGAIN",
  "flock: LOCK_UN through a dup of a: ok",
  "flock: then LOCK_SH on b: ok, LOCK_SH on a: ok",
  "flock: converting a to LOCK_EX|LOCK_NB: EAGAIN",
  "flock: converting b to LOCK_EX|LOCK_NB after that: ok",
  "flock: b closed, LOCK_EX|LOCK_NB on a: ok",
  "flock: bad operation: EINVAL",
  "modes: F_WRLCK on O_RDONLY: EBADF, F_RDLCK: ok",
  "modes: F_RDLCK on O_WRONLY: EBADF, F_WRLCK: ok",
  "modes: F_GETLK F_WRLCK on O_RDONLY: ok",
  "modes: F_GETLK F_UNLCK: EINVAL",
  "modes: whence 7: EINVAL, start -1: EINVAL, type 9: EINVAL",
  "modes: O_PATH: F_SETLK EBADF, flock EBADF",
  "CLONE_FILES child exited: its open is in our table: yes, our pipe still open: yes",
  "CLONE_FILES child exec'd: our O_CLOEXEC descriptor still open: yes, its fd 100 not in our table: yes",
  "SCM_RIGHTS past RLIMIT_NOFILE: recvmsg ok, MSG_CTRUNC yes, descriptors received 1",
  "SCM_RIGHTS past RLIMIT_NOFILE: the dropped copy is released (reader sees POLLHUP): yes",
  "done",
];

function expectLocks(r: RunResult): void {
  expect(r.status).toBe(0);
  expectLines(r.stdout, EXPECTED);
}

/** RUNSC_GAP: what the installed runsc gets wrong here (seen in its output): F_GETLK after
 * a range was split or locked to the end, and deadlock detection (both F_SETLKW wait). */
const RUNSC_GAP = 'F_GETLK misreports split ranges and l_len 0; no EDEADLK (the deadlock case waits for ever)';

describeProgram({ program: 'locks', title: 'locks in /tmp', args: [SCRATCH], expectNative: expectLocks, runscUnsupported: RUNSC_GAP });

describeProgram({
  program: 'locks',
  title: 'locks in a bind mount',
  args: [SCRATCH],
  options: { scratchMount: '/mnt/scratch' },
  expectNative: expectLocks,
  runscUnsupported: RUNSC_GAP,
});
