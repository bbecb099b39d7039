/*
 * vdso.c: the vDSO. getauxval(AT_SYSINFO_EHDR) names an ELF image; __vdso_clock_gettime
 * is found in its dynamic symbols under version LINUX_2.6, without dlsym, as Go's runtime
 * finds it; clock_gettime, gettimeofday and time through glibc (so through the vDSO) and
 * through the vDSO's own entry agree with the raw syscall (each syscall's answer lies
 * between two vDSO reads); clocks the vDSO does not serve still answer right through it;
 * CLOCK_MONOTONIC never goes back over 100,000 calls mixed with syscalls; and
 * /proc/self/maps shows [vdso] and [vvar], the section headers are mapped (debuggers
 * read them), and the data page cannot be made writable.
 *
 * `vdso loop N` only calls clock_gettime(CLOCK_MONOTONIC) N times through glibc (the
 * test counts, with --strace, how many of them the sentry saw).
 */
#include "common.h"
#include <elf.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

typedef int (*vdso_gettime_fn)(clockid_t, struct timespec *);

static int64_t ns_of(const struct timespec *ts) { return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec; }

static int64_t sys_ns(clockid_t c) {
  struct timespec ts;
  check(syscall(SYS_clock_gettime, c, &ts) == 0, "syscall clock_gettime");
  return ns_of(&ts);
}

/* vdso_sym finds `name`@`version` in the image at base, through PT_DYNAMIC's DT_HASH (or
 * the symbol count DT_GNU_HASH implies), DT_SYMTAB, DT_STRTAB, DT_VERSYM and DT_VERDEF. */
static void *vdso_sym(uintptr_t base, const char *name, const char *version) {
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
  const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
  uintptr_t load_offset = 0;
  const Elf64_Dyn *dyn = NULL;
  for (int i = 0; i < eh->e_phnum; i++) {
    if (ph[i].p_type == PT_LOAD && load_offset == 0) load_offset = base + ph[i].p_offset - ph[i].p_vaddr;
    if (ph[i].p_type == PT_DYNAMIC) dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
  }
  if (!dyn) return NULL;
  const Elf64_Sym *syms = NULL;
  const char *strs = NULL;
  const Elf32_Word *hash = NULL;
  const Elf64_Versym *versym = NULL;
  const Elf64_Verdef *verdef = NULL;
  for (; dyn->d_tag != DT_NULL; dyn++) {
    uintptr_t p = load_offset + dyn->d_un.d_ptr;
    switch (dyn->d_tag) {
      case DT_SYMTAB: syms = (const Elf64_Sym *)p; break;
      case DT_STRTAB: strs = (const char *)p; break;
      case DT_HASH: hash = (const Elf32_Word *)p; break;
      case DT_VERSYM: versym = (const Elf64_Versym *)p; break;
      case DT_VERDEF: verdef = (const Elf64_Verdef *)p; break;
    }
  }
  if (!syms || !strs || !hash) return NULL;
  Elf32_Word nsyms = hash[1];
  for (Elf32_Word i = 0; i < nsyms; i++) {
    const Elf64_Sym *s = &syms[i];
    if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF || strcmp(strs + s->st_name, name) != 0) continue;
    if (versym && verdef) {
      /* The version index names a Verdef whose first Verdaux is the version's name. */
      Elf64_Versym idx = versym[i] & 0x7fff;
      const Elf64_Verdef *d = verdef;
      int found = 0;
      for (;;) {
        if (d->vd_ndx == idx) {
          const Elf64_Verdaux *aux = (const Elf64_Verdaux *)((const char *)d + d->vd_aux);
          found = strcmp(strs + aux->vda_name, version) == 0;
          break;
        }
        if (d->vd_next == 0) break;
        d = (const Elf64_Verdef *)((const char *)d + d->vd_next);
      }
      if (!found) continue;
    }
    return (void *)(load_offset + s->st_value);
  }
  return NULL;
}

