/*
 * sched: scheduling policy (sched_setscheduler, sched_getscheduler, the priority ranges,
 * SCHED_RESET_ON_FORK, inheritance across fork), sched_yield, getcpu, personality and
 * memory locking (mlock, munlock, mlockall, munlockall), all made raw, with their error
 * answers; an unprivileged child (uid 65534, RLIMIT_RTPRIO, RLIMIT_NICE and
 * RLIMIT_MEMLOCK set to 0) shows the permission rules.
 *
 * The container's root gets CAP_SETUID, CAP_SETGID and CAP_IPC_LOCK (the test grants
 * them) so that it behaves as root does natively. Real-time policies are only ever
 * asked for by the unprivileged child, which must be refused.
 */
#include "common.h"
#include <grp.h>
#include <sched.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

static const char *policy_name(long p) {
  static char buf[64];
  const char *base;
  switch (p & ~SCHED_RESET_ON_FORK) {
    case SCHED_OTHER: base = "SCHED_OTHER"; break;
    case SCHED_FIFO: base = "SCHED_FIFO"; break;
    case SCHED_RR: base = "SCHED_RR"; break;
    case SCHED_BATCH: base = "SCHED_BATCH"; break;
    case SCHED_IDLE: base = "SCHED_IDLE"; break;
    default: base = "?"; break;
  }
  snprintf(buf, sizeof(buf), "%s%s", base, p & SCHED_RESET_ON_FORK ? "|SCHED_RESET_ON_FORK" : "");
  return buf;
}

/* getsched prints sched_getscheduler(pid)'s answer. */
static void getsched(const char *what, pid_t pid) {
  long r = syscall(SYS_sched_getscheduler, pid);
  say("sched_getscheduler %s: %s", what, r < 0 ? errname(errno) : policy_name(r));
}

/* statsched prints /proc/self/stat's priority (field 18), rt_priority (40) and policy (41). */
static void statsched(const char *what) {
  char buf[4096];
  FILE *f = fopen("/proc/self/stat", "r");
  check(f != NULL, "open /proc/self/stat");
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *s = strrchr(buf, ')');
  check(s != NULL, "parse /proc/self/stat");
  long long v[53] = {0};
  int field = 3;
  for (char *t = strtok(s + 2, " \n"); t && field <= 52; t = strtok(NULL, " \n"), field++) v[field] = strtoll(t, NULL, 10);
  say("stat %s: priority %lld, rt_priority %lld, policy %lld", what, v[18], v[40], v[41]);
}

static long setsched(pid_t pid, int policy, int prio) {
  struct sched_param sp = {.sched_priority = prio};
  return syscall(SYS_sched_setscheduler, pid, policy, &sp);
}

/* in_child runs fn in a forked child and waits for it to exit 0. */
static void in_child(void (*fn)(void)) {
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    fn();
    _exit(0);
  }
  int st;
  check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child");
}

static void child_getsched(void) { getsched("in a forked child", 0); }

static void ranges(void) {
  static const struct {
    int policy;
    const char *name;
  } ps[] = {{SCHED_OTHER, "SCHED_OTHER"}, {SCHED_FIFO, "SCHED_FIFO"}, {SCHED_RR, "SCHED_RR"}, {SCHED_BATCH, "SCHED_BATCH"},
            {SCHED_IDLE, "SCHED_IDLE"}, {SCHED_DEADLINE, "SCHED_DEADLINE"}};
  for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
    say("priority range of %s: %ld..%ld", ps[i].name, syscall(SYS_sched_get_priority_min, ps[i].policy),
        syscall(SYS_sched_get_priority_max, ps[i].policy));
  static const int bad_policies[] = {-1, 4, 8};
  for (size_t i = 0; i < 3; i++) {
    int bad = bad_policies[i];
    const char *mn = result(syscall(SYS_sched_get_priority_min, bad));
    say("priority range of policy %d: min %s, max %s", bad, mn, result(syscall(SYS_sched_get_priority_max, bad)));
  }
}

static void policies(void) {
  say("sched_yield: %ld", syscall(SYS_sched_yield));
  getsched("of itself", 0);
  getsched("of its pid", getpid());
  getsched("of pid -1", -1);
  getsched("of a missing pid", 4000000);
  say("SCHED_BATCH: %s", result(setsched(0, SCHED_BATCH, 0)));
  getsched("after SCHED_BATCH", 0);
  statsched("after SCHED_BATCH");
  in_child(child_getsched);
  say("SCHED_OTHER|SCHED_RESET_ON_FORK: %s", result(setsched(0, SCHED_OTHER | SCHED_RESET_ON_FORK, 0)));
  getsched("now", 0);
  in_child(child_getsched);
  say("SCHED_OTHER: %s", result(setsched(0, SCHED_OTHER, 0)));
  getsched("now", 0);
  say("SCHED_OTHER priority 1: %s", result(setsched(0, SCHED_OTHER, 1)));
  say("SCHED_FIFO priority 0: %s", result(setsched(0, SCHED_FIFO, 0)));
  say("SCHED_RR priority 100: %s", result(setsched(0, SCHED_RR, 100)));
  say("SCHED_DEADLINE: %s", result(setsched(0, SCHED_DEADLINE, 0)));
  say("policy 4: %s", result(setsched(0, 4, 0)));
  say("policy 8: %s", result(setsched(0, 8, 0)));
  say("NULL param: %s", result(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL)));
  say("bad param pointer: %s", result(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)8)));
  say("pid -1: %s", result(setsched(-1, SCHED_OTHER, 0)));
  say("missing pid: %s", result(setsched(4000000, SCHED_OTHER, 0)));
}

