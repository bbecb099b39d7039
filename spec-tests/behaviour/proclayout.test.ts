/**
 * Where exec put a process, as /proc/<pid>/stat (start_code, end_code, start_stack,
 * start_data, end_data, start_brk, the argument and environment ranges), status (VmExe,
 * VmLib, VmPin, HugetlbPages, CoreDumping) and statm (text) show it, checked by the
 * process against its own addresses (proclayout.c), and hidden from a reader without
 * ptrace access; compared between a native run and runc, runsc and tvisor (compare.ts).
 */
import { describeProgram, expectLines, withCapabilities } from './compare';

describeProgram({
  program: 'proclayout',
  // The child drops to uid 65534 (runc's default set lacks CAP_SETUID and CAP_SETGID).
  options: { editSpec: withCapabilities(['CAP_SETUID', 'CAP_SETGID']) },
  // gVisor's /proc/<pid>/stat has zeros for the layout, and its status no VmExe, VmPin,
  // HugetlbPages or CoreDumping (its VmLib is not the vDSO's size either).
  runscDeviations: [
    ['main within startcode..endcode: yes', 'main within startcode..endcode: no'],
    ['initialized global within start_data..end_data: yes', 'initialized global within start_data..end_data: no'],
    ['start_brk at or below sbrk(0): yes', 'start_brk at or below sbrk(0): no'],
    ['argv[0] at arg_start: yes, arguments end at arg_end: yes', 'argv[0] at arg_start: no, arguments end at arg_end: no'],
    ['environ[0] at env_start: yes, env_end beyond it: yes', 'environ[0] at env_start: no, env_end beyond it: no'],
    ['startstack between main\'s frame and arg_start: yes', 'startstack between main\'s frame and arg_start: no'],
    ['VmExe is startcode..endcode in pages: yes', 'VmExe is startcode..endcode in pages: no'],
    ['VmLib is the vDSO\'s size: yes', 'VmLib is the vDSO\'s size: no'],
    ['VmPin 0, HugetlbPages 0', 'VmPin -1, HugetlbPages -1'],
    ['CoreDumping: 0', 'CoreDumping: absent'],
    ['statm text is VmExe in pages: yes', 'statm text is VmExe in pages: no'],
    ['as 65534: startcode 1 endcode 1 startstack 0, data..env 0 0 0 0 0 0 0', 'as 65534: startcode 0 endcode 0 startstack 0, data..env 0 0 0 0 0 0 0'],
  ],
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'main within startcode..endcode: yes',
      'initialized global within start_data..end_data: yes',
      'start_brk at or below sbrk(0): yes',
      'argv[0] at arg_start: yes, arguments end at arg_end: yes',
      'environ[0] at env_start: yes, env_end beyond it: yes',
      'startstack between main\'s frame and arg_start: yes',
      'VmExe is startcode..endcode in pages: yes',
      'VmLib is the vDSO\'s size: yes',
      'VmPin 0, HugetlbPages 0',
      'CoreDumping: 0',
      'statm text is VmExe in pages: yes',
      'a child with the same ids reads the parent\'s layout: yes',
      'as 65534: startcode 1 endcode 1 startstack 0, data..env 0 0 0 0 0 0 0',
      'done',
    ]);
  },
});