/* between checks, for clock c, that a syscall's answer lies between two reads by `read`. */
/* readable says whether n bytes at p can be read (a write of them to a pipe is not EFAULT). */
static int readable(uintptr_t p, size_t n) {
  int fds[2];
  check(pipe(fds) == 0, "pipe");
  ssize_t w = write(fds[1], (const void *)p, n);
  close(fds[0]);
  close(fds[1]);
  return w == (ssize_t)n;
}

/* sections_named says whether the image's section headers and their string table are in
 * memory, as a debugger reads them from the process, and name .text and .dynsym. */
static int sections_named(uintptr_t base) {
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
  if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shstrndx >= eh->e_shnum) return 0;
  if (!readable(base + eh->e_shoff, (size_t)eh->e_shnum * sizeof(Elf64_Shdr))) return 0;
  const Elf64_Shdr *sh = (const Elf64_Shdr *)(base + eh->e_shoff);
  const Elf64_Shdr *names = &sh[eh->e_shstrndx];
  if (names->sh_size == 0 || !readable(base + names->sh_offset, names->sh_size)) return 0;
  const char *strs = (const char *)(base + names->sh_offset);
  if (strs[names->sh_size - 1] != 0) return 0;
  int text = 0, dynsym = 0;
  for (int i = 0; i < eh->e_shnum; i++) {
    if (sh[i].sh_name >= names->sh_size) return 0;
    text |= strcmp(strs + sh[i].sh_name, ".text") == 0;
    dynsym |= strcmp(strs + sh[i].sh_name, ".dynsym") == 0;
  }
  return text && dynsym;
}

static int between(clockid_t c, int (*read)(clockid_t, struct timespec *)) {
  struct timespec a, b;
  check(read(c, &a) == 0, "vdso read");
  int64_t s = sys_ns(c);
  check(read(c, &b) == 0, "vdso read");
  return ns_of(&a) <= s && s <= ns_of(&b);
}

