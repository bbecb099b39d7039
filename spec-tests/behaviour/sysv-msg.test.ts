/**
 * System V message queues: receive order by type (0, positive, negative, MSG_EXCEPT),
 * E2BIG and MSG_NOERROR, a full queue, blocked senders and receivers, EINTR despite
 * SA_RESTART, EIDRM on removal, IPC_SET of msg_qbytes; compared natively, under runc and
 * under tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'sysv-msg',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'queue: qnum 4 cbytes 8 qbytes 16384 mode 600 lspid is me yes lrpid 0',
      'type 2: type 2 "c2" (2 bytes)',
      'type -2: type 1 "b1" (2 bytes)',
      'not type 1: type 3 "a3" (2 bytes)',
      'type 0: type 1 "d1" (2 bytes)',
      'empty: ENOMSG',
      'queue: qnum 0 cbytes 0 lrpid is me yes',
      '20 bytes into 10: E2BIG',
      'with MSG_NOERROR: type 7 "0123456789" (10 bytes)',
      'the rest was dropped: ENOMSG',
      'type 0: EINVAL',
      '8193 bytes: EINVAL',
      '8192-byte messages until full: 2, then EAGAIN',
      'child: blocked send returned 0',
      'type 9: type 9 "late" (4 bytes)',
      'second big one: type 1 "zzzz" (4 bytes)',
      'child: received type 5 "five"',
      'left: type 4 "four" (4 bytes)',
      'msgrcv interrupted by a SA_RESTART handler: EINTR',
      'after IPC_SET: qbytes 100 mode 640',
      '101 bytes into 100: EAGAIN',
      'child: msgrcv when the queue is removed: EIDRM',
      'after IPC_RMID: EINVAL',
      'msgget of a missing key: ENOENT',
      'again with IPC_EXCL: EEXIST, without: same id yes',
      'IPC_INFO: msgmax 8192 msgmnb 16384 msgmni 32000',
      'done',
    ]);
  },
  runscUnsupported: 'gVisor 2022 takes one 8192-byte message into a 16384-byte queue, and the blocked sender then never wakes (the run hangs)',
});
