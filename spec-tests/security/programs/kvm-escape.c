/*
 * kvm-escape: try each way out of user mode of a virtual machine, each in a child process
 * of its own: privileged instructions (hlt, out, in, wrmsr, rdmsr, mov to and from %cr3,
 * lgdt, lidt, cli), a jump into, a load from and a store to the KVM platform's trampoline
 * and syscall-entry pages (fixed addresses at the top of the address space, where Linux
 * has its kernel: natively every one of these faults), then int $0x80 and sysenter (last:
 * natively int $0x80 is the 32-bit syscall entry and sysenter depends on the CPU vendor). A line per
 * attempt prints how the child ended; the last line says whether the parent's syscalls
 * still answer.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRAMPOLINE 0xffffffffffe02000UL /* native/kvm/vm.h CODE_VA */
#define ENTRY 0xffffffffffe03000UL      /* ENTRY_VA: LSTAR */
#define IDT 0xffffffffffe01000UL
#define MMIO 0xffffffffffe04000UL

static void attempt(int n) {
  switch (n) {
  case 0: __asm__ volatile("hlt"); break;
  case 1: __asm__ volatile("outb %%al, $0x80" ::"a"(0)); break;
  case 2: { uint8_t v; __asm__ volatile("inb $0x80, %%al" : "=a"(v)); break; }
  case 3: __asm__ volatile("wrmsr" ::"c"(0xc0000082), "a"(0), "d"(0)); break;
  case 4: { uint32_t lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000082)); break; }
  case 5: __asm__ volatile("mov %0, %%cr3" ::"r"(0UL)); break;
  case 6: { unsigned long v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); break; }
  case 7: { struct __attribute__((packed)) { uint16_t l; uint64_t b; } d = {0, 0}; __asm__ volatile("lgdt %0" ::"m"(d)); break; }
  case 8: { struct __attribute__((packed)) { uint16_t l; uint64_t b; } d = {0, 0}; __asm__ volatile("lidt %0" ::"m"(d)); break; }
  case 9: __asm__ volatile("cli"); break;
  case 10: ((void (*)(void))TRAMPOLINE)(); break;
  case 11: *(volatile uint8_t *)TRAMPOLINE = 0x90; break;
  case 12: (void)*(volatile uint64_t *)IDT; break;
  case 13: __asm__ volatile("mov $39, %%eax\n\tmov $0x1234, %%rcx\n\tjmp *%0" ::"r"(ENTRY) : "rax", "rcx", "r11", "memory"); break;
  case 14: *(volatile uint8_t *)MMIO = 1; break;
  case 15: (void)*(volatile uint8_t *)MMIO; break;
  case 16: *(volatile uint8_t *)ENTRY = 0x90; break;
  /* Not faults natively: int $0x80 is the 32-bit syscall entry (here exit(7)), sysenter differs by vendor. */
  case 17: __asm__ volatile("int $0x80" ::"a"(1), "b"(7)); break;
  case 18: __asm__ volatile("sysenter" ::"a"(1), "b"(7)); break;
  }
  _exit(0);
}

static const char *names[] = {"hlt", "out", "in", "wrmsr", "rdmsr", "mov to cr3", "mov from cr3", "lgdt", "lidt", "cli",
                              "jump into the trampoline", "store to the trampoline", "load from the IDT", "jump to the syscall entry",
                              "store to the MMIO page", "load from the MMIO page", "store to the syscall entry", "int 0x80", "sysenter"};

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int n = 0; n < (int)(sizeof names / sizeof *names); n++) {
    pid_t p = fork();
    if (p == 0) attempt(n);
    int st = 0;
    waitpid(p, &st, 0);
    if (WIFSIGNALED(st)) printf("%s: signal %d\n", names[n], WTERMSIG(st));
    else printf("%s: exit %d\n", names[n], WEXITSTATUS(st));
  }
  printf("parent's syscalls answer: %s\n", getpid() > 0 && getuid() != (uid_t)-1 ? "yes" : "no");
  return 0;
}
