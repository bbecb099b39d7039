/*
 * checker.c: the conformance checker. Run as a container's init, it reads from inside
 * the container every item that a bundle's config.json can set and prints one line per
 * item, "key: value", in a stable order, so that conformance.test.ts can compare a run
 * under runc with a run under tvisor key by key.
 *
 * Only deterministic facts are printed: no mount IDs, namespace inode numbers or pids.
 * Things named by the bundle (sysctls, devices, masked and read-only paths, a syscall
 * that seccomp denies) come from the arguments, each "kind=value":
 *
 *   sysctl=kernel.shmmax   device=/dev/fuse   masked=/proc/kcore   readonly=/proc/sys
 *   seccomp=getpgid        (the errno of that call, which the bundle's profile denies)
 *   memory=1               (the memory limit as the cgroup files and /proc/meminfo show it)
 *   cgroup=1               (/proc/self/cgroup and the pids limit as the cgroup files show it)
 *   cpus=1                 (the CPUs the container may use: affinity, sysfs, /proc/cpuinfo)
 *   stat=/mnt/tmpfs        (type, mode and owner of any path)
 *   statfs=/mnt/tmpfs      (a filesystem's size in bytes)
 *   open=/mnt/x/null       (what opening a file for reading gets: nodev, devices)
 *   exec=/mnt/x/checker    (what executing a copy of the checker gets: noexec)
 *
 * The same list may come from the env var CHECK (space separated) instead. Every key
 * appears at most once (a mount point seen twice gets "#2"), so outputs compare as maps.
 */
#define _GNU_SOURCE
#include "../behaviour/programs/common.h"
#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* readFile reads a whole small file into buf (NUL-terminated); it returns the length or -errno. */
static ssize_t readFile(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fd, buf + got, size - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return -e;
    }
    if (n == 0 || got + (size_t)n >= size - 1) {
      got += (size_t)(n > 0 ? n : 0);
      break;
    }
    got += (size_t)n;
  }
  close(fd);
  buf[got] = 0;
  return (ssize_t)got;
}

/* oneLine copies in without its final newline, turning inner ones into " | ". */
static void oneLine(const char *in, char *out, size_t size) {
  size_t o = 0;
  for (const char *p = in; *p && o + 4 < size; p++) {
    if (*p == '\n') {
      if (p[1] == 0) break;
      memcpy(out + o, " | ", 3);
      o += 3;
    } else {
      out[o++] = *p;
    }
  }
  out[o] = 0;
}

/* ---- mounts ---- */

#define MAX_MOUNTS 256
static char seenMounts[MAX_MOUNTS][256];
static int nSeen;

/* mountKey gives a mount point's key, numbering a point seen before ("/dev#2"). */
static void mountKey(const char *point, char *key, size_t size) {
  int count = 1;
  for (int i = 0; i < nSeen; i++) {
    if (strcmp(seenMounts[i], point) == 0) count++;
  }
  if (nSeen < MAX_MOUNTS) snprintf(seenMounts[nSeen++], sizeof(seenMounts[0]), "%s", point);
  if (count == 1) snprintf(key, size, "%s", point);
  else snprintf(key, size, "%s#%d", point, count);
}

/* propagation turns mountinfo's optional fields into words without peer group numbers. */
static void propagation(char *fields, char *out, size_t size) {
  out[0] = 0;
  size_t o = 0;
  for (char *tok = strtok(fields, " "); tok; tok = strtok(NULL, " ")) {
    const char *word = tok;
    char tmp[64];
    char *colon = strchr(tok, ':');
    if (colon) {
      snprintf(tmp, sizeof(tmp), "%.*s", (int)(colon - tok), tok);
      word = tmp;
    }
    o += (size_t)snprintf(out + o, size - o, "%s%s", o ? "," : "", word);
    if (o >= size) break;
  }
  if (!out[0]) snprintf(out, size, "private");
}

static char mountOrder[8192];

