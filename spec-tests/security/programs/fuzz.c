/*
 * fuzz: random system calls with hostile arguments, for the sandbox's kernel only.
 *
 * Usage: fuzz SEED ROUNDS CALLS [FIRST [LIMIT [list]]]. Each round forks a child that makes CALLS system calls
 * of random numbers (0-459) with arguments drawn from values that break handlers: 0, -1,
 * small descriptors, pointers into a 64 KiB buffer of random bytes that ends at an
 * unmapped page (strings and structures that run off it), kernel addresses, huge sizes,
 * single bits, random words. The child's output goes to /dev/null; the parent kills a
 * child that has not ended after 5 s (it may have blocked every signal and then slept),
 * and prints one line at the end. The sequence depends on SEED alone.
 *
 * Replaying a finding: FIRST (default 0) is the first round's number, so that
 * `fuzz 9 1 300 75` replays round 75 of seed 9 alone; LIMIT (default CALLS) stops each
 * child before its call number LIMIT (numbers count the draws, left-out ones included),
 * to bisect a round; `list` makes each child print, before it makes them, the calls it
 * will make ("round R call I: NR A0 A1 A2 A3 A4 A5", hexadecimal, with its buffer's
 * address) on the container's stdout.
 *
 * Rounds share the sandbox, and one can take /dev/null away from the next: the
 * container's root owns /dev/null, so a child's fchmod(0, 01) succeeds, and without
 * CAP_DAC_OVERRIDE (runc's default set) root may then no longer open it, as on Linux.
 * Seed 9 showed it: round 118's fchmod(0, 01) made the open of /dev/null fail in every
 * later child, which kept the container's stdio on fds 0-2, and round 123's
 * write(2, buf, 1) put one random byte (0xcb) on the container's stderr (seed 10 on
 * systrap: an ftruncate(2, 3836) of a stderr that was a file). So the parent opens
 * /dev/null once, before the first round, and gives it its first mode back before each
 * round; a child that still cannot open /dev/null (it was renamed, say) uses the
 * parent's descriptor (a mode change does not touch an open descriptor), and a child
 * that cannot put /dev/null on fds 0-3 ends before its first call.
 *
 * Left out: what would end the fuzzer itself rather than test the kernel (exit, the
 * signal senders, fork/clone/vfork/exec, rt_sigreturn, pause, vhangup, reboot), and what
 * reaches the parent through its pid (ptrace, process_vm_writev, pidfd_getfd, prlimit64).
 *
 * It refuses to run unless it is pid 1 (a container's init): natively, as root, random
 * calls change the host (its hostname, for one).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUF 65536

static uint64_t state;

static uint64_t rnd(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

static char *buf;

/* null is the parent's descriptor of /dev/null, opened before the first round, and
 * null_mode the mode /dev/null had then. */
static int null;
static mode_t null_mode;

static uint64_t arg(void) {
  switch (rnd() % 12) {
  case 0: return 0;
  case 1: return (uint64_t)-1;
  case 2: return rnd() % 8;
  case 3: return (uint64_t)(buf + rnd() % BUF);
  case 4: return (uint64_t)buf;
  case 5: return 0xffff800000000000ull + rnd() % 4096;
  case 6: return rnd() % 4096 + 1;
  case 7: return 0x7fffffff;
  case 8: return 1ull << (rnd() % 64);
  case 9: return rnd();
  case 10: return (uint64_t)(buf + BUF - rnd() % 16);
  default: return rnd() % 65536;
  }
}

static int left_out(long nr) {
  switch (nr) {
  case SYS_exit: case SYS_exit_group: case SYS_kill: case SYS_tkill: case SYS_tgkill:
  case SYS_rt_sigqueueinfo: case SYS_rt_tgsigqueueinfo: case 424 /* pidfd_send_signal */:
  case SYS_clone: case SYS_fork: case SYS_vfork: case 435 /* clone3 */: case SYS_execve:
  case SYS_execveat: case SYS_rt_sigreturn: case SYS_pause: case SYS_vhangup: case SYS_reboot:
  case SYS_ptrace: case SYS_process_vm_writev: case 438 /* pidfd_getfd */: case SYS_prlimit64:
    return 1;
  }
  return 0;
}

