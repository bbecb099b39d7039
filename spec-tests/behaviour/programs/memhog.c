/*
 * memhog: allocates and touches N MiB (argv[1], default 256) one MiB at a time, then
 * prints "touched N MiB". Under a memory limit smaller than N the OOM killer ends it
 * (SIGKILL) before it prints; with "small" as argv[2] it touches 4 MiB and sleeps
 * argv[1] seconds instead, then prints "small survived".
 */
#include "common.h"

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[2], "small") == 0) {
    char *p = malloc(4 << 20);
    check(p != NULL, "malloc");
    memset(p, 1, 4 << 20);
    sleep((unsigned)atoi(argv[1]));
    say("small survived");
    return 0;
  }
  size_t mb = argc > 1 ? (size_t)atoi(argv[1]) : 256;
  for (size_t i = 0; i < mb; i++) {
    char *p = malloc(1 << 20);
    if (!p) {
      say("malloc failed at %zu MiB", i);
      return 1;
    }
    memset(p, 1, 1 << 20);
  }
  say("touched %zu MiB", mb);
  return 0;
}