/* addOrder appends a mount point to the "mounts.order" line. */
static void addOrder(const char *point) {
  size_t o = strlen(mountOrder);
  snprintf(mountOrder + o, sizeof(mountOrder) - o, "%s%s", o ? " " : "", point);
}

/* printMountinfo prints one line per /proc/self/mountinfo entry; it returns -errno when
 * the file cannot be read. */
static int printMountinfo(void) {
  static char buf[1 << 16];
  ssize_t n = readFile("/proc/self/mountinfo", buf, sizeof(buf));
  if (n < 0) return (int)n;
  if (n == 0) return -ENODATA;
  for (char *line = buf, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    /* id parent major:minor root point opts [optional...] - fstype source superopts */
    char *dash = strstr(line, " - ");
    if (!dash) {
      say("mountinfo.bad: %s", line);
      continue;
    }
    *dash = 0;
    char root[512], point[512], opts[512];
    int consumed = 0;
    if (sscanf(line, "%*s %*s %*s %511s %511s %511s%n", root, point, opts, &consumed) != 3) {
      say("mountinfo.bad: %s", line);
      continue;
    }
    char optional[256];
    snprintf(optional, sizeof(optional), "%s", line + consumed);
    char prop[256];
    propagation(optional, prop, sizeof(prop));
    char fstype[128] = "", source[512] = "", super[1024] = "";
    sscanf(dash + 3, "%127s %511s %1023s", fstype, source, super);
    char key[600];
    mountKey(point, key, sizeof(key));
    addOrder(key);
    say("mount[%s]: type=%s source=%s opts=%s super=%s propagation=%s root=%s", key, fstype, source, opts, super, prop, root);
  }
  return 0;
}

/* printMounts prints /proc/self/mounts when mountinfo is missing. */
static void printMounts(void) {
  static char buf[1 << 16];
  ssize_t n = readFile("/proc/self/mounts", buf, sizeof(buf));
  if (n < 0) {
    say("mounts: unreadable (%s)", errname((int)-n));
    return;
  }
  for (char *line = buf, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    char source[512], point[512], fstype[128], opts[1024];
    if (sscanf(line, "%511s %511s %127s %1023s", source, point, fstype, opts) != 4) continue;
    char key[600];
    mountKey(point, key, sizeof(key));
    addOrder(key);
    say("mount[%s]: type=%s source=%s opts=%s (from /proc/self/mounts)", key, fstype, source, opts);
  }
}

/* ---- identity ---- */

static void printIds(void) {
  say("uid: %d", (int)getuid());
  say("gid: %d", (int)getgid());
  say("euid: %d", (int)geteuid());
  say("egid: %d", (int)getegid());
  gid_t groups[256];
  int n = getgroups(256, groups);
  char line[2048] = "";
  size_t o = 0;
  if (n < 0) snprintf(line, sizeof(line), "error %s", errname(errno));
  for (int i = 0; i < n && o < sizeof(line); i++) o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%d", i ? " " : "", (int)groups[i]);
  say("groups: %s", n == 0 ? "(none)" : line);
  mode_t m = umask(0);
  umask(m);
  say("umask: %04o", (unsigned)m);
}

/* ---- capabilities ---- */

static void printCaps(void) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) != 0) {
    say("capget: %s", errname(errno));
  } else {
    unsigned long long eff = ((unsigned long long)data[1].effective << 32) | data[0].effective;
    unsigned long long prm = ((unsigned long long)data[1].permitted << 32) | data[0].permitted;
    unsigned long long inh = ((unsigned long long)data[1].inheritable << 32) | data[0].inheritable;
    say("capget.effective: %016llx", eff);
    say("capget.permitted: %016llx", prm);
    say("capget.inheritable: %016llx", inh);
  }
  static char buf[8192];
  ssize_t n = readFile("/proc/self/status", buf, sizeof(buf));
  if (n < 0) {
    say("status: unreadable (%s)", errname((int)-n));
    return;
  }
  const char *want[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", NULL};
  for (int i = 0; want[i]; i++) {
    char pat[32];
    snprintf(pat, sizeof(pat), "\n%s:", want[i]);
    char *p = strstr(buf, pat);
    if (!p) {
      say("status.%s: (no such line)", want[i]);
      continue;
    }
    p += strlen(pat);
    while (*p == ' ' || *p == '\t') p++;
    char *e = strchr(p, '\n');
    say("status.%s: %.*s", want[i], e ? (int)(e - p) : (int)strlen(p), p);
  }
  int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  say("no_new_privs: %s", nnp < 0 ? errname(errno) : (nnp ? "1" : "0"));
  int sm = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  say("prctl.seccomp: %s", sm < 0 ? errname(errno) : (sm == 2 ? "2" : sm == 1 ? "1" : "0"));
}

