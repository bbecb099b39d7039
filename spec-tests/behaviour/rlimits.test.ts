/**
 * Resource limits (rlimits.c): NOFILE, FSIZE (SIGXFSZ, EFBIG), AS, DATA, STACK across
 * exec, and as uid 65534 NPROC and the nice rules, compared between a native run and
 * runc, runsc and tvisor (see compare.ts). The container gets CAP_SETUID and CAP_SETGID
 * (runc's default set lacks them) so that the program can drop to uid 65534 as it does
 * natively; nothing else it does depends on capabilities.
 */
import { describeProgram, expectLines } from './compare';
import { SCRATCH } from './runner';

/** withSetuid adds CAP_SETUID and CAP_SETGID to every capability set of the spec. */
function withSetuid(spec: { process: { capabilities?: Record<string, string[]> } }): void {
  const caps = spec.process.capabilities ?? {};
  for (const set of ['bounding', 'effective', 'permitted']) caps[set] = [...(caps[set] ?? []), 'CAP_SETUID', 'CAP_SETGID'];
  spec.process.capabilities = caps;
}

describeProgram({
  program: 'rlimits',
  args: [SCRATCH],
  options: { editSpec: withSetuid },
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'NOFILE 16: highest fd opened 15, then EMFILE',
      'dup2 to fd 16: -1 EBADF',
      'FSIZE 4096, ignored SIGXFSZ: write 4000: 4000',
      'write 200 more: 96 (short, up to the limit)',
      'write at the limit: -1 EFBIG',
      'pwrite past the limit: -1 EFBIG',
      'ftruncate past the limit: -1 EFBIG',
      'ftruncate within: 0',
      'with a handler: pwrite at the limit: -1 EFBIG, SIGXFSZ caught 1',
      'default action: child killed by SIGXFSZ, core bit 0',
      'AS 512 MiB: mmap 1 GiB: ENOMEM',
      'mmap 16 MiB: mapped',
      'sbrk 1 GiB: ENOMEM, break unchanged: yes',
      'DATA 64 MiB: private writable mmap 128 MiB: ENOMEM',
      'read-only mmap 128 MiB: mapped',
      'STACK set to 16 MiB: getrlimit 16 MiB',
      'exec\'d child sees STACK 16 MiB',
      '12 MiB deep on the stack: sum 12289',
      'exec\'d child exit: 0',
      '12 MiB deep under STACK 8 MiB: SIGSEGV',
      'as uid 65534: setpriority(10): 0, getpriority: 10',
      'raise nice to 15: 0',
      'lower nice to 5 (RLIMIT_NICE 0): -1 EACCES',
      'setpriority of root\'s process: -1 EPERM',
      'getpriority of no process: -1 ESRCH',
      'setpriority(which 7): -1 EINVAL',
      'forked child inherits nice: 15',
      'NPROC 1 as uid 65534: fork: EAGAIN',
      'unprivileged child exit: 0',
      'done',
    ]);
  },
  // gVisor: dup2 beyond NOFILE is EMFILE, RLIMIT_DATA, RLIMIT_NICE, NPROC and the
  // other-user rule of setpriority are not enforced.
  runscDeviations: [
    ['dup2 to fd 16: -1 EBADF', 'dup2 to fd 16: -1 EMFILE'],
    // gVisor 2022 has no copy_file_range and no fallocate KEEP_SIZE on its tmpfs.
    ['copy_file_range of 4000 at 2000: 2096 (short, up to the limit)', 'copy_file_range of 4000 at 2000: -1 (short, up to the limit)'],
    ['copy_file_range at the limit: -1 EFBIG', 'copy_file_range at the limit: -1 ENOSYS'],
    ['fallocate KEEP_SIZE past the limit: 0 0', 'fallocate KEEP_SIZE past the limit: -1 EOPNOTSUPP'],
    ['DATA 64 MiB: private writable mmap 128 MiB: ENOMEM', 'DATA 64 MiB: private writable mmap 128 MiB: mapped'],
    ['lower nice to 5 (RLIMIT_NICE 0): -1 EACCES', 'lower nice to 5 (RLIMIT_NICE 0): 0 0'],
    ["setpriority of root's process: -1 EPERM", "setpriority of root's process: 0 0"],
    ['forked child inherits nice: 15', 'forked child inherits nice: 5'],
    ['NPROC 1 as uid 65534: fork: EAGAIN', 'NPROC 1 as uid 65534: fork: forked'],
  ],
});