static void child(uint64_t seed, int calls, int round, int limit, int list) {
  state = seed;
  buf = mmap(0, BUF + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buf == MAP_FAILED) _exit(100);
  munmap(buf + BUF, 4096);
  for (int i = 0; i < BUF; i++) buf[i] = (char)rnd();
  if (list) {
    uint64_t saved = state;
    dprintf(1, "round %d buffer: %p-%p\n", round, (void *)buf, (void *)(buf + BUF));
    for (int i = 0; i < calls && i < limit; i++) {
      long nr = (long)(rnd() % 460);
      if (left_out(nr)) continue;
      uint64_t a[6];
      for (int k = 0; k < 6; k++) a[k] = arg();
      dprintf(1, "round %d call %d: %ld %lx %lx %lx %lx %lx %lx\n", round, i, nr,
              a[0], a[1], a[2], a[3], a[4], a[5]);
    }
    state = saved;
  }
  int fd = open("/dev/null", O_RDWR);
  if (fd < 0) fd = null;
  for (int k = 0; k <= 3; k++)
    if (k != fd && dup2(fd, k) != k) _exit(101);
  if (fd > 3) close(fd);
  alarm(3);
  for (int i = 0; i < calls && i < limit; i++) {
    long nr = (long)(rnd() % 460);
    if (left_out(nr)) continue;
    uint64_t a[6];
    for (int k = 0; k < 6; k++) a[k] = arg();
    syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  }
  _exit(0);
}

/* number tells whether an argument is a number (decimal, or 0x hexadecimal). */
static int number(const char *s) {
  char *end;
  strtoull(s, &end, 0);
  return *s != 0 && *end == 0;
}

int main(int argc, char **argv) {
  if (getpid() != 1) {
    fprintf(stderr, "fuzz: not pid 1: it runs only as a sandbox's init\n");
    return 2;
  }
  int bad = argc < 4 || argc > 7 || (argc == 7 && strcmp(argv[6], "list") != 0);
  for (int k = 1; k < argc && k < 6 && !bad; k++) bad = !number(argv[k]);
  if (bad) {
    fprintf(stderr, "usage: fuzz SEED ROUNDS CALLS [FIRST [LIMIT [list]]]\n");
    return 2;
  }
  uint64_t seed = strtoull(argv[1], 0, 0);
  int rounds = atoi(argv[2]), calls = atoi(argv[3]);
  int first = argc > 4 ? atoi(argv[4]) : 0, limit = argc > 5 ? atoi(argv[5]) : calls;
  int list = argc > 6;
  struct stat st;
  null = open("/dev/null", O_RDWR);
  if (null < 0 || fstat(null, &st) < 0) {
    perror("fuzz: /dev/null");
    return 2;
  }
  null_mode = st.st_mode & 07777;
  int ended = 0, killed = 0, unforked = 0;
  for (int r = first; r < first + rounds; r++) {
    fchmod(null, null_mode);
    pid_t p = fork();
    if (p < 0) {
      unforked++;
      continue;
    }
    if (p == 0) child(seed * 1000003 + (uint64_t)r + 1, calls, r, limit, list);
    int st, waited = 0;
    for (;;) {
      pid_t w = waitpid(p, &st, WNOHANG);
      if (w == p) break;
      if (w < 0) {
        printf("fuzz: waitpid: lost child %d\n", p);
        return 1;
      }
      if (++waited == 500) {
        kill(p, SIGKILL);
        killed++;
      }
      usleep(10000);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ended++;
  }
  printf("fuzz done: %d rounds, %d ended by a signal or a status, %d killed after 5 s, %d forks failed\n", rounds, ended, killed, unforked);
  return 0;
}