/* ---- rlimits ---- */

static void printRlimits(void) {
  static const struct { int res; const char *name; } lims[] = {
    {RLIMIT_CPU, "RLIMIT_CPU"}, {RLIMIT_FSIZE, "RLIMIT_FSIZE"}, {RLIMIT_DATA, "RLIMIT_DATA"},
    {RLIMIT_STACK, "RLIMIT_STACK"}, {RLIMIT_CORE, "RLIMIT_CORE"}, {RLIMIT_RSS, "RLIMIT_RSS"},
    {RLIMIT_NPROC, "RLIMIT_NPROC"}, {RLIMIT_NOFILE, "RLIMIT_NOFILE"}, {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"},
    {RLIMIT_AS, "RLIMIT_AS"}, {RLIMIT_LOCKS, "RLIMIT_LOCKS"}, {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"},
    {RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"}, {RLIMIT_NICE, "RLIMIT_NICE"}, {RLIMIT_RTPRIO, "RLIMIT_RTPRIO"},
    {RLIMIT_RTTIME, "RLIMIT_RTTIME"},
  };
  for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++) {
    struct rlimit rl;
    if (getrlimit(lims[i].res, &rl) != 0) {
      say("rlimit.%s: %s", lims[i].name, errname(errno));
      continue;
    }
    char s[32], h[32];
    if (rl.rlim_cur == RLIM_INFINITY) snprintf(s, sizeof(s), "unlimited");
    else snprintf(s, sizeof(s), "%llu", (unsigned long long)rl.rlim_cur);
    if (rl.rlim_max == RLIM_INFINITY) snprintf(h, sizeof(h), "unlimited");
    else snprintf(h, sizeof(h), "%llu", (unsigned long long)rl.rlim_max);
    say("rlimit.%s: soft=%s hard=%s", lims[i].name, s, h);
  }
}

/* ---- environment ---- */

static int cmpStr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void printEnv(char **envp) {
  int n = 0;
  while (envp[n]) n++;
  char **sorted = calloc((size_t)n + 1, sizeof(char *));
  if (!sorted) return;
  memcpy(sorted, envp, (size_t)n * sizeof(char *));
  qsort(sorted, (size_t)n, sizeof(char *), cmpStr);
  for (int i = 0; i < n; i++) {
    char *eq = strchr(sorted[i], '=');
    if (!eq) say("env.%s: (no =)", sorted[i]);
    else say("env.%.*s: %s", (int)(eq - sorted[i]), sorted[i], eq + 1);
  }
  free(sorted);
}

/* printFileLine prints a small file as one line (inner newlines become " | ", runs of
 * spaces one space), or why it could not be read. */
static void printFileLine(const char *key, const char *path) {
  char buf[4096], line[4096];
  ssize_t n = readFile(path, buf, sizeof(buf));
  if (n < 0) {
    say("%s: unreadable (%s)", key, errname((int)-n));
    return;
  }
  /* uid_map's columns are padded: squeeze runs of spaces. */
  char *w = buf;
  for (char *r = buf; *r; r++) {
    if (*r == ' ' && (w == buf || w[-1] == ' ' || w[-1] == '\n')) continue;
    *w++ = *r;
  }
  *w = 0;
  oneLine(buf, line, sizeof(line));
  say("%s: %s", key, line);
}

/* ---- named items ---- */

static void printSysctl(const char *key) {
  char path[512] = "/proc/sys/";
  size_t o = strlen(path);
  for (const char *p = key; *p && o + 1 < sizeof(path); p++) path[o++] = *p == '.' ? '/' : *p;
  path[o] = 0;
  char buf[4096], line[4096];
  ssize_t n = readFile(path, buf, sizeof(buf));
  if (n < 0) {
    say("sysctl.%s: %s", key, errname((int)-n));
    return;
  }
  for (char *p = buf; *p; p++) if (*p == '\t') *p = ' ';
  oneLine(buf, line, sizeof(line));
  say("sysctl.%s: %s", key, line);
}

static const char *fileType(mode_t m) {
  switch (m & S_IFMT) {
    case S_IFCHR: return "char";
    case S_IFBLK: return "block";
    case S_IFIFO: return "fifo";
    case S_IFDIR: return "dir";
    case S_IFREG: return "file";
    case S_IFLNK: return "symlink";
    case S_IFSOCK: return "socket";
  }
  return "?";
}

/* printStat prints a path's type, device numbers, mode and owner (lstat) under `kind`. */
static void printStat(const char *kind, const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    say("%s[%s]: %s", kind, path, errname(errno));
    return;
  }
  say("%s[%s]: %s %u:%u mode=%04o uid=%d gid=%d", kind, path, fileType(st.st_mode), major(st.st_rdev), minor(st.st_rdev),
      (unsigned)(st.st_mode & 07777), (int)st.st_uid, (int)st.st_gid);
}

static void printStatfs(const char *path) {
  struct statfs sf;
  if (statfs(path, &sf) != 0) say("statfs[%s]: %s", path, errname(errno));
  else say("statfs[%s]: bytes=%llu", path, (unsigned long long)sf.f_blocks * (unsigned long long)sf.f_bsize);
}

static void printOpen(const char *path) {
  int fd = open(path, O_RDONLY);
  say("open[%s]: %s", path, fd >= 0 ? "0" : errname(errno));
  if (fd >= 0) close(fd);
}

/* EXIT_NOW as argv[1] makes the checker exit at once: printExec runs a copy of it. */
#define EXIT_NOW "--exit-now"

/* printExec says what executing path (a copy of the checker) gets: 0, or execve's errno
 * (the child reports it as its exit status). */
static void printExec(const char *path) {
  pid_t pid = fork();
  if (pid < 0) {
    say("exec[%s]: fork %s", path, errname(errno));
    return;
  }
  if (pid == 0) {
    char *args[] = {(char *)path, EXIT_NOW, NULL};
    char *env[] = {NULL};
    execve(path, args, env);
    _exit(errno & 0x7f ? errno & 0x7f : 127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (WIFEXITED(status)) say("exec[%s]: %s", path, errname(WEXITSTATUS(status)));
  else say("exec[%s]: signal %d", path, WTERMSIG(status));
}

/* printMasked says what a masked path gives: a directory's entry count, or what a read gets. */
static void printMasked(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    say("masked[%s]: %s", path, errname(errno));
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (!d) {
      say("masked[%s]: dir, opendir %s", path, errname(errno));
      return;
    }
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));) {
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) entries++;
    }
    closedir(d);
    say("masked[%s]: dir entries=%d mode=%04o", path, entries, (unsigned)(st.st_mode & 07777));
    return;
  }
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    say("masked[%s]: %s open %s", path, fileType(st.st_mode), errname(errno));
    return;
  }
  char buf[64];
  ssize_t n = read(fd, buf, sizeof(buf));
  int e = errno;
  close(fd);
  if (n < 0) say("masked[%s]: %s read %s", path, fileType(st.st_mode), errname(e));
  else say("masked[%s]: %s read %zd bytes", path, fileType(st.st_mode), n);
}

