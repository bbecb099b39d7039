/*
 * kvm-exit-loop: the C reference figure of the KVM platform, and the "does /dev/kvm work
 * here" probe of `make test-kvm`.
 *
 * It builds the smallest guest the KVM platform needs: 64-bit long mode with 4-level
 * paging (EFER.LME/LMA, CR4.PAE, CR0.PG), entered directly at CPL 3 (no guest ring-0 code
 * at all: kvm_pvm emulates ring 0 one instruction at a time), whose user code stores to a
 * page that maps a guest-physical address in no memory slot, in a loop. Each store leaves
 * the guest as KVM_EXIT_MMIO, on standard KVM (VT-x/SVM, as in the QEMU test VM of
 * scripts/kvm-vm) and on kvm_pvm alike, at any CPL; `out` would need IOPL 3 and a #GP-free
 * path on each. The figure is microseconds per exit: KVM_RUN to KVM_RUN, one exit each.
 *
 *   kvm-exit-loop [--iterations N]   print "<N> exits ...: <us> us per exit"
 *   kvm-exit-loop --check            exit 0 only if /dev/kvm runs this guest: long mode,
 *                                    user code at CPL 3, exits back with the stored values
 *                                    (within 20 s; the loop gets 600 s)
 *
 * Guest-physical layout (one slot of 64 KiB at 0): 0x1000 PML4, 0x2000 PDPT, 0x3000 PD,
 * 0x4000 PT, 0x5000 user code, 0x6000 user stack, 0x7000 GDT, 0x8000 TSS. Virtual
 * addresses are the same (identity-mapped 4 KiB pages) except USER_MMIO_VA, which maps
 * MMIO_GPA, past the slot's end. Any exception in the guest (the IDT is empty) is a triple
 * fault, reported as KVM_EXIT_SHUTDOWN.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE 0x10000UL
#define PML4_GPA 0x1000UL
#define PDPT_GPA 0x2000UL
#define PD_GPA 0x3000UL
#define PT_GPA 0x4000UL
#define CODE_GPA 0x5000UL
#define STACK_GPA 0x6000UL
#define GDT_GPA 0x7000UL
#define TSS_GPA 0x8000UL
#define MMIO_GPA 0x100000UL /* in no slot: every access is an MMIO exit */
#define USER_MMIO_VA 0x10000UL

#define PTE_P (1UL << 0)
#define PTE_W (1UL << 1)
#define PTE_U (1UL << 2)
#define PTE_NX (1UL << 63)

#define CR0_PE (1UL << 0)
#define CR0_MP (1UL << 1)
#define CR0_ET (1UL << 4)
#define CR0_NE (1UL << 5)
#define CR0_WP (1UL << 16)
#define CR0_AM (1UL << 18)
#define CR0_PG (1UL << 31)
#define CR4_PAE (1UL << 5)
#define CR4_OSFXSR (1UL << 9)
#define CR4_OSXMMEXCPT (1UL << 10)
#define EFER_SCE (1UL << 0)
#define EFER_LME (1UL << 8)
#define EFER_LMA (1UL << 10)
#define EFER_NXE (1UL << 11)

/* GDT selectors: null, kernel code/data (unused, for a conventional layout), user data and
 * 64-bit user code at DPL 3, then the 16-byte TSS descriptor. */
#define SEL_UDATA (0x18 | 3)
#define SEL_UCODE (0x20 | 3)
#define SEL_TSS 0x28

/* The user code: `1: mov %eax, USER_MMIO_VA; inc %eax; jmp 1b`. Each store exits with the
 * loop's count, which the host checks: the guest ran again after each exit. */
static const uint8_t user_code[] = {
  0x89, 0x04, 0x25, USER_MMIO_VA & 0xff, (USER_MMIO_VA >> 8) & 0xff, (USER_MMIO_VA >> 16) & 0xff,
  (USER_MMIO_VA >> 24) & 0xff, /* mov %eax, USER_MMIO_VA (absolute disp32) */
  0xff, 0xc0,                  /* inc %eax */
  0xeb, 0xf5,                  /* jmp -11 */
};

static const char *prog = "kvm-exit-loop";

static void die(const char *what) {
  fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
  exit(1);
}

static void fail(const char *why) {
  fprintf(stderr, "%s: %s\n", prog, why);
  exit(1);
}

/* The backend behind /dev/kvm, for the printed line (kvm_pvm behaves unlike VT-x/SVM). */
static const char *hypervisor(void) {
  if (access("/sys/module/kvm_pvm", F_OK) == 0) return "kvm_pvm";
  if (access("/sys/module/kvm_amd", F_OK) == 0) return "kvm_amd";
  if (access("/sys/module/kvm_intel", F_OK) == 0) return "kvm_intel";
  return "kvm";
}

