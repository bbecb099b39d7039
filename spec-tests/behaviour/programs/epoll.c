/*
 * epoll: readiness notification, and eventfd.
 *
 * Level-triggered entries on a pipe (reported while data is there), edge-triggered ones
 * (reported once per new write), EPOLLONESHOT until EPOLL_CTL_MOD, EPOLL_CTL_DEL, EPOLLHUP
 * when the writer closes, a nested epoll, a child's write waking a blocked epoll_wait,
 * a timeout, an entry outliving its fd through a dup, eventfd counting and semaphore mode, and the error cases.
 */
#include "common.h"
#include <fcntl.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

static int wait_ready(int ep, int timeout, uint64_t *data, uint32_t *events) {
  struct epoll_event ev[4];
  int n = epoll_wait(ep, ev, 4, timeout);
  if (n > 0 && data) *data = ev[0].data.u64;
  if (n > 0 && events) *events = ev[0].events;
  return n;
}

int main(void) {
  int p[2];
  check(pipe(p) == 0, "pipe");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  check(ep >= 0, "epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ULL};
  check(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "add");
  say("empty pipe, timeout 0: %d", wait_ready(ep, 0, NULL, NULL));
  check(write(p[1], "ab", 2) == 2, "write");
  uint64_t data = 0;
  uint32_t events = 0;
  int n = wait_ready(ep, 0, &data, &events);
  say("level: %d ready, data %llx, EPOLLIN %s", n, (unsigned long long)data, events & EPOLLIN ? "yes" : "no");
  say("level again without reading: %d", wait_ready(ep, 0, NULL, NULL));

  /* Edge-triggered: once per write. */
  ev.events = EPOLLIN | EPOLLET;
  check(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0, "mod et");
  int first = wait_ready(ep, 0, NULL, NULL), second = wait_ready(ep, 0, NULL, NULL);
  check(write(p[1], "c", 1) == 1, "write");
  say("edge: %d then %d, after a new write %d", first, second, wait_ready(ep, 0, NULL, NULL));

  /* Oneshot: disabled after one report, enabled again by MOD. */
  ev.events = EPOLLIN | EPOLLONESHOT;
  check(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0, "mod oneshot");
  first = wait_ready(ep, 0, NULL, NULL);
  second = wait_ready(ep, 0, NULL, NULL);
  check(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0, "mod again");
  say("oneshot: %d then %d, after MOD %d", first, second, wait_ready(ep, 0, NULL, NULL));

  /* Nested: an epoll watching the first one. */
  ev.events = EPOLLIN;
  check(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0, "mod level");
  int outer = epoll_create1(0);
  struct epoll_event oev = {.events = EPOLLIN, .data.u64 = 7};
  check(epoll_ctl(outer, EPOLL_CTL_ADD, ep, &oev) == 0, "add nested");
  n = wait_ready(outer, 0, &data, NULL);
  say("nested: %d ready, data %llu; loop: %s", n, (unsigned long long)data,
      epoll_ctl(ep, EPOLL_CTL_ADD, outer, &oev) == -1 ? errname(errno) : "added");

  /* Drain, then a child writes while the parent waits. */
  char buf[8];
  check(read(p[0], buf, sizeof(buf)) == 3, "drain");
  pid_t c = fork();
  check(c >= 0, "fork");
  if (c == 0) {
    usleep(50000);
    _exit(write(p[1], "z", 1) == 1 ? 0 : 1);
  }
  n = wait_ready(ep, 5000, &data, NULL);
  int st;
  check(waitpid(c, &st, 0) == c, "waitpid");
  say("woken by the child's write: %d", n);
  check(read(p[0], buf, 1) == 1, "read z");

  /* The writer closes: EPOLLHUP. */
  close(p[1]);
  n = wait_ready(ep, 0, NULL, &events);
  say("writer closed: %d ready, EPOLLHUP %s", n, events & EPOLLHUP ? "yes" : "no");

  /* DEL, then nothing; a timeout. */
  check(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == 0, "del");
  say("after DEL, 30 ms timeout: %d", wait_ready(ep, 30, NULL, NULL));

  /* Errors. */
  int reg = open("/proc/self/exe", O_RDONLY);
  const char *e_ne = epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) == -1 ? errname(errno) : "0";
  ev.events = EPOLLIN;
  check(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0, "re-add");
  const char *e_ex = epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == -1 ? errname(errno) : "0";
  const char *e_self = epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev) == -1 ? errname(errno) : "0";
  const char *e_bad = epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev) == -1 ? errname(errno) : "0";
  const char *e_notep = epoll_ctl(p[0], EPOLL_CTL_ADD, ep, &ev) == -1 ? errname(errno) : "0";
  const char *e_max = epoll_wait(ep, &ev, 0, 0) == -1 ? errname(errno) : "0";
  say("errors: DEL absent %s, ADD twice %s, self %s, bad fd %s, not epoll %s, maxevents 0 %s", e_ne, e_ex, e_self, e_bad, e_notep, e_max);
  say("regular file: %s", reg >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev) == -1 ? errname(errno) : "added");

  /* An entry lives as long as its file description: closing the fd while a dup keeps the
   * description open leaves it in place; closing the last one removes it. */
  int q[2];
  check(pipe(q) == 0, "pipe");
  int qdup = dup(q[0]);
  struct epoll_event qev = {.events = EPOLLIN, .data.u64 = 9};
  int ep3 = epoll_create1(0);
  check(epoll_ctl(ep3, EPOLL_CTL_ADD, q[0], &qev) == 0, "add q");
  close(q[0]);
  check(write(q[1], "x", 1) == 1, "write q");
  first = wait_ready(ep3, 0, &data, NULL);
  close(qdup);
  say("fd closed, dup open: %d ready (data %llu); dup closed too: %d", first, (unsigned long long)data, wait_ready(ep3, 0, NULL, NULL));

  /* eventfd. */
  int efd = eventfd(3, EFD_NONBLOCK);
  uint64_t v = 0;
  check(read(efd, &v, 8) == 8, "eventfd read");
  say("eventfd: read %llu, then %s", (unsigned long long)v, read(efd, &v, 8) == -1 ? errname(errno) : "data");
  v = 5;
  check(write(efd, &v, 8) == 8, "eventfd write");
  check(write(efd, &v, 8) == 8, "eventfd write");
  check(read(efd, &v, 8) == 8, "eventfd read");
  say("eventfd: two writes of 5 read as %llu; short read %s", (unsigned long long)v, read(efd, &v, 4) == -1 ? errname(errno) : "ok");
  int sem = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
  uint64_t a = 0, b = 0;
  check(read(sem, &a, 8) == 8 && read(sem, &b, 8) == 8, "sem reads");
  say("semaphore: %llu %llu, then %s", (unsigned long long)a, (unsigned long long)b, read(sem, &v, 8) == -1 ? errname(errno) : "data");
  struct epoll_event eev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = 42};
  int ep2 = epoll_create(1);
  check(epoll_ctl(ep2, EPOLL_CTL_ADD, sem, &eev) == 0, "add eventfd");
  n = wait_ready(ep2, 0, &data, &events);
  say("eventfd in epoll: %d ready, IN %s OUT %s", n, events & EPOLLIN ? "yes" : "no", events & EPOLLOUT ? "yes" : "no");

  /* Round-robin: three always-ready level-triggered entries, one event per wait. */
  int rr = epoll_create1(0);
  for (int i = 0; i < 3; i++) {
    int e = eventfd(1, EFD_NONBLOCK);
    struct epoll_event rev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
    check(epoll_ctl(rr, EPOLL_CTL_ADD, e, &rev) == 0, "add rr");
  }
  char order[16] = {0};
  for (int i = 0; i < 6; i++) {
    struct epoll_event one;
    check(epoll_wait(rr, &one, 1, 0) == 1, "rr wait");
    order[i] = (char)('0' + one.data.u64);
  }
  say("round-robin, maxevents 1: %s", order);
  say("done");
  return 0;
}