/* printReadonly says what a write attempt on a read-only path gets: creating a directory
 * in a directory, opening a file for writing. */
static void printReadonly(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    say("readonly[%s]: %s", path, errname(errno));
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    char probe[600];
    snprintf(probe, sizeof(probe), "%s/.conformance-probe", path);
    int r = mkdir(probe, 0700);
    int e = errno;
    if (r == 0) rmdir(probe);
    say("readonly[%s]: dir mkdir %s", path, r == 0 ? "0" : errname(e));
    return;
  }
  int fd = open(path, O_WRONLY);
  int e = errno;
  say("readonly[%s]: %s open-write %s", path, fileType(st.st_mode), fd >= 0 ? "0" : errname(e));
  if (fd >= 0) close(fd);
}

static void printSeccomp(const char *name) {
  long r;
  errno = 0;
  if (strcmp(name, "getpgid") == 0) r = syscall(SYS_getpgid, 0);
  else if (strcmp(name, "mkdirat") == 0) r = syscall(SYS_mkdirat, AT_FDCWD, "/conformance-seccomp", 0700);
  else {
    say("seccomp.%s: (unknown to the checker)", name);
    return;
  }
  say("seccomp.%s: %s", name, r < 0 ? errname(errno) : "allowed");
}

/* printMemory prints the memory limit as the cgroup files (v1 or v2) and /proc/meminfo show it. */
static void printMemory(void) {
  static const char *files[] = {"/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max", NULL};
  for (int i = 0; files[i]; i++) {
    char buf[256], line[256];
    ssize_t n = readFile(files[i], buf, sizeof(buf));
    if (n < 0) say("memory[%s]: %s", files[i], errname((int)-n));
    else {
      oneLine(buf, line, sizeof(line));
      say("memory[%s]: %s", files[i], line);
    }
  }
  static char buf[8192];
  ssize_t n = readFile("/proc/meminfo", buf, sizeof(buf));
  if (n < 0) {
    say("meminfo.MemTotal: %s", errname((int)-n));
    return;
  }
  char *p = strstr(buf, "MemTotal:");
  if (!p) {
    say("meminfo.MemTotal: (no such line)");
    return;
  }
  p += 9;
  while (*p == ' ') p++;
  char *e = strchr(p, '\n');
  say("meminfo.MemTotal: %.*s", e ? (int)(e - p) : (int)strlen(p), p);
}

