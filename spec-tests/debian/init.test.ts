/**
 * tini (Debian's package) as the container's init, and Python's signal.sigwait and
 * signal.sigtimedwait, run under tvisor exactly as under runc. tini blocks every signal and
 * waits for them with sigtimedwait(2): it needs rt_sigtimedwait, blocked signals queued for
 * an init whose disposition is the default one, and SIGCHLD queued while blocked.
 */
import { runDebian } from './image';

/** underTini makes the container's process tini running `sh -c script`. */
const underTini = (script: string) => ({
  editSpec: (spec: any) => {
    spec.process.args = ['/usr/bin/tini', '--', '/bin/sh', '-c', script];
  },
});

/** same runs the case under runc and tvisor and expects the same output and status. */
function same(script: string, opts = {}): { stdout: string; status: number } {
  const runc = runDebian('runc', script, opts);
  const tvisor = runDebian('tvisor', script, opts);
  expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status }).toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
  return runc;
}

describe('tini as init and Python sigwait under tvisor match runc', () => {
  test("tini runs its child and exits with the child's status", () => {
    const r = same('', underTini('echo hi; exit 3'));
    expect(r).toMatchObject({ stdout: 'hi\n', status: 3 });
  });

  test('tini reaps an orphaned zombie', () => {
    // The subshell's background `true` is orphaned, reparented to tini, and must not stay a zombie.
    const r = same('', underTini('( /bin/true & ); sleep 1; echo zombies $(ps -eo stat= | grep -c "^Z")'));
    expect(r).toMatchObject({ stdout: 'zombies 0\n', status: 0 });
  });

  test('tini forwards SIGTERM sent to it to its child', () => {
    const r = same('', underTini('trap "echo got TERM; exit 5" TERM; kill -TERM 1; sleep 10 & wait $!'));
    expect(r).toMatchObject({ stdout: 'got TERM\n', status: 5 });
  });

  test('Python signal.sigwait and signal.sigtimedwait', () => {
    const py = [
      'import os, signal',
      'signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})',
      'os.kill(os.getpid(), signal.SIGUSR1)',
      'print(signal.sigwait({signal.SIGUSR1}))',
      'print(signal.sigtimedwait({signal.SIGUSR1}, 0.05))',
      'os.kill(os.getpid(), signal.SIGUSR1)',
      'i = signal.sigtimedwait({signal.SIGUSR1}, 5)',
      'print(i.si_signo, i.si_code, i.si_pid == os.getpid())',
    ].join('\n');
    const r = same(`python3 -c '${py}'; echo status $?`);
    expect(r).toMatchObject({ stdout: '10\nNone\n10 0 True\nstatus 0\n', status: 0 });
  });
});
