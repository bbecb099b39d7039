/**
 * /proc/<pid>/status's Cpus_allowed, Cpus_allowed_list, Mems_allowed and Mems_allowed_list
 * follow the task's affinity (sched_setaffinity, by the task itself or by its parent;
 * inherited by fork), in Linux's place (before the context switch counts) and format (a
 * mask nr_cpu_ids wide, a list; node 0 in a MAX_NUMNODES-wide mask). tvisor had none of
 * them. Compared between a native run and runc, runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'affinity-status',
  title: 'Cpus_allowed and Mems_allowed in /proc/<pid>/status follow the affinity',
  runscUnsupported: 'gVisor 2022\'s /proc/<pid>/status has no Cpus_allowed lines and a one-digit Mems_allowed, which ends the program',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'CPU 0: Cpus_allowed:\t1',
      'CPU 0: Cpus_allowed_list:\t0',
      'CPU 0: Mems_allowed_list:\t0',
      'CPU 0: then voluntary_ctxt_switches',
      'child (inherited): Cpus_allowed:\t1',
      'child (inherited): Cpus_allowed_list:\t0',
      'parent: Cpus_allowed:\t1',
      'parent: Cpus_allowed_list:\t0',
    ]);
  },
});
