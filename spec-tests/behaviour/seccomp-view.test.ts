/**
 * The seccomp view (seccomp-view.c): prctl(PR_GET_SECCOMP) and /proc/self/status's Seccomp
 * and Seccomp_filters lines, in a process and its forked child. Without linux.seccomp the
 * program prints what it prints natively, under runc, runsc and tvisor (mode 0, no filter);
 * with a linux.seccomp profile (getpgid denied with EACCES) tvisor prints what runc's
 * container prints: mode 2, one filter, in both processes. (Debian's 2022 runsc has no
 * Seccomp_filters line.)
 */
import { describeProgram, expectLines } from './compare';
import { programSkipReason, runtimeSkipReason, runUnder } from './runner';

describeProgram({
  program: 'seccomp-view',
  runscDeviations: [
    ['parent: Seccomp_filters 0', 'parent: Seccomp_filters (no line)'],
    ['child: Seccomp_filters 0', 'child: Seccomp_filters (no line)'],
  ],
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'parent: PR_GET_SECCOMP 0', 'parent: Seccomp 0', 'parent: Seccomp_filters 0', 'parent: getpgid(0) ok',
      'child: PR_GET_SECCOMP 0', 'child: Seccomp 0', 'child: Seccomp_filters 0', 'child: getpgid(0) ok', 'child exit 0',
    ]);
  },
});

/** withProfile adds a linux.seccomp profile that denies getpgid with EACCES. */
function withProfile(spec: any): void {
  spec.linux.seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: ['getpgid'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
  };
}

describe('seccomp-view with linux.seccomp', () => {
  test('prerequisites', () => {
    expect([runtimeSkipReason('runc'), runtimeSkipReason('tvisor'), programSkipReason('seccomp-view')].filter(Boolean)).toEqual([]);
  });

  test('tvisor shows mode 2 and one filter, as runc does', () => {
    const runc = runUnder('runc', 'seccomp-view', [], { editSpec: withProfile });
    expect(runc.status).toBe(0);
    expectLines(runc.stdout, [
      'parent: PR_GET_SECCOMP 2', 'parent: Seccomp 2', 'parent: Seccomp_filters 1', 'parent: getpgid(0) EACCES',
      'child: PR_GET_SECCOMP 2', 'child: Seccomp 2', 'child: Seccomp_filters 1', 'child: getpgid(0) EACCES', 'child exit 0',
    ]);
    const tvisor = runUnder('tvisor', 'seccomp-view', [], { editSpec: withProfile });
    expect({ stdout: tvisor.stdout, status: tvisor.status }).toEqual({ stdout: runc.stdout, status: 0 });
  });
});
