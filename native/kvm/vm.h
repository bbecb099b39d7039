/*
 * vm.h: the KVM machine tvisor runs application code in (used by the addon, addon.cc, and by
 * the start-up self-check and benchmark, probe.c). The sentry stays outside the guest: the
 * guest's only supervisor code is one instruction per exception vector, and every syscall
 * and exception leaves the VM to the host.
 *
 * Guest physical memory:
 *   [0, memSize)          the sandbox's memory file (one memslot over the host's own
 *                         MAP_SHARED mapping of the memfd; pages past its end are never
 *                         mapped by a page table)
 *   SYS_GPA + [0, SYS_SIZE) (half the guest's physical address space) the system region:
 *                         GDT, IDT, trampoline code, the syscall entry page, per-vCPU TSS +
 *                         exception stack, then a pool of page-table pages. No application
 *                         mapping ever points here.
 *   FLUSH_GPA             one page right after it, deleted and re-added to flush (vm.c)
 *   MMIO_GPA              the last page, in no memslot: a store there is a KVM_EXIT_MMIO at any CPL.
 *
 * Guest virtual memory: the user half (PML4 entries 0..255) is each address space's own;
 * the top 2 MiB (SYS_VA) map the system region's fixed pages, supervisor-only except the
 * syscall entry page (user read+execute: kvm_pvm runs LSTAR at CPL 3) and the MMIO page.
 *
 * Syscall: LSTAR = the entry page, whose one instruction stores %al to the MMIO page
 * (`movabs %al, MMIO_VA`): on standard KVM it runs at CPL 0 after `syscall`, on kvm_pvm at
 * CPL 3; either way the host gets KVM_EXIT_MMIO with rip just past it, rcx = the return
 * address, r11 = rflags. Exceptions: every IDT gate uses IST 1 (the vCPU's own stack in
 * its page) and its handler is `out %al, $vector`: KVM_EXIT_IO names the vector; the
 * hardware frame (error code, rip, cs, rflags, rsp, ss) is read from that stack and CR2
 * from the synced sregs. Resume: at CPL 3 the host just sets the registers; at CPL 0 it
 * writes an iret frame on the vCPU stack and starts the vCPU at an `iretq`.
 */
#ifndef TVISOR_KVM_VM_H
#define TVISOR_KVM_VM_H

#include <stdint.h>
#include <stddef.h>
#include <pthread.h>
#include <linux/kvm.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KVM_PAGE 4096ULL
/* Guest-physical layout, from the guest's MAXPHYADDR (2^bits): the memory file from 0 (at
 * most half of it), the system region at half, the flush slot after it, the MMIO page last. */
#define SYS_GPA (vm->sys_gpa)
#define MMIO_GPA (vm->mmio_gpa)
#define FLUSH_GPA (vm->sys_gpa + SYS_SIZE)
#define SYS_SIZE (256ULL << 20)     /* fixed pages (2 MiB) + page-table pool */
#define SYS_FIXED (2ULL << 20)
#define SYS_VA 0xffffffffffe00000ULL /* top 2 MiB of the address space */

/* Fixed pages of the system region (index = page number from SYS_GPA and SYS_VA). */
enum {
  PG_GDT = 0,
  PG_IDT = 1,
  PG_CODE = 2,    /* exception handlers + iretq: supervisor, execute */
  PG_ENTRY = 3,   /* syscall entry: user, read + execute */
  PG_MMIO = 4,    /* maps MMIO_GPA: user, write */
  PG_PML4K = 5,   /* not mapped: the kernel half's PDPT, PD, PT */
  PG_PDPTK = 6,
  PG_PDK = 7,
  PG_PTK = 8,
  PG_CHECK = 9,   /* not mapped in the kernel half: the self-check's user code (`syscall; ud2`) */
  PG_VCPU0 = 16,  /* vCPU i: TSS at 0, exception stack up to the page end */
  MAX_VCPUS = 480,
};

#define CODE_VA (SYS_VA + PG_CODE * KVM_PAGE)
#define HANDLER_STRIDE 4
#define IRETQ_VA (CODE_VA + 0x400)
#define ENTRY_VA (SYS_VA + PG_ENTRY * KVM_PAGE)
#define ENTRY_LEN 9 /* movabs %al, moffs64 */
#define MMIO_VA (SYS_VA + PG_MMIO * KVM_PAGE)
#define TRAMPOLINE_END (SYS_VA + PG_VCPU0 * KVM_PAGE)

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x2b
#define SEL_UCODE 0x33
#define SEL_TSS 0x40

/* Event kinds vcpu_switch returns (mirrored by platform/kvm/kvm.ts). */
enum {
  EV_SYSCALL = 0,
  EV_FAULT = 1,       /* info: vector, error code, cr2 */
  EV_INTERRUPTED = 2, /* info: signal */
  EV_EXITED = 3,      /* the vCPU cannot run on; info: reason text in kvm_vm_error */
};

