/*
 * entry: the ways into a kernel that a process has besides a plain `syscall`, for
 * spec-tests/security/entry.test.ts. Each case runs in a child process; the parent prints
 * what the child printed and how it ended ("exit N" or "signal NAME"), so that a case that
 * kills its process still leaves a line to compare.
 *
 *   entry cases   int $0x80 (32-bit getpid, 32-bit exit, a 64-bit number, a 32-bit mkdir
 *                 in the working directory), sysenter, a
 *                 `syscall` on a page the program mapped itself, a jump into the ptrace
 *                 stub's code (native/stub/layout.h), a write to it, a jump into it with
 *                 the title call prctl(PR_SET_MM, PR_SET_MM_MAP) as the stub's filter
 *                 allows it, a write to the stub's title page
 *   entry vsyscall  a call into the legacy vsyscall page (gettimeofday)
 *   entry sweep   every syscall number 0..512, 0x40000000 + the same (x32), -1 and
 *                 2^32-1, with every argument -1 (bad fd, bad pointer, bad size), except
 *                 those that end, block, fork or exec the process or reboot the machine;
 *                 one line "N: RESULT" each, then "sweep done"; then it waits for its
 *                 stdin to end, so that the caller can look at the host meanwhile
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* STUB_INJECT and STUB_BASE are native/stub/layout.h's (a `syscall; int3` gadget). */
#define STUB_BASE 0x7fffff000000UL
#define STUB_INJECT (STUB_BASE + 0x200)
/* STUB_TITLE is the title page (native/stub/layout.h): read-only, the stub's command line. */
#define STUB_TITLE (STUB_BASE + 0x80000)

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if (n > (int)sizeof buf - 2) n = (int)sizeof buf - 2;
  buf[n++] = '\n';
  if (write(1, buf, (size_t)n) < 0) _exit(2);
}

/* result describes a raw syscall return value: the pid, an errno name, or a number. */
static const char *result(long r, char *buf, size_t len) {
  if (r == (long)getpid()) return "own pid";
  if (r < 0 && r >= -4095) {
    const char *name = strerrorname_np((int)-r);
    snprintf(buf, len, "-1 %s", name ? name : "?");
  } else {
    snprintf(buf, len, "%ld", r);
  }
  return buf;
}

static long int80(long nr, long a, long b, long c) {
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return r;
}

static long sysenter(long nr) {
  long r;
  __asm__ volatile("sysenter" : "=a"(r) : "a"(nr) : "rcx", "r11", "memory");
  return r;
}

static void case_int80_getpid(void) {
  char b[64];
  say("int80 getpid(20): %s", result(int80(20, 0, 0, 0), b, sizeof b));
}

static void case_int80_exit(void) {
  char b[64];
  long r = int80(1, 42, 0, 0); /* 32-bit exit(42); 1 is write in the 64-bit table */
  say("int80 exit(42) returned: %s", result(r, b, sizeof b));
}

static void case_int80_64bit(void) {
  char b[64];
  /* 39 is getpid in the 64-bit table, mkdir in the 32-bit one: mkdir(NULL) is EFAULT. */
  say("int80 39 (64-bit getpid, 32-bit mkdir(NULL)): %s", result(int80(39, 0, 0, 0), b, sizeof b));
}

static void case_int80_mkdir(void) {
  char b[64];
  /* 32-bit mkdir("int80-made-this", 0755): the name must lie below 4 GiB (ebx). */
  char *name = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (name == MAP_FAILED) {
    say("int80 mkdir: mmap failed");
    return;
  }
  strcpy(name, "int80-made-this");
  long r = int80(39, (long)(uintptr_t)name, 0755, 0);
  say("int80 mkdir: %s", r == 0 ? "made" : result(r, b, sizeof b));
}

static void case_sysenter(void) {
  char b[64];
  say("sysenter 39: %s", result(sysenter(39), b, sizeof b));
}

static void case_own_page(void) {
  char b[64];
  unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    say("own page: mmap failed");
    return;
  }
  static const unsigned char code[] = {0x0f, 0x05, 0xc3}; /* syscall; ret */
  memcpy(p, code, sizeof code);
  if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0) {
    say("own page: mprotect failed");
    return;
  }
  long r;
  __asm__ volatile("call *%1" : "=a"(r) : "r"(p), "a"(39L) : "rcx", "r11", "memory");
  say("syscall on own page, getpid(39): %s", result(r, b, sizeof b));
}

