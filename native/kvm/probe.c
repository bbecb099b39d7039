/*
 * probe: the KVM platform's self-check and raw exit loop, in C (no Node). It builds the
 * machine of vm.h over a memfd, runs a CPL 3 program, and checks the paths the platform
 * relies on: a syscall exits with its registers and resumes; a page fault exits with vector
 * 14, the error code and CR2; a privileged instruction is #GP; a remapped page is seen
 * after a flush. Then it times trapped syscall round trips.
 *
 *   probe [-n N] [-d /dev/kvm]   prints one line per check, then "kvm syscall round trip:
 *                                X us" and "kvm fault round trip: Y us" (a #PF, resumed
 *                                through the trampoline's iretq); exit 0 when
 *                                every check passed, 1 otherwise (the reason on stderr).
 */
#include "vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

extern const unsigned char guest_start[], guest_loop[], guest_read[], guest_fault[], guest_priv[], guest_entry[], guest_end[];
__asm__(".pushsection .rodata\n"
        ".globl guest_start, guest_loop, guest_read, guest_fault, guest_priv, guest_entry, guest_end\n"
        "guest_start:\n"
        "guest_loop: mov $110, %eax\n syscall\n jmp guest_loop\n"
        "guest_read: mov 0x600000, %rdi\n mov $1001, %eax\n syscall\n jmp guest_read\n"
        "guest_fault: mov 0xdead000, %rax\n ud2\n"
        "guest_priv: hlt\n ud2\n"
        "guest_entry: mov $0x1234, %ecx\n movabs $0xffffffffffe03000, %rax\n jmp *%rax\n"
        "guest_end:\n"
        ".popsection\n");

#define CODE 0x400000ULL
#define DATA 0x600000ULL
#define STACK 0x7ff000ULL

static int failures;

static void check(int ok, const char *what) {
  printf("%s: %s\n", what, ok ? "ok" : "FAILED");
  if (!ok) failures++;
}

/* run switches in and goes on past the ends of time slices (10 ms of this thread's CPU,
 * which a slow host, such as a nested guest under TCG, can spend before one instruction). */