/* printCgroup prints /proc/self/cgroup (one line) and the pids limit files (v1, v2). */
static void printCgroup(void) {
  printFileLine("cgroup", "/proc/self/cgroup");
  static const char *files[] = {"/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max", NULL};
  for (int i = 0; files[i]; i++) printFileLine(files[i], files[i]);
}

/* printCpus prints how many CPUs the affinity mask, sysfs and /proc/cpuinfo show. */
static void printCpus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) say("cpus.affinity: %s", errname(errno));
  else say("cpus.affinity: %d", CPU_COUNT(&set));
  printFileLine("cpus.online", "/sys/devices/system/cpu/online");
  printFileLine("cpus.possible", "/sys/devices/system/cpu/possible");
  static char buf[1 << 16];
  ssize_t n = readFile("/proc/cpuinfo", buf, sizeof(buf));
  if (n < 0) {
    say("cpus.cpuinfo: %s", errname((int)-n));
    return;
  }
  int count = 0;
  for (char *p = buf; (p = strstr(p, "processor\t")); p++) {
    if (p == buf || p[-1] == '\n') count++;
  }
  say("cpus.cpuinfo: %d", count);
}

static void named(const char *item) {
  const char *eq = strchr(item, '=');
  if (!eq) {
    say("arg.bad: %s", item);
    return;
  }
  size_t k = (size_t)(eq - item);
  const char *v = eq + 1;
  if (k == 6 && !strncmp(item, "sysctl", k)) printSysctl(v);
  else if (k == 6 && !strncmp(item, "device", k)) printStat("device", v);
  else if (k == 4 && !strncmp(item, "stat", k)) printStat("stat", v);
  else if (k == 6 && !strncmp(item, "statfs", k)) printStatfs(v);
  else if (k == 4 && !strncmp(item, "open", k)) printOpen(v);
  else if (k == 4 && !strncmp(item, "exec", k)) printExec(v);
  else if (k == 6 && !strncmp(item, "masked", k)) printMasked(v);
  else if (k == 8 && !strncmp(item, "readonly", k)) printReadonly(v);
  else if (k == 7 && !strncmp(item, "seccomp", k)) printSeccomp(v);
  else if (k == 6 && !strncmp(item, "memory", k)) printMemory();
  else if (k == 6 && !strncmp(item, "cgroup", k)) printCgroup();
  else if (k == 4 && !strncmp(item, "cpus", k)) printCpus();
  else say("arg.bad: %s", item);
}

