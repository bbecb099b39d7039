/**
 * ioprio_set/ioprio_get, what ionice(1) calls: the default, values set and read back, the
 * refusals, inheritance at fork, the process group's best value, and an unprivileged
 * caller's limits; compared natively, under runc, runsc and tvisor. The container's root
 * gets CAP_SETUID and CAP_SETGID (to become uid 65534), not CAP_SYS_NICE.
 */
import type { RunResult } from './runner';
import { describeProgram, expectLines, withCapabilities } from './compare';

describeProgram({
  program: 'ioprio',
  runscUnsupported: 'Debian\'s gVisor (2022) answers every ioprio_set and ioprio_get with EPERM',
  options: { editSpec: withCapabilities(['CAP_SETUID', 'CAP_SETGID']) },
  expectNative: (r: RunResult) => {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'default: none 0',
      'set best-effort 3: 0, get: best-effort 3',
      'set idle: 0, get: idle 0',
      'set class 4: EINVAL',
      'set none with data 3: EINVAL',
      'get missing pid: -1 ESRCH',
      'child inherits: best-effort 5',
      'parent after the child\'s change: best-effort 5',
      'the child\'s, read by the parent: best-effort 1',
      'process group of both: best-effort 1',
      'process group after the child: best-effort 5',
      'as uid 65534: set realtime 0: EPERM',
      'as uid 65534: set root\'s process: EPERM',
      'as uid 65534: set own idle: 0, get: idle 0',
      'done',
    ]);
  },
});
