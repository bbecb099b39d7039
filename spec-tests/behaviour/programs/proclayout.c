/*
 * proclayout: where exec put a process, as /proc/<pid>/stat, status and statm say it
 * (Linux's start_code, end_code, start_stack, start_data, end_data, start_brk and the
 * argument and environment ranges), checked against what the process can see itself:
 *  - main() lies in [startcode, endcode); an initialized global in [start_data, end_data];
 *  - start_brk is at or below sbrk(0); argv[0] starts at arg_start and the argument
 *    strings end at arg_end; environ[0] starts at env_start;
 *  - startstack (the initial stack pointer, where argc was) lies above main()'s frame
 *    and below arg_start;
 *  - status's VmExe is the code's pages from startcode to endcode, statm's text the same
 *    in pages; VmLib is the rest of the executable mappings: for this static program, the
 *    vDSO alone (its size from /proc/self/maps); VmPin, HugetlbPages, CoreDumping are 0;
 *  - a forked child with the same ids reads the parent's figures; once it has dropped
 *    to uid 65534 it reads 1 1 0 for the first three and zeros for the rest, as Linux
 *    shows them to a reader without ptrace access.
 * Built static (spec-tests/module.mk), so the executable is the only code besides the vDSO.
 */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int initialized_global = 42;

struct layout {
  unsigned long long startcode, endcode, startstack, start_data, end_data, start_brk, arg_start, arg_end, env_start, env_end;
};

/* read_layout parses /proc/<pid>/stat's fields 26-28 and 45-51 (after the comm's ')'). */
static int read_layout(pid_t pid, struct layout *l) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  char *s = strrchr(proc_text(path), ')');
  if (!s) return -1;
  unsigned long long f[53] = {0};
  int field = 3; /* the state is field 3 */
  for (char *t = strtok(s + 2, " \n"); t && field <= 52; t = strtok(NULL, " \n"), field++) {
    if (field > 3) f[field] = strtoull(t, NULL, 10);
  }
  if (field <= 52) return -1;
  *l = (struct layout){f[26], f[27], f[28], f[45], f[46], f[47], f[48], f[49], f[50], f[51]};
  return 0;
}

/* status_kb returns the kB figure of a /proc/self/status line, or -1 when it is absent. */
static long status_kb(const char *name) {
  char *s = strstr(proc_text("/proc/self/status"), name);
  return s ? strtol(s + strlen(name), NULL, 10) : -1;
}

static const char *yes(int c) { return c ? "yes" : "no"; }

int main(int argc, char **argv) {
  (void)argc;
  struct layout l;
  if (read_layout(getpid(), &l) != 0) {
    printf("cannot parse /proc/self/stat\n");
    return 1;
  }
  uintptr_t code = (uintptr_t)&main, data = (uintptr_t)&initialized_global, frame = (uintptr_t)&l;
  printf("main within startcode..endcode: %s\n", yes(code >= l.startcode && code < l.endcode));
  printf("initialized global within start_data..end_data: %s\n", yes(data >= l.start_data && data < l.end_data));
  printf("start_brk at or below sbrk(0): %s\n", yes(l.start_brk > 0 && l.start_brk <= (uintptr_t)sbrk(0)));
  size_t args = 0;
  for (char **a = argv; *a; a++) args += strlen(*a) + 1;
  printf("argv[0] at arg_start: %s, arguments end at arg_end: %s\n", yes((uintptr_t)argv[0] == l.arg_start), yes(l.arg_end - l.arg_start == args));
  printf("environ[0] at env_start: %s, env_end beyond it: %s\n", yes(environ[0] && (uintptr_t)environ[0] == l.env_start), yes(l.env_end > l.env_start));
  printf("startstack between main's frame and arg_start: %s\n", yes(l.startstack > frame && l.startstack < l.arg_start));

  long exe = status_kb("VmExe:"), lib = status_kb("VmLib:");
  unsigned long long text = ((l.endcode + 4095) & ~4095ULL) - (l.startcode & ~4095ULL);
  printf("VmExe is startcode..endcode in pages: %s\n", yes(exe > 0 && (unsigned long long)exe * 1024 == text));
  unsigned long long vdso_lo = 0, vdso_hi = 0;
  char *maps = proc_text("/proc/self/maps");
  char *v = strstr(maps, "[vdso]");
  if (v) {
    while (v > maps && v[-1] != '\n') v--;
    sscanf(v, "%llx-%llx", &vdso_lo, &vdso_hi);
  }
  printf("VmLib is the vDSO's size: %s\n", yes(vdso_hi > vdso_lo && (unsigned long long)lib * 1024 == vdso_hi - vdso_lo));
  printf("VmPin %ld, HugetlbPages %ld\n", status_kb("VmPin:"), status_kb("HugetlbPages:"));
  char *cd = strstr(proc_text("/proc/self/status"), "CoreDumping:");
  printf("CoreDumping: %s\n", cd ? (strtol(cd + 12, NULL, 10) == 0 ? "0" : "not 0") : "absent");
  unsigned long long size, rss, shared, stext;
  if (sscanf(proc_text("/proc/self/statm"), "%llu %llu %llu %llu", &size, &rss, &shared, &stext) == 4) printf("statm text is VmExe in pages: %s\n", yes(stext * 4 == (unsigned long long)exe));

  pid_t parent = getpid();
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    struct layout c;
    int same = read_layout(parent, &c) == 0 && memcmp(&c, &l, sizeof c) == 0;
    printf("a child with the same ids reads the parent's layout: %s\n", yes(same));
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) {
      printf("cannot drop to 65534: %s\n", strerror(errno));
      fflush(stdout);
      _exit(1);
    }
    if (read_layout(parent, &c) != 0) {
      printf("as 65534: cannot parse the parent's stat\n");
      fflush(stdout);
      _exit(1);
    }
    printf("as 65534: startcode %llu endcode %llu startstack %llu, data..env %llu %llu %llu %llu %llu %llu %llu\n", c.startcode, c.endcode, c.startstack,
           c.start_data, c.end_data, c.start_brk, c.arg_start, c.arg_end, c.env_start, c.env_end);
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(child, &status, 0);
  printf("done\n");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
