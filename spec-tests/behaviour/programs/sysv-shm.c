/*
 * sysv-shm: System V shared memory between a parent and a child (shmget, shmat, shmdt,
 * shmctl): an attachment inherited by fork and a second one in the child, nattch as
 * attachments come and go, IPC_RMID with destroy-on-last-detach, read-only attachments,
 * SHM_RND/SHM_REMAP, the key rules (IPC_CREAT, IPC_EXCL, ENOENT, EEXIST, EINVAL) and the
 * /proc/self/maps name.
 */
#include "common.h"
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

static struct shmid_ds stat_of(int id) {
  struct shmid_ds ds;
  check(shmctl(id, IPC_STAT, &ds) == 0, "IPC_STAT");
  return ds;
}

static int maps_has(const char *what) {
  char buf[65536];
  FILE *f = fopen("/proc/self/maps", "r");
  check(f != NULL, "open maps");
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = 0;
  return strstr(buf, what) != NULL;
}

int main(int argc, char **argv) {
  /* Run again by the child's execve: what is attached now (the parent's attachment only). */
  if (argc == 3 && strcmp(argv[1], "after-exec") == 0) {
    say("after the child's execve: nattch %lu", (unsigned long)stat_of(atoi(argv[2])).shm_nattch);
    return 0;
  }
  int id = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
  check(id >= 0, "shmget");
  struct shmid_ds ds = stat_of(id);
  say("segment: size %lu mode %o nattch %lu key %d cpid is me %s uid is me %s", (unsigned long)ds.shm_segsz,
      ds.shm_perm.mode, (unsigned long)ds.shm_nattch, ds.shm_perm.__key, ds.shm_cpid == getpid() ? "yes" : "no",
      ds.shm_perm.uid == geteuid() && ds.shm_perm.cuid == geteuid() ? "yes" : "no");
  say("never attached: atime %ld dtime %ld", (long)ds.shm_atime, (long)ds.shm_dtime);

  char *p = shmat(id, NULL, 0);
  check(p != (void *)-1, "shmat");
  say("attached: page aligned %s, reads zero %s, nattch %lu, lpid is me %s", ((unsigned long)p & 4095) == 0 ? "yes" : "no",
      p[0] == 0 && p[9999] == 0 ? "yes" : "no", (unsigned long)stat_of(id).shm_nattch, stat_of(id).shm_lpid == getpid() ? "yes" : "no");
  say("maps names it /SYSV00000000 (deleted): %s", maps_has("/SYSV00000000 (deleted)") ? "yes" : "no");
  strcpy(p, "from the parent");

  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    char *q = shmat(id, NULL, SHM_RDONLY);
    if (q == (void *)-1) fail("child shmat");
    say("child: inherited reads \"%s\", its own reads \"%s\", nattch %lu", p, q, (unsigned long)stat_of(id).shm_nattch);
    strcpy(p + 100, "from the child");
    say("child: mprotect(PROT_WRITE) of the read-only attachment: %s", mprotect(q, 4096, PROT_READ | PROT_WRITE) == 0 ? "0" : errname(errno));
    _exit(0);
  }
  int st;
  check(waitpid(c, &st, 0) == c, "waitpid");
  say("child exit status %d; parent reads \"%s\"; nattch %lu", WEXITSTATUS(st), p + 100, (unsigned long)stat_of(id).shm_nattch);

  /* execve drops the attachments fork gave the child. */
  c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    char num[16];
    snprintf(num, sizeof(num), "%d", id);
    execl("/proc/self/exe", "sysv-shm", "after-exec", num, (char *)NULL);
    fail("execl");
  }
  check(waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0, "exec child");

  /* IPC_RMID while attached: the segment lives on, keyed private, until the last detach. */
  check(shmctl(id, IPC_RMID, NULL) == 0, "IPC_RMID");
  ds = stat_of(id);
  say("after IPC_RMID: SHM_DEST %s, key %d, nattch %lu, data \"%s\"", ds.shm_perm.mode & SHM_DEST ? "yes" : "no", ds.shm_perm.__key,
      (unsigned long)ds.shm_nattch, p);
  char *again = shmat(id, NULL, 0);
  say("shmat after IPC_RMID: %s", again != (void *)-1 ? "attached" : errname(errno));
  if (again != (void *)-1) check(shmdt(again) == 0, "shmdt again");
  check(shmdt(p) == 0, "shmdt");
  struct shmid_ds gone;
  say("IPC_STAT after the last detach: %s", shmctl(id, IPC_STAT, &gone) == 0 ? "0" : errname(errno));
  say("shmdt of an address not attached: %s", shmdt(p) == 0 ? "0" : errname(errno));

  /* Keys: a key unlikely to be in use (the pid in it), removed at the end. */
  key_t key = (key_t)(0x5a000000 | getpid());
  say("shmget of a missing key: %s", shmget(key, 4096, 0600) >= 0 ? "0" : errname(errno));
  int kid = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0640);
  check(kid >= 0, "shmget IPC_CREAT|IPC_EXCL");
  say("again with IPC_EXCL: %s", shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0640) >= 0 ? "0" : errname(errno));
  say("again without: same id %s", shmget(key, 4096, 0) == kid ? "yes" : "no");
  say("again asking more bytes: %s", shmget(key, 8192, 0) >= 0 ? "0" : errname(errno));
  say("size 0: %s", shmget(IPC_PRIVATE, 0, 0600) >= 0 ? "0" : errname(errno));
  say("shmat of a bad id: %s", shmat(kid + 1, NULL, 0) != (void *)-1 ? "0" : errname(errno));

  /* Addresses: SHM_RND rounds down, an occupied range needs SHM_REMAP. */
  char *base = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(base != MAP_FAILED, "mmap");
  say("shmat unaligned: %s", shmat(kid, base + 5, 0) != (void *)-1 ? "0" : errname(errno));
  say("shmat over a mapping: %s", shmat(kid, base, 0) != (void *)-1 ? "0" : errname(errno));
  char *r = shmat(kid, base + 4096 + 5, SHM_RND | SHM_REMAP);
  say("SHM_RND|SHM_REMAP: at the rounded address %s", r == base + 4096 ? "yes" : "no");
  say("SHM_REMAP without an address: %s", shmat(kid, NULL, SHM_REMAP) != (void *)-1 ? "0" : errname(errno));
  r[0] = 'k';
  /* munmap of the attachment counts as a detach too. */
  check(munmap(r, 4096) == 0, "munmap");
  say("after munmap: nattch %lu", (unsigned long)stat_of(kid).shm_nattch);

  struct shmid_ds set = stat_of(kid);
  set.shm_perm.mode = 0604;
  check(shmctl(kid, IPC_SET, &set) == 0, "IPC_SET");
  say("after IPC_SET: mode %o", stat_of(kid).shm_perm.mode);
  check(shmctl(kid, SHM_LOCK, NULL) == 0, "SHM_LOCK");
  say("after SHM_LOCK: SHM_LOCKED %s", stat_of(kid).shm_perm.mode & SHM_LOCKED ? "yes" : "no");
  check(shmctl(kid, SHM_UNLOCK, NULL) == 0, "SHM_UNLOCK");
  say("unknown command: %s", shmctl(kid, 99, &set) == 0 ? "0" : errname(errno));
  check(shmctl(kid, IPC_RMID, NULL) == 0, "IPC_RMID key");
  say("removed key: %s", shmget(key, 4096, 0) >= 0 ? "0" : errname(errno));

  struct shminfo info;
  check(shmctl(0, IPC_INFO, (struct shmid_ds *)&info) >= 0, "IPC_INFO");
  say("IPC_INFO: shmmin %lu shmmni %lu shmmax %lu shmall %lu", info.shmmin, info.shmmni, info.shmmax, info.shmall);
  say("done");
  return 0;
}
