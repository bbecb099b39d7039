/*
 * userns.c: ids in a user namespace with the mappings 0 -> 100000 (65536 ids) for uids
 * and gids, as spec-tests/oci/userns.test.ts runs it under runc and tvisor (not natively:
 * the host has no such mappings). argv[1] is a bind-mounted directory owned by the
 * mapped root holding "hostroot", a file of host root; argv[2] is a file in a tmpfs.
 * Prints the ids, the owners that stat shows (a host root file reads as the overflow id
 * 65534), and the errors of chown, setgroups and set*id to an id outside the mappings
 * (EINVAL) and inside them.
 */
#include "common.h"
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define UNMAPPED 70000

static void owner(const char *what, const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) say("stat %s: %s", what, errname(errno));
  else say("stat %s: uid %u gid %u", what, (unsigned)st.st_uid, (unsigned)st.st_gid);
}

static void ids(const char *when) {
  uid_t r, e, s;
  gid_t gr, ge, gs;
  getresuid(&r, &e, &s);
  getresgid(&gr, &ge, &gs);
  say("%s: uids %u %u %u gids %u %u %u", when, r, e, s, gr, ge, gs);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    say("FAIL usage: userns DIR TMPFSFILE");
    return 1;
  }
  char made[512], hostroot[512];
  snprintf(made, sizeof(made), "%s/made", argv[1]);
  snprintf(hostroot, sizeof(hostroot), "%s/hostroot", argv[1]);
  ids("start");

  int fd = open(made, O_WRONLY | O_CREAT | O_EXCL, 0644);
  say("create in the bind mount: %s", fd < 0 ? errname(errno) : "ok");
  if (fd >= 0) close(fd);
  owner("made", made);
  owner("hostroot", hostroot);
  owner("/prog (the rootfs, host root's)", "/prog");
  say("chown made 1000:1000: %s", result(chown(made, 1000, 1000)));
  owner("made", made);
  say("chown made to an unmapped uid: %s", result(chown(made, UNMAPPED, -1)));
  say("chown made to an unmapped gid: %s", result(chown(made, -1, UNMAPPED)));
  say("chown a missing file to an unmapped uid: %s", result(chown("/nonexistent", UNMAPPED, -1)));

  fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, 0644);
  say("create in the tmpfs: %s", fd < 0 ? errname(errno) : "ok");
  if (fd >= 0) close(fd);
  owner("tmpfs file", argv[2]);
  say("fchownat tmpfs file to an unmapped uid: %s", result(fchownat(AT_FDCWD, argv[2], UNMAPPED, -1, 0)));
  say("chown tmpfs file 2000:2000: %s", result(chown(argv[2], 2000, 2000)));
  owner("tmpfs file", argv[2]);

  gid_t unmapped[] = {1000, UNMAPPED}, mapped[] = {1000, 2000};
  say("setgroups with an unmapped gid: %s", result(syscall(SYS_setgroups, 2, unmapped)));
  say("setgroups with mapped gids: %s", result(syscall(SYS_setgroups, 2, mapped)));
  say("setgid unmapped: %s", result(syscall(SYS_setgid, UNMAPPED)));
  say("setregid unmapped real: %s", result(syscall(SYS_setregid, UNMAPPED, -1)));
  say("setresgid unmapped saved: %s", result(syscall(SYS_setresgid, -1, -1, UNMAPPED)));
  say("setresuid unmapped effective: %s", result(syscall(SYS_setresuid, -1, UNMAPPED, -1)));
  say("setreuid unmapped effective: %s", result(syscall(SYS_setreuid, -1, UNMAPPED)));
  say("setuid unmapped: %s", result(syscall(SYS_setuid, UNMAPPED)));
  ids("after the refusals");
  say("setgid 1000: %s", result(syscall(SYS_setgid, 1000)));
  say("setuid 1000: %s", result(syscall(SYS_setuid, 1000)));
  ids("end");
  /* Without CAP_SETUID an unmapped id is still EINVAL, not EPERM: the check comes first. */
  say("setuid unmapped without CAP_SETUID: %s", result(syscall(SYS_setuid, UNMAPPED)));
  say("setuid 0 without CAP_SETUID: %s", result(syscall(SYS_setuid, 0)));
  return 0;
}
