/*
 * cow-exec: a program's pages are shared copy-on-write by every process running it (and
 * with its file's page cache): a process that makes a read-only page of its own image
 * writable and changes it must change only its own copy. The program changes a constant
 * in its .rodata page, then runs itself again (fork + execve of argv[0]) and through a
 * second fork without exec: the new image reads the original, the forked child the change.
 *   cow-exec           (runs the checks)
 *   cow-exec check     (prints the constant)
 */
#include "../../behaviour/programs/common.h"
#include <stdint.h>
#include <sys/mman.h>

static const char marker[4096] __attribute__((aligned(4096))) = "original marker";

/* readMarker reads the constant through a volatile pointer (the compiler may not fold it). */
static const char *readMarker(void) {
  const char *volatile p = marker;
  return p;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "check") == 0) {
    say("a new run of the program reads: %s", readMarker());
    return 0;
  }
  void *page = (void *)((uintptr_t)marker & ~(uintptr_t)4095);
  check(mprotect(page, 4096, PROT_READ | PROT_WRITE) == 0, "mprotect");
  strcpy((char *)readMarker(), "changed by the first process");
  say("the changing process reads: %s", readMarker());
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    execl(argv[0], argv[0], "check", (char *)NULL);
    _exit(127);
  }
  int st;
  check(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "exec'd run");
  pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    say("a forked child reads: %s", readMarker());
    _exit(0);
  }
  check(waitpid(pid, &st, 0) == pid, "waitpid");
  say("done");
  return 0;
}