static uint64_t gdt_entry(uint32_t flags_access) {
  /* base 0, limit 0xfffff (4 GiB with G): access byte in bits 40-47, flags in 52-55. */
  return 0xffffULL | (0xfULL << 48) | ((uint64_t)flags_access << 40);
}

/* Builds page tables, GDT and TSS in guest memory `mem`. */
static void build_guest(uint8_t *mem) {
  uint64_t *pml4 = (uint64_t *)(mem + PML4_GPA), *pdpt = (uint64_t *)(mem + PDPT_GPA);
  uint64_t *pd = (uint64_t *)(mem + PD_GPA), *pt = (uint64_t *)(mem + PT_GPA);
  /* Upper levels allow user and write; the leaf entries decide. */
  pml4[0] = PDPT_GPA | PTE_P | PTE_W | PTE_U;
  pdpt[0] = PD_GPA | PTE_P | PTE_W | PTE_U;
  pd[0] = PT_GPA | PTE_P | PTE_W | PTE_U;
  pt[CODE_GPA >> 12] = CODE_GPA | PTE_P | PTE_U;                  /* read + execute */
  pt[STACK_GPA >> 12] = STACK_GPA | PTE_P | PTE_W | PTE_U | PTE_NX;
  pt[USER_MMIO_VA >> 12] = MMIO_GPA | PTE_P | PTE_W | PTE_U | PTE_NX;
  memcpy(mem + CODE_GPA, user_code, sizeof user_code);

  uint64_t *gdt = (uint64_t *)(mem + GDT_GPA);
  gdt[1] = gdt_entry(0xa09b); /* kernel code: L, P, DPL 0, code execute/read accessed */
  gdt[2] = gdt_entry(0xc093); /* kernel data */
  gdt[3] = gdt_entry(0xc0f3); /* user data: DPL 3 */
  gdt[4] = gdt_entry(0xa0fb); /* user code: L, DPL 3 */
  /* 64-bit TSS (busy), limit 0x67, base TSS_GPA: two entries. */
  gdt[5] = 0x67 | ((TSS_GPA & 0xffffff) << 16) | (0x8bULL << 40) | (((TSS_GPA >> 24) & 0xff) << 56);
  gdt[6] = TSS_GPA >> 32;
}

static struct kvm_segment segment(uint16_t sel, uint8_t type, uint8_t dpl, int code) {
  struct kvm_segment s = {
    .base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1, .dpl = dpl,
    .db = code ? 0 : 1, .s = 1, .l = code ? 1 : 0, .g = 1,
  };
  return s;
}

struct vm {
  int kvm, vm, vcpu;
  struct kvm_run *run;
  uint8_t *mem;
};

/* Creates the VM with its one vCPU in long mode at CPL 3, at the user code's first byte. */
static void vm_create(struct vm *v) {
  v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (v->kvm < 0) die("/dev/kvm");
  /* SAFETY: KVM ioctls on descriptors this function opened; each result is checked. */
  if (ioctl(v->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) fail("/dev/kvm: unexpected KVM API version");
  v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
  if (v->vm < 0) die("KVM_CREATE_VM");

  v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (v->mem == MAP_FAILED) die("mmap guest memory");
  build_guest(v->mem);
  struct kvm_userspace_memory_region region = {
    .slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE, .userspace_addr = (uint64_t)(uintptr_t)v->mem,
  };
  /* SAFETY: the slot covers exactly the MEM_SIZE bytes mapped above, which live until exit. */
  if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");
  /* VT-x wants a TSS area for real mode; others answer an error, harmless for long mode. */
  (void)ioctl(v->vm, KVM_SET_TSS_ADDR, 0xfffbd000UL);

  v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
  if (v->vcpu < 0) die("KVM_CREATE_VCPU");
  int run_size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size < (int)sizeof(struct kvm_run)) die("KVM_GET_VCPU_MMAP_SIZE");
  v->run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
  if (v->run == MAP_FAILED) die("mmap kvm_run");

  /* The guest's CPUID must offer long mode, NX and SYSCALL, or KVM refuses EFER's bits. */
  int n = 256;
  struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + n * sizeof(struct kvm_cpuid_entry2));
  if (!cpuid) die("calloc");
  cpuid->nent = n;
  /* SAFETY: cpuid has room for nent entries; KVM writes back how many it filled. */
  if (ioctl(v->kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) die("KVM_GET_SUPPORTED_CPUID");
  if (ioctl(v->vcpu, KVM_SET_CPUID2, cpuid) < 0) die("KVM_SET_CPUID2");
  free(cpuid);

  struct kvm_sregs sregs;
  /* SAFETY: kvm_sregs and kvm_regs are the kernel's structures for these ioctls. */
  if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) < 0) die("KVM_GET_SREGS");
  sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
  sregs.cr3 = PML4_GPA;
  sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
  sregs.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
  sregs.cs = segment(SEL_UCODE, 11, 3, 1);
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = segment(SEL_UDATA, 3, 3, 0);
  sregs.tr = (struct kvm_segment){ .base = TSS_GPA, .limit = 0x67, .selector = SEL_TSS, .type = 11, .present = 1 };
  sregs.ldt = (struct kvm_segment){ .type = 2, .unusable = 1 };
  sregs.gdt.base = GDT_GPA;
  sregs.gdt.limit = 7 * 8 - 1;
  sregs.idt.base = 0;
  sregs.idt.limit = 0;
  if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS (long mode at CPL 3)");

  struct kvm_regs regs;
  memset(&regs, 0, sizeof regs);
  regs.rip = CODE_GPA;
  regs.rsp = STACK_GPA + 0x1000;
  regs.rflags = 0x202;
  if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS");
}