/* ---- namespaces ---- */

static void printNamespaces(void) {
  say("pid: %s", getpid() == 1 ? "1 (a new pid namespace)" : "not 1");
  static const char *kinds[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts", NULL};
  for (int i = 0; kinds[i]; i++) {
    char self[64], one[64], a[128], b[128];
    snprintf(self, sizeof(self), "/proc/self/ns/%s", kinds[i]);
    snprintf(one, sizeof(one), "/proc/1/ns/%s", kinds[i]);
    ssize_t na = readlink(self, a, sizeof(a) - 1);
    if (na < 0) {
      say("ns.%s: unreadable (%s)", kinds[i], errname(errno));
      continue;
    }
    a[na] = 0;
    ssize_t nb = readlink(one, b, sizeof(b) - 1);
    if (nb >= 0) b[nb] = 0;
    char kind[64];
    snprintf(kind, sizeof(kind), "%.*s", (int)(strchr(a, ':') ? strchr(a, ':') - a : na), a);
    say("ns.%s: readable kind=%s same-as-pid1=%s", kinds[i], kind, nb < 0 ? errname(errno) : (strcmp(a, b) == 0 ? "yes" : "no"));
  }
}

/* ---- console ---- */

static void printConsole(void) {
  for (int fd = 0; fd < 3; fd++) {
    int tty = isatty(fd);
    if (!tty) {
      say("console.fd%d: not a tty (%s)", fd, errname(errno));
      continue;
    }
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0) say("console.fd%d: tty, TIOCGWINSZ %s", fd, errname(errno));
    else say("console.fd%d: tty rows=%u cols=%u", fd, ws.ws_row, ws.ws_col);
  }
}

int main(int argc, char **argv, char **envp) {
  if (argc == 2 && strcmp(argv[1], EXIT_NOW) == 0) return 0;
  for (int i = 0; i < argc; i++) say("argv[%d]: %s", i, argv[i]);
  printEnv(envp);
  int err = printMountinfo();
  if (err < 0) {
    say("mountinfo: unreadable (%s)", errname(-err));
    printMounts();
  }
  say("mounts.order: %s", mountOrder);
  struct utsname u;
  if (uname(&u) == 0) {
    say("uname.nodename: %s", u.nodename);
    say("uname.domainname: %s", u.domainname);
  }
  char host[256];
  if (gethostname(host, sizeof(host)) == 0) say("hostname: %s", host);
  printFileLine("proc.hostname", "/proc/sys/kernel/hostname");
  printFileLine("proc.domainname", "/proc/sys/kernel/domainname");
  char cwd[1024];
  say("cwd: %s", getcwd(cwd, sizeof(cwd)) ? cwd : errname(errno));
  printIds();
  printCaps();
  printRlimits();
  printFileLine("oom_score_adj", "/proc/self/oom_score_adj");
  printNamespaces();
  printFileLine("uid_map", "/proc/self/uid_map");
  printFileLine("gid_map", "/proc/self/gid_map");
  printFileLine("setgroups", "/proc/self/setgroups");
  printConsole();
  for (int i = 1; i < argc; i++) named(argv[i]);
  const char *env = getenv("CHECK");
  if (env) {
    char *copy = strdup(env);
    for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) named(tok);
    free(copy);
  }
  return 0;
}