/* kvm_user_regs is struct user_regs_struct (sys/user.h). */
struct kvm_user_regs {
  uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss,
      fs_base, gs_base, ds, es, fs, gs;
};

/* kvm_event is what vcpu_switch reports besides its kind. */
struct kvm_event {
  int32_t vector;
  int32_t signal; /* EV_INTERRUPTED: the host signal */
  uint64_t error_code;
  uint64_t cr2;
  uint64_t rip_at; /* where the guest was when it stopped */
};

struct kvm_vm {
  int kvm_fd, vm_fd;
  int run_size;
  uint8_t *sys;        /* host mapping of the system region */
  uint8_t *mem;        /* host mapping of the memory file */
  uint64_t mem_size;
  uint64_t sys_gpa, mmio_gpa;
  struct kvm_cpuid2 *cpuid;
  uint64_t xcr0;
  uint32_t xsave_size; /* bytes of the XSAVE image the guest's XCR0 enables */
  pthread_mutex_t lock; /* page pool and vCPU slots */
  uint32_t *free_pages; /* stack of free page-table pages (page numbers in the region) */
  uint32_t nfree;
  uint8_t vcpu_used[MAX_VCPUS];
  /* KVM never destroys a vCPU before its VM: freed vCPUs wait here to be reused. */
  struct kvm_vcpu *idle[MAX_VCPUS];
  int nidle;
  int syscall_cpl; /* CPL at which LSTAR code ran (3 on kvm_pvm, 0 on VT-x/SVM); -1 unknown */
};

struct kvm_vcpu {
  struct kvm_vm *vm;
  int fd;
  int index;
  struct kvm_run *run;
  int cpl0;          /* the vCPU stopped in supervisor mode: resume through iretq */
  uint64_t cr3;      /* the page table root loaded */
  uint64_t cr3_gen;  /* the address space generation loaded (TLB flush when it changes) */
  int pending;       /* a signal to report before running (interrupt() between switches) */
  volatile int *interrupt_flag; /* optional: set from any thread to interrupt */
  int broken;        /* a switch ended in EV_EXITED: freed, not pooled */
  uint64_t cpu_ns;   /* thread CPU time spent in kvm_vcpu_switch since the vCPU was taken (guest time included) */
};

/* kvm_vm_error holds the last error of this thread ("what: why"). */
const char *kvm_vm_error(void);

/* kvm_vm_open opens `dev`, creates the VM over memfd `memfd` (up to mem_size bytes) and its system region; NULL on error. */
struct kvm_vm *kvm_vm_open(const char *dev, int memfd, uint64_t mem_size);
/* kvm_vm_selfcheck runs a CPL 3 `syscall` and `ud2` on a vCPU of vm: 0, or -1 with kvm_vm_error() saying what went wrong. */
int kvm_vm_selfcheck(struct kvm_vm *vm);
void kvm_vm_close(struct kvm_vm *vm);

/* Address spaces: a PML4 page of the system region (its guest-physical address is the CR3). */
int64_t kvm_as_new(struct kvm_vm *vm);
void kvm_as_free(struct kvm_vm *vm, uint64_t cr3);
/* kvm_as_map maps [va, va+len) to memory-file offset off with PROT_* prot; -errno on error. */
int kvm_as_map(struct kvm_vm *vm, uint64_t cr3, uint64_t va, uint64_t off, uint64_t len, int prot);
int kvm_as_unmap(struct kvm_vm *vm, uint64_t cr3, uint64_t va, uint64_t len);
int kvm_as_protect(struct kvm_vm *vm, uint64_t cr3, uint64_t va, uint64_t len, int prot);

struct kvm_vcpu *kvm_vcpu_new(struct kvm_vm *vm);
void kvm_vcpu_free(struct kvm_vcpu *c);
/* kvm_vcpu_switch runs regs (and fs/gs base) in address space cr3 until the next event; a gen other than the last one reloads CR3. */
int kvm_vcpu_switch(struct kvm_vcpu *c, uint64_t cr3, uint64_t gen, struct kvm_user_regs *regs, struct kvm_event *ev);
int kvm_vcpu_get_xsave(struct kvm_vcpu *c, void *buf, size_t len);
int kvm_vcpu_set_xsave(struct kvm_vcpu *c, const void *buf, size_t len);
/* kvm_init_xsave writes the XSAVE image of a fresh task (len = vm->xsave_size). */
void kvm_init_xsave(void *buf, size_t len);
/* kvm_thread_signals installs the interrupt (SIGUSR2) and time-slice (SIGVTALRM, 10 ms of thread CPU) handlers for this thread. */
int kvm_thread_signals(void);
/* kvm_thread_signals_done is a context's end on this thread: the last one disarms the slice timer. */
void kvm_thread_signals_done(void);

#ifdef __cplusplus
}
#endif
#endif