static void case_stub_jump(void) {
  char b[64];
  long r;
  /* A call into the stub's `syscall; int3` gadget with getpid's number. */
  __asm__ volatile("call *%1" : "=a"(r) : "r"(STUB_INJECT), "a"(39L) : "rcx", "r11", "memory");
  say("returned from the stub region: %s", result(r, b, sizeof b));
}

static void case_stub_title_jump(void) {
  char b[64];
  long r;
  /* prctl(PR_SET_MM, PR_SET_MM_MAP, STUB_TITLE, 104, 0) at the gadget: the host call the
   * sentry injects to set the stub's command line, with the registers its filter wants. */
  register long r10 __asm__("r10") = 104;
  register long r8 __asm__("r8") = 0;
  __asm__ volatile("call *%1"
                   : "=a"(r)
                   : "r"(STUB_INJECT), "a"(157L), "D"(35L), "S"(14L), "d"(STUB_TITLE), "r"(r10), "r"(r8)
                   : "rcx", "r11", "memory");
  say("returned from the stub region: %s", result(r, b, sizeof b));
}

static void case_title_write(void) {
  *(volatile unsigned char *)STUB_TITLE = 'x';
  say("wrote into the title page");
}

static void case_stub_write(void) {
  *(volatile unsigned char *)STUB_INJECT = 0xcc;
  say("wrote into the stub region");
}

static void case_vsyscall(void) {
  char b[64];
  struct { long sec, usec; } tv = {0, 0};
  long r;
  /* The legacy vsyscall page's gettimeofday (the host kernel emulates it, without a
   * syscall stop for a tracer). */
  __asm__ volatile("call *%1" : "=a"(r) : "r"(0xffffffffff600000UL), "D"(&tv), "S"(0L) : "rcx", "rdx", "r8", "r9", "r10", "r11", "memory");
  say("vsyscall gettimeofday: %s, time %s", result(r, b, sizeof b), tv.sec > 1000000000 ? "set" : "not set");
}

static void run_case(const char *name, void (*fn)(void)) {
  pid_t pid = fork();
  if (pid < 0) {
    say("%s: fork failed", name);
    return;
  }
  if (pid == 0) {
    fn();
    _exit(0);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st)) say("%s: exit %d", name, WEXITSTATUS(st));
  else if (WIFSIGNALED(st)) say("%s: signal %s", name, sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
  else say("%s: status %#x", name, st);
}

/* excluded tells whether the sweep leaves syscall nr alone (its low 30 bits for x32). */
static int excluded(long nr) {
  switch (nr & 0x3fffffff) {
  case SYS_exit: case SYS_exit_group:                           /* end the process */
  case SYS_rt_sigreturn:                                        /* loads registers from the stack */
  case SYS_pause: case SYS_wait4: case SYS_waitid:              /* block */
  case SYS_fork: case SYS_vfork: case SYS_clone: case SYS_clone3: /* new processes */
  case SYS_execve: case SYS_execveat:                           /* replace the program */
  case SYS_reboot:                                              /* the machine */
  case SYS_kill: case SYS_tkill: case SYS_tgkill:               /* signals to itself */
  case SYS_vhangup:                                             /* hangs up a terminal */
  case 335:                                   /* uretprobe: SIGILL outside a uprobe trampoline */
    return 1;
  }
  return 0;
}

static void sweep_one(long nr) {
  char b[64];
  if (excluded(nr)) return;
  long r = syscall(nr, -1L, -1L, -1L, -1L, -1L, -1L);
  say("%ld: %s", nr, r == -1 ? result(-errno, b, sizeof b) : result(r, b, sizeof b));
}

static int sweep(void) {
  for (long nr = 0; nr <= 512; nr++) sweep_one(nr);
  for (long nr = 0; nr <= 512; nr++) sweep_one(0x40000000L + nr);
  sweep_one(-1L);
  sweep_one(0xffffffffL);
  say("sweep done");
  char c;
  while (read(0, &c, 1) > 0) {
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "sweep") == 0) return sweep();
  if (argc > 1 && strcmp(argv[1], "vsyscall") == 0) {
    run_case("vsyscall", case_vsyscall);
    return 0;
  }
  run_case("int80 getpid", case_int80_getpid);
  run_case("int80 exit", case_int80_exit);
  run_case("int80 64-bit number", case_int80_64bit);
  run_case("int80 mkdir", case_int80_mkdir);
  run_case("sysenter", case_sysenter);
  run_case("own page", case_own_page);
  run_case("stub jump", case_stub_jump);
  run_case("stub write", case_stub_write);
  run_case("stub title jump", case_stub_title_jump);
  run_case("title write", case_title_write);
  say("done");
  return 0;
}
