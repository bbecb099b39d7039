/**
 * Real, effective and saved user and group ids (ids.c): setreuid and setregid made raw,
 * read back with getresuid/getresgid, with and without CAP_SETUID/CAP_SETGID, and
 * setdomainname refused to an unprivileged caller; compared between a native run and
 * runc, runsc and tvisor. The container's root gets CAP_SETUID and CAP_SETGID.
 */
import { describeProgram, expectLines, withCapabilities } from './compare';

describeProgram({
  program: 'ids',
  options: { editSpec: withCapabilities(['CAP_SETUID', 'CAP_SETGID']) },
  // gVisor (Debian's 2022 runsc) does not move the saved id with the effective one
  // when setreuid/setregid set the real id or move the effective one away from it.
  runscDeviations: [
    ['setregid(-1, 0): ok; uids 0 0 0, gids 0 0 1000', 'setregid(-1, 0): ok; uids 0 0 0, gids 0 0 0'],
    ['setreuid(-1, 0): ok; uids 0 0 1000, gids 2000 3000 3000', 'setreuid(-1, 0): ok; uids 0 0 0, gids 2000 3000 3000'],
    ['setregid(-1, 2000): the real gid: ok; uids 2000 2000 2000, gids 2000 2000 3000', 'setregid(-1, 2000): the real gid: ok; uids 2000 2000 2000, gids 2000 2000 2000'],
    ['setregid(3000, -1): the saved gid cannot become the real one: EPERM; uids 2000 2000 2000, gids 2000 2000 3000', 'setregid(3000, -1): the saved gid cannot become the real one: EPERM; uids 2000 2000 2000, gids 2000 2000 2000'],
    ['setreuid(-1, 1000) then: ok; uids 1000 1000 0, gids 0 0 0', 'setreuid(-1, 1000) then: ok; uids 1000 1000 1000, gids 0 0 0'],
  ],
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'getresuid: ok',
      'getresuid with a bad pointer: EFAULT',
      'getresgid with a bad pointer: EFAULT',
      'start: ok; uids 0 0 0, gids 0 0 0',
      'setregid(-1, 1000): ok; uids 0 0 0, gids 0 1000 1000',
      'setregid(-1, 0): ok; uids 0 0 0, gids 0 0 1000',
      'setregid(2000, 3000): ok; uids 0 0 0, gids 2000 3000 3000',
      'setregid(-1, -1): ok; uids 0 0 0, gids 2000 3000 3000',
      'setreuid(-1, 1000): ok; uids 0 1000 1000, gids 2000 3000 3000',
      'setreuid(-1, 0): ok; uids 0 0 1000, gids 2000 3000 3000',
      'setreuid(1000, 2000): ok; uids 1000 2000 2000, gids 2000 3000 3000',
      'setreuid(-1, 0) without CAP_SETUID: EPERM; uids 1000 2000 2000, gids 2000 3000 3000',
      'setreuid(0, -1) without CAP_SETUID: EPERM; uids 1000 2000 2000, gids 2000 3000 3000',
      'setreuid(2000, -1): real to the effective id: ok; uids 2000 2000 2000, gids 2000 3000 3000',
      'setreuid(-1, 1000) after the saved id moved: EPERM; uids 2000 2000 2000, gids 2000 3000 3000',
      'setregid(0, -1) without CAP_SETGID: EPERM; uids 2000 2000 2000, gids 2000 3000 3000',
      'setregid(-1, 2000): the real gid: ok; uids 2000 2000 2000, gids 2000 2000 3000',
      'setregid(3000, -1): the saved gid cannot become the real one: EPERM; uids 2000 2000 2000, gids 2000 2000 3000',
      'setregid(2000, 2000) after the saved gid moved: ok; uids 2000 2000 2000, gids 2000 2000 2000',
      'real 1000, effective 0: ok; uids 1000 0 0, gids 0 0 0',
      'setreuid(0, 1000): swap: ok; uids 0 1000 1000, gids 0 0 0',
      'setreuid(1000, 0): swap back: ok; uids 1000 0 0, gids 0 0 0',
      'setreuid(-1, 1000) then: ok; uids 1000 1000 0, gids 0 0 0',
      'nobody: setdomainname: EPERM',
      'nobody: setdomainname of 65 bytes: EPERM',
      'domainname unchanged: yes',
      'done',
    ]);
  },
});
