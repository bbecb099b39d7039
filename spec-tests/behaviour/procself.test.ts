/**
 * /proc/self's namespaces, limits, OOM adjustment, identity maps and personality
 * (procself.c), auxv, children and fdinfo's eventfd, signalfd and epoll lines, compared between a native run and runc, runsc and tvisor (see compare.ts).
 * The namespace inode numbers differ between runtimes; the program prints only what
 * Linux fixes: the type, that a child sees the same, and that stat() agrees with the link.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'procself',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'ns cgroup: type cgroup, same in child: yes, stat gives its inode: yes',
      'ns pid_for_children: type pid, same in child: yes, stat gives its inode: yes',
      'ns uts: type uts, same in child: yes, stat gives its inode: yes',
      'Limit                     Soft Limit           Hard Limit           Units     ',
      'Max open files            64                   128                  files     ',
      'Max core file size        0                    unlimited            bytes     ',
      'Max msgqueue size         4096                 8192                 bytes     ',
      'oom_score_adj 300: ok',
      'oom_adj reads 5',
      'oom_score_adj -1 (below the floor, 0): EACCES',
      'oom_score_adj 1001: EINVAL',
      'oom_score_adj abc: EINVAL',
      'oom_score_adj reads 50',
      'oom_score_adj reads 1000',
      'oom_adj 3 (below the current value): EACCES',
      'forked child\'s oom_score_adj 200',
      'uid_map:          0          0 4294967295',
      'setgroups: allow',
      'after personality(ADDR_NO_RANDOMIZE): 00040000',
      'statm fields: 7',
      'auxv AT_PHDR matches getauxval: yes, AT_PAGESZ 4096',
      'task children lists the child: yes',
      'eventfd-count:                8',
      'sigmask:\t0000000000004200',
      'done',
    ]);
  },
  runscUnsupported: 'the 2022 runsc has no /proc/self/limits, oom_adj, setgroups or personality, only the net, pid and user namespace links (each different in a child), and no oom_score_adj floor',
});
