/**
 * System V shared memory: a segment attached by a parent and its child (inherited and
 * attached again), nattch, IPC_RMID with destroy-on-last-detach, read-only attachments,
 * SHM_RND/SHM_REMAP, the key rules and the /proc/self/maps name; compared natively,
 * under runc and under tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'sysv-shm',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'segment: size 10000 mode 600 nattch 0 key 0 cpid is me yes uid is me yes',
      'never attached: atime 0 dtime 0',
      'attached: page aligned yes, reads zero yes, nattch 1, lpid is me yes',
      'maps names it /SYSV00000000 (deleted): yes',
      'child: inherited reads "from the parent", its own reads "from the parent", nattch 3',
      'child: mprotect(PROT_WRITE) of the read-only attachment: EACCES',
      'child exit status 0; parent reads "from the child"; nattch 1',
      'after the child\'s execve: nattch 1',
      'after IPC_RMID: SHM_DEST yes, key 0, nattch 1, data "from the parent"',
      'shmat after IPC_RMID: attached',
      'IPC_STAT after the last detach: EINVAL',
      'shmdt of an address not attached: EINVAL',
      'shmget of a missing key: ENOENT',
      'again with IPC_EXCL: EEXIST',
      'again without: same id yes',
      'again asking more bytes: EINVAL',
      'size 0: EINVAL',
      'shmat of a bad id: EINVAL',
      'shmat unaligned: EINVAL',
      'shmat over a mapping: EINVAL',
      'SHM_RND|SHM_REMAP: at the rounded address yes',
      'SHM_REMAP without an address: EINVAL',
      'after munmap: nattch 0',
      'after IPC_SET: mode 604',
      'after SHM_LOCK: SHM_LOCKED yes',
      'unknown command: EINVAL',
      'removed key: ENOENT',
      'IPC_INFO: shmmin 1 shmmni 4096 shmmax 18446744073692774399 shmall 18446744073692774399',
      'done',
    ]);
  },
  runscUnsupported: 'gVisor 2022 does not name the segment in /proc/self/maps, lets a read-only attachment become writable, ignores shmat\'s address checks and the program dies of SIGSEGV after SHM_RND',
});
