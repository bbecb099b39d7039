/**
 * System V semaphores: a mutex between two processes, SEM_UNDO at exit, semtimedop's
 * timeout, IPC_NOWAIT, EINTR despite SA_RESTART, GETNCNT/GETZCNT of a waiter, EIDRM on
 * removal, semctl's values and errors; compared natively, under runc and under tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'sysv-sem',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'set: nsems 2 mode 600 otime 0, values 0 0',
      'GETPID after SETVAL is me: yes',
      'mutex: child status 0, counter 600, value 1',
      'child: values 0 5',
      'after the child\'s exit: values 1 0, last operator the child yes',
      'IPC_NOWAIT: EAGAIN',
      'semtimedop 50 ms: EAGAIN',
      'semop interrupted by a SA_RESTART handler: EINTR',
      'semtimedop interrupted: EINTR',
      'GETZCNT with the child waiting: 1, GETNCNT 0',
      'child: wait for zero returned 0, value 0',
      'GETZCNT after: 0',
      'two ops, the second would wait: EAGAIN, values 0 0',
      'GETALL after SETALL: 3 4; two ops now: 0, values 5 3',
      'sem_num out of range: EFBIG',
      'SETVAL 40000: ERANGE',
      'value past SEMVMX: ERANGE',
      'nsops 0: EINVAL',
      'semop through its own syscall: 0, value 6',
      'semget of 0 semaphores: EINVAL',
      'GETVAL of semaphore 5: EINVAL',
      'GETNCNT with the child waiting: 1',
      'child: semop when the set is removed: EIDRM',
      'after IPC_RMID: GETVAL EINVAL',
      'IPC_INFO: semmsl 32000 semmns 1024000000 semopm 500 semmni 32000 semvmx 32767',
      'done',
    ]);
  },
  // gVisor 2022 applies no SEM_UNDO at exit and answers ERANGE for a semaphore number out of range.
  runscDeviations: [
    ["after the child's exit: values 1 0, last operator the child yes", "after the child's exit: values 0 5, last operator the child no"],
    ['GETVAL of semaphore 5: EINVAL', 'GETVAL of semaphore 5: ERANGE'],
  ],
});