static int run(struct kvm_vcpu *c, uint64_t cr3, int flush, struct kvm_user_regs *u, struct kvm_event *ev) {
  int k;
  while ((k = kvm_vcpu_switch(c, cr3, flush, u, ev)) == EV_INTERRUPTED) {
  }
  return k;
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  const char *dev = "/dev/kvm";
  long n = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "-n")) n = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "-d")) dev = argv[i + 1];
  }
  int memfd = memfd_create("kvm-probe", MFD_CLOEXEC);
  if (memfd < 0 || ftruncate(memfd, 4 << 20) < 0) return perror("memfd"), 1;
  struct kvm_vm *vm = kvm_vm_open(dev, memfd, 64ULL << 30);
  if (!vm) return fprintf(stderr, "probe: %s\n", kvm_vm_error()), 1;
  check(kvm_vm_selfcheck(vm) == 0, "the start-up self-check passes (CPL 3 syscall, then ud2)");
  if (failures) fprintf(stderr, "probe: %s\n", kvm_vm_error());
  memcpy(vm->mem, guest_start, (size_t)(guest_end - guest_start));
  memset(vm->mem + 0x1000, 0x11, 4096);
  memset(vm->mem + 0x2000, 0x22, 4096);
  int64_t cr3 = kvm_as_new(vm);
  if (cr3 < 0 || kvm_as_map(vm, (uint64_t)cr3, CODE, 0, 4096, 5) || kvm_as_map(vm, (uint64_t)cr3, DATA, 0x1000, 4096, 1) ||
      kvm_as_map(vm, (uint64_t)cr3, STACK - 4096, 0x3000, 4096, 3))
    return fprintf(stderr, "probe: page tables: %s\n", kvm_vm_error()), 1;
  struct kvm_vcpu *c = kvm_vcpu_new(vm);
  if (!c) return fprintf(stderr, "probe: %s\n", kvm_vm_error()), 1;
  kvm_thread_signals();
  struct kvm_user_regs u = {0};
  struct kvm_event ev;
  u.rsp = STACK;
  u.eflags = 0x202;

  u.rip = CODE + (uint64_t)(guest_loop - guest_start);
  int k = run(c, (uint64_t)cr3, 0, &u, &ev);
  check(k == EV_SYSCALL && u.orig_rax == 110 && u.rip == CODE + (uint64_t)(guest_loop - guest_start) + 7, "syscall exits with its number and return address");
  if (k == EV_EXITED) fprintf(stderr, "probe: %s\n", kvm_vm_error());
  printf("syscall runs LSTAR at CPL %d\n", vm->syscall_cpl);

  u.rip = CODE + (uint64_t)(guest_read - guest_start);
  k = run(c, (uint64_t)cr3, 0, &u, &ev);
  check(k == EV_SYSCALL && u.rdi == 0x1111111111111111ULL, "a user page reads through the page tables");
  kvm_as_map(vm, (uint64_t)cr3, DATA, 0x2000, 4096, 1);
  double t0 = now_us();
  int fl = kvm_as_unmap(vm, (uint64_t)cr3, DATA + 4096, 4096); /* nothing there: no flush */
  kvm_as_protect(vm, (uint64_t)cr3, DATA, 4096, 3);
  double flush_us = now_us() - t0;
  u.rip = CODE + (uint64_t)(guest_read - guest_start);
  k = run(c, (uint64_t)cr3, 1, &u, &ev);
  check(fl == 0 && k == EV_SYSCALL && u.rdi == 0x2222222222222222ULL, "a remapped page is seen after the flush");
  printf("flush: %.0f us\n", flush_us);

  u.rip = CODE + (uint64_t)(guest_fault - guest_start);
  k = run(c, (uint64_t)cr3, 1, &u, &ev);
  check(k == EV_FAULT && ev.vector == 14 && ev.cr2 == 0xdead000 && (ev.error_code & 7) == 4 && u.rip == CODE + (uint64_t)(guest_fault - guest_start),
        "a load from an unmapped page is #PF with CR2 and a user read error code");
  k = run(c, (uint64_t)cr3, 1, &u, &ev);
  check(k == EV_FAULT && ev.vector == 14, "the faulting instruction is retried after an iret");
  u.rip = CODE + (uint64_t)(guest_priv - guest_start);
  k = run(c, (uint64_t)cr3, 1, &u, &ev);
  check(k == EV_FAULT && ev.vector == 13, "hlt at CPL 3 is #GP");
  u.rip = ENTRY_VA - 0x1000 + 0; /* the trampoline's code page: supervisor only */
  k = run(c, (uint64_t)cr3, 1, &u, &ev);
  check(k == EV_FAULT && ev.vector == 14 && ev.cr2 == ENTRY_VA - 0x1000 && (ev.error_code & 0x15) == 0x15, "a jump into the trampoline is an execute #PF");

  u.rip = CODE + (uint64_t)(guest_entry - guest_start);
  k = run(c, (uint64_t)cr3, 1, &u, &ev);
  check(k == EV_FAULT && ev.vector == 14 && ev.cr2 == ENTRY_VA && u.rip == ENTRY_VA, "a jump to the syscall entry page is an execute #PF there");

  for (int mode = 0; mode < 2; mode++) {
    /* mode 0: syscalls (kvm_pvm resumes at CPL 3); mode 1: page faults (resumed through iretq). */
    u.rip = CODE + (uint64_t)((mode ? guest_fault : guest_loop) - guest_start);
    run(c, (uint64_t)cr3, 1, &u, &ev);
    double t = now_us();
    long done = 0;
    for (; done < n; done++) {
      u.rax = 0;
      if (kvm_vcpu_switch(c, (uint64_t)cr3, 1, &u, &ev) != (mode ? EV_FAULT : EV_SYSCALL)) {
        if (ev.signal) continue;
        fprintf(stderr, "probe: round trip %ld: %s\n", done, kvm_vm_error());
        return 1;
      }
    }
    printf("kvm %s round trip: %.2f us\n", mode ? "fault" : "syscall", (now_us() - t) / (double)n);
  }
  kvm_vcpu_free(c);
  kvm_as_free(vm, (uint64_t)cr3);
  kvm_vm_close(vm);
  return failures ? 1 : 0;
}