static pid_t root_pid;
static void nobody(void) {
  struct rlimit zero = {0, 0};
  const char *rt = result(setrlimit(RLIMIT_RTPRIO, &zero)), *nice = result(setrlimit(RLIMIT_NICE, &zero));
  say("RLIMIT_RTPRIO 0: %s, RLIMIT_NICE 0: %s, RLIMIT_MEMLOCK 0: %s", rt, nice, result(setrlimit(RLIMIT_MEMLOCK, &zero)));
  if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) fail("drop to 65534");
  say("nobody: SCHED_FIFO priority 10: %s", result(setsched(0, SCHED_FIFO, 10)));
  say("nobody: SCHED_RR priority 1: %s", result(setsched(0, SCHED_RR, 1)));
  say("nobody: SCHED_BATCH: %s", result(setsched(0, SCHED_BATCH, 0)));
  say("nobody: SCHED_OTHER of root's process: %s", result(setsched(root_pid, SCHED_OTHER, 0)));
  getsched("by nobody of root's process", root_pid);
  say("nobody: SCHED_IDLE: %s", result(setsched(0, SCHED_IDLE, 0)));
  getsched("by nobody", 0);
  statsched("by nobody after SCHED_IDLE");
  say("nobody: back from SCHED_IDLE to SCHED_OTHER with RLIMIT_NICE 0: %s", result(setsched(0, SCHED_OTHER, 0)));
  say("nobody: SCHED_IDLE|SCHED_RESET_ON_FORK: %s", result(setsched(0, SCHED_IDLE | SCHED_RESET_ON_FORK, 0)));
  say("nobody: clearing SCHED_RESET_ON_FORK: %s", result(setsched(0, SCHED_IDLE, 0)));
  static char page[4096] __attribute__((aligned(4096)));
  say("nobody: mlock with RLIMIT_MEMLOCK 0: %s", result(syscall(SYS_mlock, page, sizeof(page))));
  say("nobody: mlockall with RLIMIT_MEMLOCK 0: %s", result(syscall(SYS_mlockall, MCL_CURRENT)));
  say("nobody: munlock: %s", result(syscall(SYS_munlock, page, sizeof(page))));
  say("nobody: munlockall: %s", result(syscall(SYS_munlockall)));
}

static void cpu_and_persona(void) {
  unsigned cpu = 99999, node = 99999;
  long r = syscall(SYS_getcpu, &cpu, &node, NULL);
  cpu_set_t set;
  CPU_ZERO(&set);
  check(sched_getaffinity(0, sizeof(set), &set) == 0, "sched_getaffinity");
  say("getcpu: %s, the cpu is in the affinity mask: %s, node %u", r < 0 ? errname(errno) : "ok", cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set) ? "yes" : "no", node);
  say("getcpu with NULL pointers: %s", result(syscall(SYS_getcpu, NULL, NULL, NULL)));
  say("getcpu bad pointer: %s", result(syscall(SYS_getcpu, (unsigned *)8, NULL, NULL)));

  say("personality query: 0x%lx", syscall(SYS_personality, 0xffffffffUL));
  say("personality ADDR_NO_RANDOMIZE: old 0x%lx", syscall(SYS_personality, (unsigned long)(PER_LINUX | ADDR_NO_RANDOMIZE)));
  say("personality query: 0x%lx", syscall(SYS_personality, 0xffffffffUL));
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    say("personality in a forked child: 0x%lx", syscall(SYS_personality, 0xffffffffUL));
    _exit(0);
  }
  int st;
  check(waitpid(pid, &st, 0) == pid, "waitpid");
  say("personality PER_LINUX: old 0x%lx", syscall(SYS_personality, (unsigned long)PER_LINUX));
  say("personality query: 0x%lx", syscall(SYS_personality, 0xffffffffUL));
}

static void memlock(void) {
  long page = sysconf(_SC_PAGESIZE);
  char *buf = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(buf != MAP_FAILED, "mmap");
  say("mlock one page: %s", result(syscall(SYS_mlock, buf, page)));
  say("mlock unaligned: %s", result(syscall(SYS_mlock, buf + 100, 10)));
  say("mlock length 0: %s", result(syscall(SYS_mlock, buf, 0)));
  say("munlock one page: %s", result(syscall(SYS_munlock, buf, page)));
  check(munmap(buf + 2 * page, page) == 0, "munmap");
  say("mlock over a hole: %s", result(syscall(SYS_mlock, buf, 4 * page)));
  say("munlock over a hole: %s", result(syscall(SYS_munlock, buf, 4 * page)));
  say("mlock of unmapped memory: %s", result(syscall(SYS_mlock, buf + 2 * page, page)));
  say("mlock wrapping around: %s", result(syscall(SYS_mlock, (void *)(UINTPTR_MAX - (uintptr_t)page + 1), 2 * page)));
  say("munlock wrapping around: %s", result(syscall(SYS_munlock, (void *)(UINTPTR_MAX - (uintptr_t)page + 1), 2 * page)));
  say("mlockall 0: %s", result(syscall(SYS_mlockall, 0)));
  say("mlockall MCL_ONFAULT alone: %s", result(syscall(SYS_mlockall, MCL_ONFAULT)));
  say("mlockall unknown flag: %s", result(syscall(SYS_mlockall, MCL_CURRENT | 8)));
  say("mlockall MCL_CURRENT: %s", result(syscall(SYS_mlockall, MCL_CURRENT)));
  say("mlockall MCL_CURRENT|MCL_FUTURE|MCL_ONFAULT: %s", result(syscall(SYS_mlockall, MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)));
  say("munlockall: %s", result(syscall(SYS_munlockall)));
  check(munmap(buf, 4 * page) == 0, "munmap");
}

int main(void) {
  root_pid = getpid();
  ranges();
  policies();
  cpu_and_persona();
  memlock();
  in_child(nobody);
  say("done");
  return 0;
}