static vdso_gettime_fn vdso_gettime;
static int via_vdso(clockid_t c, struct timespec *ts) { return vdso_gettime(c, ts); }

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[1], "loop") == 0) {
    struct timespec t;
    long n = atol(argv[2]);
    for (long i = 0; i < n; i++) check(clock_gettime(CLOCK_MONOTONIC, &t) == 0, "clock_gettime");
    say("looped %ld times", n);
    return 0;
  }
  uintptr_t base = getauxval(AT_SYSINFO_EHDR);
  say("AT_SYSINFO_EHDR set: %s", base ? "yes" : "no");
  if (!base) return 1;
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
  say("image is an ELF shared object: %s", memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 && eh->e_type == ET_DYN ? "yes" : "no");
  say("section headers in memory name .text and .dynsym: %s", sections_named(base) ? "yes" : "no");
  vdso_gettime = (vdso_gettime_fn)vdso_sym(base, "__vdso_clock_gettime", "LINUX_2.6");
  say("__vdso_clock_gettime@LINUX_2.6 found: %s", vdso_gettime ? "yes" : "no");
  say("__vdso_gettimeofday@LINUX_2.6 found: %s", vdso_sym(base, "__vdso_gettimeofday", "LINUX_2.6") ? "yes" : "no");
  say("__vdso_time@LINUX_2.6 found: %s", vdso_sym(base, "__vdso_time", "LINUX_2.6") ? "yes" : "no");
  say("__vdso_getcpu@LINUX_2.6 found: %s", vdso_sym(base, "__vdso_getcpu", "LINUX_2.6") ? "yes" : "no");
  say("__vdso_clock_getres@LINUX_2.6 found: %s", vdso_sym(base, "__vdso_clock_getres", "LINUX_2.6") ? "yes" : "no");
  if (!vdso_gettime) return 1;

  static const struct { clockid_t id; const char *name; } clocks[] = {
    {CLOCK_REALTIME, "REALTIME"}, {CLOCK_MONOTONIC, "MONOTONIC"}, {CLOCK_BOOTTIME, "BOOTTIME"},
    {CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW"},
  };
  for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
    int ok = 1;
    for (int k = 0; k < 100; k++) ok &= between(clocks[i].id, clock_gettime) & between(clocks[i].id, via_vdso);
    say("%s: syscall between two vDSO reads (glibc and __vdso_clock_gettime), 100 times: %s", clocks[i].name, ok ? "yes" : "no");
  }

  /* gettimeofday and time: the syscall's answer between two glibc reads, in their units. */
  int ok = 1;
  for (int k = 0; k < 100; k++) {
    struct timeval a, b, s;
    gettimeofday(&a, NULL);
    check(syscall(SYS_gettimeofday, &s, NULL) == 0, "syscall gettimeofday");
    gettimeofday(&b, NULL);
    int64_t ua = a.tv_sec * 1000000 + a.tv_usec, us = s.tv_sec * 1000000 + s.tv_usec, ub = b.tv_sec * 1000000 + b.tv_usec;
    ok &= ua <= us && us <= ub;
  }
  say("gettimeofday: syscall between two glibc reads, 100 times: %s", ok ? "yes" : "no");
  ok = 1;
  for (int k = 0; k < 100; k++) {
    time_t a = time(NULL), s = syscall(SYS_time, NULL), b = time(NULL);
    ok &= a <= s && s <= b;
  }
  say("time: syscall between two glibc reads, 100 times: %s", ok ? "yes" : "no");
  time_t tl = 0;
  say("time(&t) stores what it returns: %s", time(&tl) == tl ? "yes" : "no");

  /* What the vDSO does not serve still answers right through it. */
  struct timespec ts;
  say("__vdso_clock_gettime(PROCESS_CPUTIME_ID): %d", vdso_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts));
  say("__vdso_clock_gettime(bad id 12345): %d", vdso_gettime((clockid_t)12345, &ts));
  errno = 0;
  int r = clock_gettime((clockid_t)12345, &ts);
  say("clock_gettime(bad id 12345): %d %s", r, errname(errno));
  struct timespec r1, r2;
  check(clock_getres(CLOCK_MONOTONIC, &r1) == 0 && syscall(SYS_clock_getres, CLOCK_MONOTONIC, &r2) == 0, "clock_getres");
  say("clock_getres(MONOTONIC) as the syscall's: %s", r1.tv_sec == r2.tv_sec && r1.tv_nsec == r2.tv_nsec ? "yes" : "no");

  /* 100,000 monotonic reads, every tenth a syscall: never backwards. */
  int64_t prev = 0;
  long back = 0;
  for (int k = 0; k < 100000; k++) {
    int64_t now;
    if (k % 10 == 0) {
      now = sys_ns(CLOCK_MONOTONIC);
    } else {
      check(clock_gettime(CLOCK_MONOTONIC, &ts) == 0, "clock_gettime");
      now = ns_of(&ts);
    }
    if (now < prev) back++;
    prev = now;
  }
  say("MONOTONIC went back in 100000 mixed reads: %ld times", back);

  /* fork keeps the vDSO, and the child's clocks agree as well. */
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) _exit(getauxval(AT_SYSINFO_EHDR) == base && between(CLOCK_MONOTONIC, clock_gettime) ? 0 : 1);
  int st;
  check(waitpid(pid, &st, 0) == pid, "waitpid");
  say("forked child reads the vDSO clock: %s", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");

  FILE *f = fopen("/proc/self/maps", "r");
  check(f != NULL, "open /proc/self/maps");
  char line[512];
  int vdso = 0, vvar = 0;
  unsigned long vvar_at = 0;
  while (fgets(line, sizeof line, f)) {
    if (strstr(line, "[vdso]")) vdso++;
    if (strstr(line, "[vvar]") && vvar++ == 0) vvar_at = strtoul(line, NULL, 16);
  }
  fclose(f);
  say("/proc/self/maps: [vdso] %s, [vvar] %s", vdso ? "present" : "absent", vvar ? "present" : "absent");
  /* The data page is every process's: it never becomes writable. */
  if (vvar_at) {
    errno = 0;
    int m = mprotect((void *)vvar_at, 4096, PROT_READ | PROT_WRITE);
    say("mprotect([vvar], PROT_WRITE): %d %s", m, errname(errno));
  }
  say("done");
  return 0;
}
