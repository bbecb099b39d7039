/**
 * POSIX shared memory and memfds: /dev/shm mounted as tmpfs, shm_open + MAP_SHARED
 * between a parent and a child (and coherent with read()/write()), a named semaphore,
 * memfd_create with its /proc/self/fd link and seals, and a sparse 1 GiB tmpfs file
 * that stores nothing until written; compared natively, under runc, runsc and tvisor.
 */
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'shm',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      '/dev/shm: directory yes, mode 1777',
      '/dev/shm in /proc/mounts as tmpfs: yes',
      'child exit status 0',
      'parent\'s mapping: "hello from the child\'s own mapping" / "and through the inherited one" / "pwritten"',
      'read(): "hello from the child\'s own mapping"',
      'write() seen through the mapping: "written by write()"',
      'private copy: reads "Xello", file keeps \'h\'',
      'after shrinking to 4106 bytes: byte 4196 reads 0, byte 5 reads \'h\'',
      'size 4106',
      'mprotect(PROT_WRITE) of a shared mapping of a read-only descriptor: EACCES',
      'mmap(PROT_WRITE, MAP_SHARED) of a read-only descriptor: EACCES',
      'the same after mremap: EACCES',
      'second page after shrinking to 10 bytes: SIGBUS BUS_ADRERR',
      'second page after growing again: reads 0',
      'shm_open after shm_unlink: ENOENT',
      'semaphore child exit status 0',
      'value after the child\'s two posts: 2',
      'sem_trywait on zero: EAGAIN',
      'memfd close-on-exec: yes',
      'memfd through the mapping: "memfd data"',
      'memfd read() after a store: "MEMFD data"',
      'fd link: /memfd:tvisor-test (deleted)',
      'memfd mode 100777 size 10',
      'seals: 0',
      'seals: 6',
      'shrink when sealed: EPERM',
      'grow when sealed: EPERM',
      'write inside when sealed: 1',
      'F_SEAL_WRITE while mapped writable: EBUSY',
      'write when write-sealed: EPERM',
      'shared writable mmap when write-sealed: EPERM',
      'adding a seal after F_SEAL_SEAL: EPERM',
      'memfd without MFD_ALLOW_SEALING: seals 1, F_ADD_SEALS EPERM',
      'memfd close-on-exec without MFD_CLOEXEC: no',
      'memfd_create with an unknown flag: EINVAL',
      '1 GiB sparse file: size 1073741824, blocks 0',
      'after one byte written: blocks 8',
      'a hole reads 0',
      'through a 1 GiB mapping: \'x\' at 512 MiB, 0 at 900 MiB',
      'after reading a hole through the mapping: blocks > 8: yes',
      'through a 1 GiB private mapping: \'x\' at 512 MiB, 0 at 700 MiB',
      'done',
    ]);
  },
  // gVisor 2022 sends SIGBUS past a file's end with another si_code, and its tmpfs
  // reports a file's length as its blocks (not sparse in st_blocks).
  runscDeviations: [
    ['second page after shrinking to 10 bytes: SIGBUS BUS_ADRERR', 'second page after shrinking to 10 bytes: SIGBUS other code'],
    ['1 GiB sparse file: size 1073741824, blocks 0', '1 GiB sparse file: size 1073741824, blocks 2097152'],
    ['after one byte written: blocks 8', 'after one byte written: blocks 2097152'],
  ],
});
