/**
 * IPC namespace teardown (programs/ipcns.c): a namespace made by unshare(CLONE_NEWIPC)
 * keeps its System V objects and POSIX queues while a task is in it or an open
 * /proc/<pid>/ns/ipc file names it (setns through the file finds them), and destroys them
 * with its last user, as Linux's free_ipc_ns: a segment still attached stays until
 * detached; 100 namespaces that each leave 4 MiB of shared memory, a message queue, a
 * semaphore set and a POSIX queue behind run within a 160 MiB memory limit (400 MiB would
 * leak without the teardown: the OOM killer would take a child). Compared natively (as
 * root), under runc and under tvisor; the container gets CAP_SYS_ADMIN for unshare/setns.
 */
import { describeProgram, expectLines, withCapabilities } from './compare';

const MEMORY_LIMIT = 160 * 2 ** 20;

describeProgram({
  program: 'ipcns',
  options: {
    editSpec: (spec) => {
      withCapabilities(['CAP_SYS_ADMIN'])(spec);
      spec.linux.resources = { ...(spec.linux.resources ?? {}), memory: { limit: MEMORY_LIMIT } };
    },
    timeoutMs: 120_000,
  },
  runscUnsupported: 'gVisor 2022 has no /proc/<pid>/ns/ipc to hold a namespace by',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      "the namespace's only task exited: exit 0",
      'setns through the open ns file: ok',
      '  its segment: ok',
      '  holding: kept',
      '  its message queue: ok',
      '  message of 8192 bytes',
      '  its semaphore set: ok',
      '  its POSIX queue: ok',
      '  message of 4096 bytes',
      'this namespace never had them: shmget ENOENT, mq_open ENOENT',
      'unshare(CLONE_NEWIPC) again: ok',
      '  the attached segment still reads: attached',
      '  and takes writes: written',
      '  its id in the new namespace: EINVAL',
      '  shmdt: ok',
      'child: exit 0',
      '100 namespaces each left 4 MiB, a queue, a set and a POSIX queue: 100 children exited 0',
      'done',
    ]);
  },
});
