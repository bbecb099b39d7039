/* host-frame prints where the host kernel put an rt_sigframe, for signal-frame-host.test.ts. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static void handler(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  /* Built with -O0 -fno-omit-frame-pointer: rbp = rsp at entry - 8. */
  uint64_t entry = (uint64_t)__builtin_frame_address(0) + 8;
  uint64_t fp = (uint64_t)uc->uc_mcontext.fpregs;
  uint32_t *sw = (uint32_t *)(fp + 464);
  printf("entry %lu\nuc %lu\ninfo %lu\nrsp %lu\nfp %lu\nmagic1 %u\nextended %u\nxsize %u\nucflags %lu\n"
         "signo %d\ncode %d\npid %d\nxfeatures %lu\n",
         entry, (uint64_t)uc, (uint64_t)si, (uint64_t)uc->uc_mcontext.gregs[REG_RSP], fp, sw[0], sw[1], sw[4],
         uc->uc_flags, si->si_signo, si->si_code, si->si_pid, *(uint64_t *)(fp + 472));
  fflush(stdout);
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, NULL);
  syscall(SYS_kill, getpid(), SIGUSR1);
  return 0;
}