static const char *exit_name(uint32_t reason) {
  switch (reason) {
  case KVM_EXIT_IO: return "KVM_EXIT_IO";
  case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
  case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
  case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN (a triple fault: the guest took an exception)";
  case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY (the vCPU state was refused)";
  case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
  default: return "an unexpected exit";
  }
}

/* Set by SIGALRM: a guest that never exits (a hypervisor that loses the store) must not
 * hang the probe; the signal interrupts KVM_RUN with EINTR. */
static volatile sig_atomic_t timed_out;
static void on_alarm(int sig) { (void)sig; timed_out = 1; }

/* Runs the vCPU to its next exit and checks that it is the store of `expect`. */
static void run_one(struct vm *v, uint32_t expect) {
  for (;;) {
    /* SAFETY: KVM_RUN on our vCPU; v->run is its mapped kvm_run. */
    if (ioctl(v->vcpu, KVM_RUN, 0) == 0) break;
    if (timed_out) fail("the guest did not exit in time (KVM_RUN interrupted by the alarm)");
    if (errno != EINTR && errno != EAGAIN) die("KVM_RUN");
  }
  struct kvm_run *r = v->run;
  if (r->exit_reason != KVM_EXIT_MMIO) {
    char why[160];
    struct kvm_regs regs;
    uint64_t rip = ioctl(v->vcpu, KVM_GET_REGS, &regs) == 0 ? regs.rip : 0;
    snprintf(why, sizeof why, "exit %u, %s, at rip %#llx; expected KVM_EXIT_MMIO", r->exit_reason,
             exit_name(r->exit_reason), (unsigned long long)rip);
    fail(why);
  }
  uint32_t got;
  memcpy(&got, r->mmio.data, sizeof got);
  if (r->mmio.phys_addr != MMIO_GPA || !r->mmio.is_write || r->mmio.len != 4 || got != expect) {
    char why[160];
    snprintf(why, sizeof why, "KVM_EXIT_MMIO at %#llx (write %u, %u bytes, value %u): expected a 4-byte store of %u at %#lx",
             (unsigned long long)r->mmio.phys_addr, r->mmio.is_write, r->mmio.len, got, expect, MMIO_GPA);
    fail(why);
  }
}

/* The --check probe: the first exit came from CPL 3 in long mode with paging. */
static void check_mode(struct vm *v) {
  struct kvm_sregs s;
  if (ioctl(v->vcpu, KVM_GET_SREGS, &s) < 0) die("KVM_GET_SREGS");
  if (!(s.efer & EFER_LMA) || !(s.cr0 & CR0_PG) || !(s.cr4 & CR4_PAE) || !s.cs.l)
    fail("the vCPU is not in 64-bit long mode with paging at the exit");
  if ((s.cs.selector & 3) != 3 || s.ss.dpl != 3) fail("the exit did not come from CPL 3");
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  int check = 0;
  long iterations = 20000;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--check") == 0) check = 1;
    else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) iterations = strtol(argv[++i], NULL, 10);
    else {
      fprintf(stderr, "usage: %s [--check | --iterations N]\n", prog);
      return 2;
    }
  }
  if (iterations < 1) fail("--iterations must be a positive number");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm; /* no SA_RESTART: KVM_RUN returns EINTR */
  if (sigaction(SIGALRM, &sa, NULL) < 0) die("sigaction");
  alarm(check ? 20 : 600);

  struct vm v;
  vm_create(&v);
  uint32_t count = 0;
  run_one(&v, count++);
  check_mode(&v);
  long warmup = check ? 10 : 200;
  for (long i = 0; i < warmup; i++) run_one(&v, count++);
  check_mode(&v);
  if (check) {
    printf("%s: /dev/kvm (%s) works: long mode, user code at CPL 3, %u exits back\n", prog, hypervisor(), count);
    return 0;
  }
  double start = now_us();
  for (long i = 0; i < iterations; i++) run_one(&v, count++);
  double us = (now_us() - start) / (double)iterations;
  printf("%s: %ld exits from CPL 3 in long mode (%s): %.2f us per exit\n", prog, iterations, hypervisor(), us);
  return 0;
}
