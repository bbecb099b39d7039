/**
 * Process behaviour: fork/exec/wait and pipes between processes, compared between a
 * native run and runc, runsc and tvisor (see compare.ts).
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'fork-exec-wait',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'script: AT_EXECFN is the script: yes, argv[2] is the script: yes',
      'script child: exit 0',
      'child 2: exit 2',
      'child 1: exit 1',
      'child 0: exit 3',
      'cow: child exit 0, parent still sees 1',
      'wnohang on a running child: 0',
      'killed child: signal KILL',
      'wait with no children: -1 ECHILD',
      'child sees parent as getppid: yes',
      'exec: arg 1 = one',
      'exec: arg 2 = two words',
      'exec: BEHAVIOUR_VAR = from-parent',
      'exec child: exit 42',
      'execve missing: -1 ENOENT',
      'exec: arg 1 = vforked',
      'vfork child: exit 42',
      'done',
    ]);
  },
});

describeProgram({
  program: 'pipes',
  expectNative(r) {
    expect(r.status).toBe(0);
    // The child upper-cases each line it is sent; 2*(1+2+3+4+5) = 30 through the pipeline.
    const sent = ['hello', 'pipe world', 'third line'];
    expectLines(r.stdout, [
      ...sent.map((w) => `sent '${w}', got '${w.toUpperCase()}'`),
      "after closing the write end, child's pipe gives: EOF",
      'pipeline: 5 lines, sum 30, statuses 0 0',
      'write to a pipe without readers (SIGPIPE ignored): -1 EPIPE',
      'writer without readers (SIGPIPE default): signal PIPE',
      `1 MiB through a pipe: ${1 << 20} bytes, 0 corrupt, writer exit 0`,
      'pipe2: cloexec yes, nonblock yes, access read-only',
      'empty nonblocking read: -1 EAGAIN',
      'done',
    ]);
  },
});
