/*
 * fork-exec-wait: process creation and reaping.
 *
 * fork() children that exit with chosen codes and are reaped in a chosen order,
 * a child killed by a signal, WNOHANG on a running child, ECHILD with nothing to wait
 * for, execve() of this same program (argv[0]) with arguments and environment, a failed
 * execve() (ENOENT), and copy-on-write memory after fork.
 *   fork-exec-wait            run every check
 *   fork-exec-wait exec A B   the re-executed image: prints its arguments and exits 42
 */
#include "common.h"
#include <fcntl.h>
#include <sys/auxv.h>

static int exec_image(int argc, char **argv) {
  for (int i = 2; i < argc; i++) say("exec: arg %d = %s", i - 1, argv[i]);
  const char *v = getenv("BEHAVIOUR_VAR");
  say("exec: BEHAVIOUR_VAR = %s", v ? v : "(unset)");
  return 42;
}

/* execfn_image runs as a script's interpreter: AT_EXECFN must name the script (the path
 * given to execve), argv the interpreter's argument and then the script. */
static int execfn_image(int argc, char **argv) {
  const char *fn = (const char *)getauxval(AT_EXECFN);
  say("script: AT_EXECFN is the script: %s, argv[2] is the script: %s", fn && argc > 2 && strcmp(fn, argv[2]) == 0 ? "yes" : "no",
      argc > 2 && strstr(argv[2], "behaviour-script-") ? "yes" : "no");
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "exec") == 0) return exec_image(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "execfn") == 0) return execfn_image(argc, argv);
  char buf[64];

  /* A #! script whose interpreter is this program. */
  {
    char self[512], script[64], text[600];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    check(n > 0, "readlink /proc/self/exe");
    self[n] = 0;
    snprintf(script, sizeof(script), "/tmp/behaviour-script-%d", (int)getpid());
    int fd = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    check(fd >= 0, "create script");
    int len = snprintf(text, sizeof(text), "#!%s execfn\n", self);
    check(write(fd, text, (size_t)len) == len, "write script");
    close(fd);
    pid_t c = fork();
    check(c >= 0, "fork");
    if (c == 0) {
      char *args[] = {script, NULL};
      execv(script, args);
      _exit(127);
    }
    int st;
    check(waitpid(c, &st, 0) == c, "waitpid");
    say("script child: %s", describe_status(st, buf, sizeof(buf)));
    unlink(script);
  }

  /* Three children exit 3, 1, 2; reaped in reverse creation order by pid. */
  pid_t kids[3];
  int codes[3] = {3, 1, 2};
  for (int i = 0; i < 3; i++) {
    kids[i] = fork();
    check(kids[i] >= 0, "fork");
    if (kids[i] == 0) _exit(codes[i]);
  }
  for (int i = 2; i >= 0; i--) {
    int st;
    check(waitpid(kids[i], &st, 0) == kids[i], "waitpid");
    say("child %d: %s", i, describe_status(st, buf, sizeof(buf)));
  }

  /* Copy-on-write: the child's write is invisible to the parent. */
  static int shared_value = 1;
  pid_t p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    shared_value = 2;
    _exit(shared_value == 2 ? 0 : 1);
  }
  int st;
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("cow: child %s, parent still sees %d", describe_status(st, buf, sizeof(buf)), shared_value);

  /* A child blocked in pause(): WNOHANG returns 0, then SIGKILL kills it. */
  p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    for (;;) pause();
  }
  say("wnohang on a running child: %d", (int)waitpid(p, &st, WNOHANG));
  check(kill(p, SIGKILL) == 0, "kill");
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("killed child: %s", describe_status(st, buf, sizeof(buf)));

  /* Nothing left to wait for. */
  errno = 0;
  long r = wait(&st);
  say("wait with no children: %ld %s", r, errname(errno));

  /* getpid/getppid relations, printed as booleans. */
  pid_t parent = getpid();
  p = fork();
  check(p >= 0, "fork");
  if (p == 0) _exit(getppid() == parent && getpid() != parent ? 0 : 1);
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("child sees parent as getppid: %s", WEXITSTATUS(st) == 0 ? "yes" : "no");

  /* execve of this program with arguments and an environment. */
  p = fork();
  check(p >= 0, "fork");
  if (p == 0) {
    char *args[] = {argv[0], "exec", "one", "two words", NULL};
    char *env[] = {"BEHAVIOUR_VAR=from-parent", NULL};
    execve(argv[0], args, env);
    _exit(99);
  }
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("exec child: %s", describe_status(st, buf, sizeof(buf)));

  /* execve of a missing file fails with ENOENT and the process goes on. */
  char *none[] = {"/nonexistent/program", NULL};
  r = execve(none[0], none, none + 1);
  say("execve missing: %ld %s", r, errname(errno));

  /* vfork-style: the child execs immediately (posix_spawn semantics via vfork). */
  p = vfork();
  check(p >= 0, "vfork");
  if (p == 0) {
    char *args[] = {argv[0], "exec", "vforked", NULL};
    char *env[] = {NULL};
    execve(argv[0], args, env);
    _exit(98);
  }
  check(waitpid(p, &st, 0) == p, "waitpid");
  say("vfork child: %s", describe_status(st, buf, sizeof(buf)));
  say("done");
  return 0;
}
