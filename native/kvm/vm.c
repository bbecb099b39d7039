/*
 * vm.c: the KVM machine described in vm.h: VM and memslots, the system region (GDT, IDT,
 * trampoline, per-vCPU TSS and stack, page-table pool), page tables per address space,
 * and the vCPU switch loop.
 *
 * TLB and shadow paging: kvm_pvm uses shadow paging, which does not see the host's writes
 * to guest page tables (only the guest's own writes are tracked). Adding a mapping where
 * none was present needs nothing (a missing entry is re-read from the guest tables on the
 * fault), but removing or downgrading one needs every cached translation dropped: the
 * VM's "flush" memslot (one page, unused by the guest) is deleted and re-added, which
 * makes KVM zap all shadow pages and flush every vCPU's TLB (on VT-x/SVM as well).
 */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cpuid.h>

#define PTE_P 0x1ULL
#define PTE_W 0x2ULL
#define PTE_U 0x4ULL
#define PTE_MAPPED 0x200ULL /* software bit: a PROT_NONE mapping keeps its address */
#define PTE_NX (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL
#define USER_TOP (1ULL << 47)

#define SLOT_MEM 0
#define SLOT_SYS 1
#define SLOT_FLUSH 2

#define SIG_INTERRUPT SIGUSR2
#define SIG_SLICE SIGVTALRM
#define SLICE_NS 10000000L

static __thread char err_buf[256];

const char *kvm_vm_error(void) { return err_buf; }

static void set_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err_buf, sizeof err_buf, fmt, ap);
  va_end(ap);
}

static void vcpu_destroy(struct kvm_vcpu *c);

static uint64_t *sys_page(struct kvm_vm *vm, uint64_t idx) { return (uint64_t *)(vm->sys + idx * KVM_PAGE); }

/* ---- the flush memslot ---- */

static void *flush_page;

static int set_slot(struct kvm_vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host) {
  struct kvm_userspace_memory_region r = {.slot = slot, .flags = 0, .guest_phys_addr = gpa, .memory_size = size, .userspace_addr = (uint64_t)(uintptr_t)host};
  // SAFETY: host stays mapped for the VM's lifetime (or size is 0: the slot is deleted).
  return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

/* kvm_vm_flush drops every cached guest translation (see the top of this file). */
static int kvm_vm_flush(struct kvm_vm *vm) {
  if (set_slot(vm, SLOT_FLUSH, FLUSH_GPA, 0, flush_page) < 0 || set_slot(vm, SLOT_FLUSH, FLUSH_GPA, KVM_PAGE, flush_page) < 0) {
    set_error("flushing guest translations: %s", strerror(errno));
    return -errno;
  }
  return 0;
}

/* ---- set-up ---- */

static uint64_t seg_desc(uint32_t flags) { return 0xffffULL | ((uint64_t)flags << 32); }

static struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx) {
  for (uint32_t i = 0; i < c->nent; i++)
    if (c->entries[i].function == fn && c->entries[i].index == idx) return &c->entries[i];
  return NULL;
}

static void build_system(struct kvm_vm *vm) {
  uint64_t *gdt = sys_page(vm, PG_GDT);
  gdt[SEL_KCODE / 8] = seg_desc(0x00af9b00);
  gdt[SEL_KDATA / 8] = seg_desc(0x00cf9300);
  gdt[0x20 / 8] = seg_desc(0x00cffb00);
  gdt[0x28 / 8] = seg_desc(0x00cff300);
  gdt[0x30 / 8] = seg_desc(0x00affb00);

  uint8_t *code = (uint8_t *)sys_page(vm, PG_CODE);
  memset(code, 0xf4, KVM_PAGE); /* hlt: never reached */
  uint64_t *idt = sys_page(vm, PG_IDT);
  for (int v = 0; v < 256; v++) {
    code[v * HANDLER_STRIDE] = 0xe6; /* out %al, $v */
    code[v * HANDLER_STRIDE + 1] = (uint8_t)v;
    uint64_t h = CODE_VA + (uint64_t)v * HANDLER_STRIDE;
    /* Interrupt gate, IST 1; int3 and into may be used by user code (DPL 3), as on Linux. */
    uint64_t dpl = (v == 3 || v == 4) ? 3 : 0;
    idt[v * 2] = (h & 0xffff) | ((uint64_t)SEL_KCODE << 16) | (1ULL << 32) | ((0x8eULL | (dpl << 5)) << 40) | (((h >> 16) & 0xffff) << 48);
    idt[v * 2 + 1] = h >> 32;
  }
  code[IRETQ_VA - CODE_VA] = 0x48;
  code[IRETQ_VA - CODE_VA + 1] = 0xcf;

  uint8_t *check = (uint8_t *)sys_page(vm, PG_CHECK);
  memset(check, 0xcc, KVM_PAGE);
  check[0] = 0x0f, check[1] = 0x05; /* syscall */
  check[2] = 0x0f, check[3] = 0x0b; /* ud2 */

  uint8_t *entry = (uint8_t *)sys_page(vm, PG_ENTRY);
  memset(entry, 0xcc, KVM_PAGE);
  entry[0] = 0xa2; /* movabs %al, MMIO_VA */
  uint64_t mmio = MMIO_VA;
  memcpy(entry + 1, &mmio, 8);

  uint64_t *pdpt = sys_page(vm, PG_PDPTK), *pd = sys_page(vm, PG_PDK), *pt = sys_page(vm, PG_PTK);
  pdpt[511] = (SYS_GPA + PG_PDK * KVM_PAGE) | PTE_P | PTE_W | PTE_U;
  pd[511] = (SYS_GPA + PG_PTK * KVM_PAGE) | PTE_P | PTE_W | PTE_U;
  pt[PG_GDT] = (SYS_GPA + PG_GDT * KVM_PAGE) | PTE_P | PTE_W | PTE_NX;
  pt[PG_IDT] = (SYS_GPA + PG_IDT * KVM_PAGE) | PTE_P | PTE_NX;
  pt[PG_CODE] = (SYS_GPA + PG_CODE * KVM_PAGE) | PTE_P;
  pt[PG_ENTRY] = (SYS_GPA + PG_ENTRY * KVM_PAGE) | PTE_P | PTE_U;
  pt[PG_MMIO] = MMIO_GPA | PTE_P | PTE_W | PTE_U | PTE_NX;
  for (int i = 0; i < MAX_VCPUS && PG_VCPU0 + i < 512; i++)
    pt[PG_VCPU0 + i] = (SYS_GPA + (uint64_t)(PG_VCPU0 + i) * KVM_PAGE) | PTE_P | PTE_W | PTE_NX;
}

struct kvm_vm *kvm_vm_open(const char *dev, int memfd, uint64_t mem_size) {
  struct kvm_vm *vm = calloc(1, sizeof *vm);
  if (!vm) return set_error("out of memory"), NULL;
  vm->kvm_fd = vm->vm_fd = -1;
  vm->syscall_cpl = -1;
  pthread_mutex_init(&vm->lock, NULL);
  // SAFETY: plain open of the device path the caller names.
  vm->kvm_fd = open(dev, O_RDWR | O_CLOEXEC);
  if (vm->kvm_fd < 0) {
    set_error("%s: %s", dev, strerror(errno));
    goto fail;
  }
  if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
    set_error("%s is not a KVM device (KVM_GET_API_VERSION)", dev);
    goto fail;
  }
  if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) <= 0 || ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0 ||
      ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) <= 0 || ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) <= 0) {
    set_error("%s lacks KVM_CAP_SYNC_REGS, IMMEDIATE_EXIT, XSAVE or XCRS", dev);
    goto fail;
  }
  vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
  if (vm->vm_fd < 0) {
    set_error("KVM_CREATE_VM: %s", strerror(errno));
    goto fail;
  }
  vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  vm->cpuid = calloc(1, sizeof(struct kvm_cpuid2) + 256 * sizeof(struct kvm_cpuid_entry2));
  vm->cpuid->nent = 256;
  if (vm->run_size <= 0 || ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid) < 0) {
    set_error("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
    goto fail;
  }
  struct kvm_cpuid_entry2 *x = cpuid_find(vm->cpuid, 0xd, 0);
  vm->xcr0 = x ? (((uint64_t)x->edx << 32) | x->eax) & 0x2e7ULL : 3;
  vm->xsave_size = 576;
  for (int i = 2; i < 10; i++) {
    struct kvm_cpuid_entry2 *c = cpuid_find(vm->cpuid, 0xd, (uint32_t)i);
    if ((vm->xcr0 >> i & 1) && c && c->eax + c->ebx > vm->xsave_size) vm->xsave_size = c->eax + c->ebx;
  }
  if (x) { /* the enabled size as the guest sees it */
    x->ebx = vm->xsave_size;
    x->eax &= (uint32_t)vm->xcr0;
    x->edx &= (uint32_t)(vm->xcr0 >> 32);
  }
  struct kvm_cpuid_entry2 *a = cpuid_find(vm->cpuid, 0x80000008, 0);
  int bits = a && (a->eax & 0xff) >= 36 && (a->eax & 0xff) <= 52 ? (int)(a->eax & 0xff) : 36;
  vm->sys_gpa = 1ULL << (bits - 1);
  vm->mmio_gpa = (1ULL << bits) - KVM_PAGE;
  if (mem_size > vm->sys_gpa) mem_size = vm->sys_gpa; /* offsets above are never mapped (kvm_as_map refuses them) */
  if (vm->xsave_size > sizeof(struct kvm_xsave)) {
    set_error("XSAVE image of %u bytes does not fit KVM_GET_XSAVE", vm->xsave_size);
    goto fail;
  }
  // SAFETY: fresh private mappings owned by this VM until kvm_vm_close.
  vm->sys = mmap(NULL, SYS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  vm->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, memfd, 0);
  if (vm->mem != MAP_FAILED) vm->mem_size = mem_size;
  if (!flush_page) flush_page = mmap(NULL, KVM_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (vm->sys == MAP_FAILED || vm->mem == MAP_FAILED || flush_page == MAP_FAILED) {
    set_error("mapping guest memory: %s", strerror(errno));
    goto fail;
  }
  if (set_slot(vm, SLOT_MEM, 0, mem_size, vm->mem) < 0 || set_slot(vm, SLOT_SYS, SYS_GPA, SYS_SIZE, vm->sys) < 0 ||
      set_slot(vm, SLOT_FLUSH, FLUSH_GPA, KVM_PAGE, flush_page) < 0) {
    set_error("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
    goto fail;
  }
  build_system(vm);
  uint32_t first = SYS_FIXED / KVM_PAGE, last = SYS_SIZE / KVM_PAGE;
  vm->free_pages = malloc(sizeof(uint32_t) * (last - first));
  for (uint32_t p = last; p > first; p--) vm->free_pages[vm->nfree++] = p - 1;
  return vm;
fail:
  kvm_vm_close(vm);
  return NULL;
}

void kvm_vm_close(struct kvm_vm *vm) {
  if (!vm) return;
  while (vm->nidle) vcpu_destroy(vm->idle[--vm->nidle]);
  if (vm->vm_fd >= 0) close(vm->vm_fd);
  if (vm->kvm_fd >= 0) close(vm->kvm_fd);
  if (vm->sys && vm->sys != MAP_FAILED) munmap(vm->sys, SYS_SIZE);
  if (vm->mem && vm->mem != MAP_FAILED) munmap(vm->mem, vm->mem_size);
  free(vm->cpuid);
  free(vm->free_pages);
  free(vm);
}

/* ---- page tables ---- */

static int64_t alloc_page(struct kvm_vm *vm) {
  pthread_mutex_lock(&vm->lock);
  int64_t p = vm->nfree ? (int64_t)vm->free_pages[--vm->nfree] : -1;
  pthread_mutex_unlock(&vm->lock);
  if (p >= 0) memset(sys_page(vm, (uint64_t)p), 0, KVM_PAGE);
  return p;
}

static void free_page(struct kvm_vm *vm, uint64_t p) {
  pthread_mutex_lock(&vm->lock);
  vm->free_pages[vm->nfree++] = (uint32_t)p;
  pthread_mutex_unlock(&vm->lock);
}

/* table returns the host view of the page-table page at guest-physical gpa (always in the system region). */
static uint64_t *table(struct kvm_vm *vm, uint64_t gpa) { return sys_page(vm, (gpa - SYS_GPA) / KVM_PAGE); }

int64_t kvm_as_new(struct kvm_vm *vm) {
  int64_t p = alloc_page(vm);
  if (p < 0) return -ENOMEM;
  uint64_t *pml4 = sys_page(vm, (uint64_t)p);
  pml4[511] = (SYS_GPA + PG_PDPTK * KVM_PAGE) | PTE_P | PTE_W | PTE_U;
  return (int64_t)(SYS_GPA + (uint64_t)p * KVM_PAGE);
}

static void free_level(struct kvm_vm *vm, uint64_t gpa, int level) {
  uint64_t *t = table(vm, gpa);
  if (level > 1)
    for (int i = 0; i < 512; i++)
      if (t[i] & PTE_P) free_level(vm, t[i] & PTE_ADDR, level - 1);
  free_page(vm, (gpa - SYS_GPA) / KVM_PAGE);
}

void kvm_as_free(struct kvm_vm *vm, uint64_t cr3) {
  uint64_t *pml4 = table(vm, cr3);
  for (int i = 0; i < 256; i++)
    if (pml4[i] & PTE_P) free_level(vm, pml4[i] & PTE_ADDR, 3);
  free_page(vm, (cr3 - SYS_GPA) / KVM_PAGE);
  /* Its pages will be other tables: no translation cached from them may survive. */
  kvm_vm_flush(vm);
}

/*
 * pte returns the leaf entry for va, creating tables when create is set (NULL: none, or no
 * memory). hole, when given, is set to the size of the region with no table that va lies in
 * (so that walks over sparse ranges skip it whole).
 */
static uint64_t *pte_hole(struct kvm_vm *vm, uint64_t cr3, uint64_t va, int create, uint64_t *hole) {
  uint64_t *t = table(vm, cr3);
  for (int shift = 39; shift > 12; shift -= 9) {
    uint64_t *e = &t[(va >> shift) & 511];
    if (!(*e & PTE_P)) {
      if (hole) *hole = 1ULL << shift;
      if (!create) return NULL;
      int64_t p = alloc_page(vm);
      if (p < 0) return NULL;
      *e = (SYS_GPA + (uint64_t)p * KVM_PAGE) | PTE_P | PTE_W | PTE_U;
    }
    t = table(vm, *e & PTE_ADDR);
  }
  return &t[(va >> 12) & 511];
}

static uint64_t *pte(struct kvm_vm *vm, uint64_t cr3, uint64_t va, int create) { return pte_hole(vm, cr3, va, create, NULL); }

/* next_after returns the offset from va0 of the first address past the hole containing va0 + i. */
static uint64_t next_after(uint64_t va0, uint64_t i, uint64_t hole) { return (((va0 + i) | (hole - 1)) + 1) - va0 - KVM_PAGE; }

static uint64_t prot_bits(int prot) {
  if (!(prot & 7)) return PTE_MAPPED;
  return PTE_MAPPED | PTE_P | PTE_U | ((prot & 2) ? PTE_W : 0) | ((prot & 4) ? 0 : PTE_NX);
}

static int check_range(struct kvm_vm *vm, uint64_t cr3, uint64_t va, uint64_t len) {
  if ((va | len) & (KVM_PAGE - 1) || va >= USER_TOP || len > USER_TOP - va) return -EINVAL;
  if (cr3 < SYS_GPA + SYS_FIXED || cr3 >= SYS_GPA + SYS_SIZE || (cr3 & (KVM_PAGE - 1))) return -EINVAL;
  (void)vm;
  return 0;
}

/* user_code_byte reads the byte at va if cr3 maps it user-executable (as a CPL 3 fetch would); -1 otherwise. */
static int user_code_byte(struct kvm_vm *vm, uint64_t cr3, uint64_t va) {
  if (va >= USER_TOP) return -1;
  uint64_t *t = table(vm, cr3);
  for (int shift = 39; shift > 12; shift -= 9) {
    uint64_t e = t[(va >> shift) & 511];
    if ((e & (PTE_P | PTE_U)) != (PTE_P | PTE_U) || (e & PTE_ADDR) < SYS_GPA + SYS_FIXED || (e & PTE_ADDR) >= SYS_GPA + SYS_SIZE) return -1;
    t = table(vm, e & PTE_ADDR);
  }
  uint64_t e = t[(va >> 12) & 511];
  if ((e & (PTE_P | PTE_U)) != (PTE_P | PTE_U) || (e & PTE_NX)) return -1;
  uint64_t gpa = (e & PTE_ADDR) + (va & (KVM_PAGE - 1));
  if (gpa < vm->mem_size) return vm->mem[gpa];
  if (gpa - (SYS_GPA + PG_CHECK * KVM_PAGE) < KVM_PAGE) return vm->sys[gpa - SYS_GPA]; /* the self-check's code */
  return -1;
}

int kvm_as_map(struct kvm_vm *vm, uint64_t cr3, uint64_t va, uint64_t off, uint64_t len, int prot) {
  int r = check_range(vm, cr3, va, len);
  if (r) return r;
  if ((off & (KVM_PAGE - 1)) || off > vm->mem_size || len > vm->mem_size - off) return -EINVAL;
  int replaced = 0;
  for (uint64_t i = 0; i < len; i += KVM_PAGE) {
    uint64_t *e = pte(vm, cr3, va + i, 1);
    if (!e) return -ENOMEM;
    replaced |= (*e & PTE_P) != 0;
    *e = (off + i) | prot_bits(prot);
  }
  return replaced ? kvm_vm_flush(vm) : 0;
}

int kvm_as_unmap(struct kvm_vm *vm, uint64_t cr3, uint64_t va, uint64_t len) {
  int r = check_range(vm, cr3, va, len);
  if (r) return r;
  int removed = 0;
  for (uint64_t i = 0; i < len; i += KVM_PAGE) {
    uint64_t hole = 0;
    uint64_t *e = pte_hole(vm, cr3, va + i, 0, &hole);
    if (e) {
      removed |= (*e & PTE_P) != 0;
      *e = 0;
    } else {
      i = next_after(va, i, hole); /* no table here: skip the region it would cover */
    }
  }
  return removed ? kvm_vm_flush(vm) : 0;
}

int kvm_as_protect(struct kvm_vm *vm, uint64_t cr3, uint64_t va, uint64_t len, int prot) {
  int r = check_range(vm, cr3, va, len);
  if (r) return r;
  int changed = 0;
  for (uint64_t i = 0; i < len; i += KVM_PAGE) {
    uint64_t hole = 0;
    uint64_t *e = pte_hole(vm, cr3, va + i, 0, &hole);
    if (!e) {
      i = next_after(va, i, hole);
      continue;
    }
    if (!(*e & PTE_MAPPED)) continue;
    uint64_t n = (*e & PTE_ADDR) | prot_bits(prot);
    changed |= (*e & PTE_P) && n != *e;
    *e = n;
  }
  return changed ? kvm_vm_flush(vm) : 0;
}

/* ---- vCPUs ---- */

static struct kvm_segment seg(uint16_t sel, uint8_t type, uint8_t dpl, int code) {
  struct kvm_segment s = {.base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1, .dpl = dpl, .db = code ? 0 : 1, .s = 1, .l = code ? 1 : 0, .g = 1};
  return s;
}

static uint64_t vcpu_va(int index) { return SYS_VA + (uint64_t)(PG_VCPU0 + index) * KVM_PAGE; }

struct kvm_vcpu *kvm_vcpu_new(struct kvm_vm *vm) {
  int index = -1;
  pthread_mutex_lock(&vm->lock);
  if (vm->nidle) {
    struct kvm_vcpu *c = vm->idle[--vm->nidle];
    pthread_mutex_unlock(&vm->lock);
    /* cpl0 stays: it says where the vCPU stopped (how the next task is loaded). */
    c->cr3 = 0;
    c->pending = 0;
    c->interrupt_flag = NULL;
    c->cpu_ns = 0;
    return c;
  }
  for (int i = 0; i < MAX_VCPUS && PG_VCPU0 + i < 512; i++)
    if (!vm->vcpu_used[i]) {
      vm->vcpu_used[i] = 1;
      index = i;
      break;
    }
  pthread_mutex_unlock(&vm->lock);
  if (index < 0) return set_error("more than %d vCPUs", MAX_VCPUS), NULL;
  struct kvm_vcpu *c = calloc(1, sizeof *c);
  c->vm = vm;
  c->index = index;
  c->cpl0 = 1;
  c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, index);
  if (c->fd < 0) {
    set_error("KVM_CREATE_VCPU: %s", strerror(errno));
    goto fail;
  }
  // SAFETY: the vCPU's shared run area, unmapped in kvm_vcpu_free.
  c->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
  if (c->run == MAP_FAILED) {
    c->run = NULL;
    set_error("mmap of the vCPU run area: %s", strerror(errno));
    goto fail;
  }
  if (ioctl(c->fd, KVM_SET_CPUID2, vm->cpuid) < 0) {
    set_error("KVM_SET_CPUID2: %s", strerror(errno));
    goto fail;
  }
  /* TSS: rsp0 and ist1 are the top of the vCPU's page; no I/O bitmap. */
  uint8_t *tss = (uint8_t *)sys_page(vm, (uint64_t)(PG_VCPU0 + index));
  memset(tss, 0, KVM_PAGE);
  uint64_t top = vcpu_va(index) + KVM_PAGE;
  memcpy(tss + 4, &top, 8);
  memcpy(tss + 36, &top, 8);
  uint16_t iomap = 104;
  memcpy(tss + 102, &iomap, 2);

  struct kvm_sregs s;
  if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0) goto fail_sregs;
  s.cs = seg(SEL_KCODE, 11, 0, 1);
  s.ss = s.ds = s.es = seg(SEL_KDATA, 3, 0, 0);
  s.fs = s.gs = seg(0, 3, 0, 0);
  s.tr = (struct kvm_segment){.base = vcpu_va(index), .limit = 103, .selector = SEL_TSS, .type = 11, .present = 1};
  s.ldt = (struct kvm_segment){.selector = 0, .type = 2, .present = 1, .limit = 0xffff, .unusable = 1};
  s.gdt.base = SYS_VA + PG_GDT * KVM_PAGE;
  s.gdt.limit = 0x4f;
  s.idt.base = SYS_VA + PG_IDT * KVM_PAGE;
  s.idt.limit = 0xfff;
  s.cr0 = 0x80050033ULL; /* PG WP NE ET MP PE */
  s.cr4 = 0x40620ULL;    /* OSXSAVE OSXMMEXCPT OSFXSR PAE */
  s.efer = 0xd01ULL;     /* NXE LMA LME SCE */
  s.cr3 = 0;
  s.cr2 = 0;
  if (ioctl(c->fd, KVM_SET_SREGS, &s) < 0) goto fail_sregs;
  struct {
    struct kvm_msrs h;
    struct kvm_msr_entry e[4];
  } msrs = {.h = {.nmsrs = 4},
            .e = {{.index = 0xc0000081, .data = (0x20ULL << 48) | ((uint64_t)SEL_KCODE << 32)},
                  {.index = 0xc0000082, .data = ENTRY_VA},
                  {.index = 0xc0000083, .data = ENTRY_VA},
                  {.index = 0xc0000084, .data = 0x47700}}};
  if (ioctl(c->fd, KVM_SET_MSRS, &msrs) != 4) {
    set_error("KVM_SET_MSRS (STAR/LSTAR/SFMASK) failed");
    goto fail;
  }
  struct kvm_xcrs xcrs = {.nr_xcrs = 1, .xcrs = {{.xcr = 0, .value = vm->xcr0}}};
  if (ioctl(c->fd, KVM_SET_XCRS, &xcrs) < 0) {
    set_error("KVM_SET_XCRS: %s", strerror(errno));
    goto fail;
  }
  c->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
  return c;
fail_sregs:
  set_error("KVM_GET/SET_SREGS: %s", strerror(errno));
fail:
  vcpu_destroy(c);
  return NULL;
}

void kvm_vcpu_free(struct kvm_vcpu *c) {
  if (!c) return;
  if (c->fd >= 0 && c->run && !c->broken) {
    pthread_mutex_lock(&c->vm->lock);
    c->vm->idle[c->vm->nidle++] = c;
    pthread_mutex_unlock(&c->vm->lock);
    return;
  }
  vcpu_destroy(c);
}

/* vcpu_destroy frees c; its index stays used: KVM keeps a vCPU id taken until the VM goes. */
static void vcpu_destroy(struct kvm_vcpu *c) {
  if (c->run) munmap(c->run, (size_t)c->vm->run_size);
  if (c->fd >= 0) close(c->fd);
  free(c);
}

int kvm_vcpu_get_xsave(struct kvm_vcpu *c, void *buf, size_t len) {
  struct kvm_xsave x;
  if (len > sizeof x || ioctl(c->fd, KVM_GET_XSAVE, &x) < 0) return -errno ? -errno : -EINVAL;
  memcpy(buf, &x, len);
  return 0;
}

int kvm_vcpu_set_xsave(struct kvm_vcpu *c, const void *buf, size_t len) {
  struct kvm_xsave x;
  if (len > sizeof x) return -EINVAL;
  memset(&x, 0, sizeof x);
  memcpy(&x, buf, len);
  uint64_t bv;
  memcpy(&bv, x.region + 128, 8); /* XSTATE_BV: only components the guest enables */
  bv &= c->vm->xcr0;
  memcpy(x.region + 128, &bv, 8);
  x.region[6] &= 0xffff; /* MXCSR: reserved bits would make KVM_SET_XSAVE fail */
  if (ioctl(c->fd, KVM_SET_XSAVE, &x) < 0) return -errno;
  return 0;
}

void kvm_init_xsave(void *buf, size_t len) {
  memset(buf, 0, len);
  uint16_t fcw = 0x37f;
  uint32_t mxcsr = 0x1f80, mask = 0xffff;
  memcpy(buf, &fcw, 2);
  memcpy((uint8_t *)buf + 24, &mxcsr, 4);
  memcpy((uint8_t *)buf + 28, &mask, 4);
}

/* ---- the self-check ---- */

#define CHECK_VA 0x10000ULL

int kvm_vm_selfcheck(struct kvm_vm *vm) {
  int64_t cr3 = kvm_as_new(vm);
  if (cr3 < 0) return set_error("self-check: no page-table page"), -1;
  int ok = -1;
  uint64_t *e = pte(vm, (uint64_t)cr3, CHECK_VA, 1);
  struct kvm_vcpu *c = e ? kvm_vcpu_new(vm) : NULL;
  if (!e) set_error("self-check: no page-table page");
  if (c) {
    *e = (SYS_GPA + PG_CHECK * KVM_PAGE) | PTE_P | PTE_U;
    struct kvm_user_regs u;
    struct kvm_event ev;
    memset(&u, 0, sizeof u);
    u.rip = CHECK_VA, u.rax = 0x1234, u.eflags = 0x202, u.rsp = CHECK_VA + KVM_PAGE;
    int k = kvm_vcpu_switch(c, (uint64_t)cr3, 0, &u, &ev);
    if (k != EV_SYSCALL || u.orig_rax != 0x1234 || u.rip != CHECK_VA + 2) {
      if (k != EV_EXITED) set_error("self-check: a CPL 3 syscall did not exit as one (event %d, vector %d, rip %#llx)", k, ev.vector, (unsigned long long)u.rip);
    } else if ((k = kvm_vcpu_switch(c, (uint64_t)cr3, 0, &u, &ev)) != EV_FAULT || ev.vector != 6 || u.rip != CHECK_VA + 2) {
      if (k != EV_EXITED) set_error("self-check: ud2 did not exit as #UD (event %d, vector %d, rip %#llx)", k, ev.vector, (unsigned long long)u.rip);
    } else {
      ok = 0;
    }
    *e = 0;
    kvm_vcpu_free(c);
  }
  kvm_as_free(vm, (uint64_t)cr3);
  return ok;
}

/* ---- signals: interrupt and time slice ---- */

/* initial-exec: static TLS, so that the signal handler's accesses never allocate (dlopen'd addon). */
#define TLS __thread __attribute__((tls_model("initial-exec")))
static TLS struct kvm_vcpu *volatile tls_running;
static TLS volatile int tls_signal; /* the signal that arrived, for the running or next switch */
static TLS int tls_timer_armed;
static TLS timer_t tls_timer;  /* this thread's slice timer, made on its first context */
static TLS int tls_timer_made;
static TLS int tls_users;      /* this thread's started contexts */

static void on_signal(int sig) {
  struct kvm_vcpu *c = tls_running;
  if (sig == SIG_SLICE && !c) return; /* a slice of the sentry's own CPU: not the task's */
  if (!tls_signal || sig == SIG_INTERRUPT) tls_signal = sig;
  if (c) c->run->immediate_exit = 1;
}

int kvm_thread_signals(void) {
  /* The handlers are checked at every context's start, not installed once: a library of
   * the process that listens for these signals and then stops (Node resets the signal to
   * SIG_DFL then) must not leave the next slice to kill the process. */
  struct sigaction cur;
  if (sigaction(SIG_SLICE, NULL, &cur) < 0) return -errno;
  struct sigaction cur2;
  if (sigaction(SIG_INTERRUPT, NULL, &cur2) < 0) return -errno;
  if (cur.sa_handler != on_signal || cur2.sa_handler != on_signal) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    // SAFETY: handlers only touch this thread's own variables and its running vCPU's run area.
    if (sigaction(SIG_INTERRUPT, &sa, NULL) < 0 || sigaction(SIG_SLICE, &sa, NULL) < 0) return -errno;
  }
  tls_users++;
  if (tls_timer_armed) return 0;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIG_INTERRUPT);
  sigaddset(&set, SIG_SLICE);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  if (!tls_timer_made) {
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIG_SLICE;
    ev._sigev_un._tid = (int)syscall(SYS_gettid);
    // SAFETY: a CPU-time timer of this thread, signalling only this thread.
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &tls_timer) < 0) {
      tls_users--;
      return -errno;
    }
    tls_timer_made = 1;
  }
  struct itimerspec its = {.it_interval = {0, SLICE_NS}, .it_value = {0, SLICE_NS}};
  if (timer_settime(tls_timer, 0, &its, NULL) < 0) {
    tls_users--;
    return -errno;
  }
  tls_timer_armed = 1;
  return 0;
}

void kvm_thread_signals_done(void) {
  if (tls_users == 0 || --tls_users > 0 || !tls_timer_armed) return;
  /* The thread's last context is gone: no more slices (the timer stays made, disarmed, for the next). */
  struct itimerspec off;
  memset(&off, 0, sizeof off);
  if (timer_settime(tls_timer, 0, &off, NULL) == 0) tls_timer_armed = 0;
}

/* ---- the switch ---- */

#define FLAGS_USER 0x254dd5ULL /* CF PF AF ZF SF TF IF DF OF AC ID (Linux's FIX_EFLAGS + IF) */

static int in_trampoline(uint64_t rip) { return rip >= SYS_VA && rip < TRAMPOLINE_END; }

static int set_cr3(struct kvm_vcpu *c, uint64_t cr3) {
  struct kvm_sregs s;
  if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0) return -errno;
  s.cr3 = cr3;
  if (ioctl(c->fd, KVM_SET_SREGS, &s) < 0) return -errno;
  c->cr3 = cr3;
  return 0;
}

static int set_bases(struct kvm_vcpu *c, uint64_t fs, uint64_t gs) {
  struct {
    struct kvm_msrs h;
    struct kvm_msr_entry e[2];
  } msrs = {.h = {.nmsrs = 2}, .e = {{.index = 0xc0000100, .data = fs}, {.index = 0xc0000101, .data = gs}}};
  return ioctl(c->fd, KVM_SET_MSRS, &msrs) == 2 ? 0 : -EINVAL;
}

static uint64_t canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16); }

/* load writes the task's registers into the vCPU (directly at CPL 3, through an iret frame at CPL 0). */
static void load(struct kvm_vcpu *c, const struct kvm_user_regs *u) {
  struct kvm_regs *k = &c->run->s.regs.regs;
  k->rax = u->rax, k->rbx = u->rbx, k->rcx = u->rcx, k->rdx = u->rdx, k->rsi = u->rsi, k->rdi = u->rdi, k->rbp = u->rbp;
  k->r8 = u->r8, k->r9 = u->r9, k->r10 = u->r10, k->r11 = u->r11, k->r12 = u->r12, k->r13 = u->r13, k->r14 = u->r14, k->r15 = u->r15;
  uint64_t flags = (u->eflags & FLAGS_USER) | 0x202;
  if (c->cpl0) {
    uint64_t *f = (uint64_t *)((uint8_t *)sys_page(c->vm, (uint64_t)(PG_VCPU0 + c->index)) + KVM_PAGE - 40);
    f[0] = u->rip, f[1] = SEL_UCODE, f[2] = flags, f[3] = u->rsp, f[4] = SEL_UDATA;
    k->rsp = vcpu_va(c->index) + KVM_PAGE - 40;
    k->rip = IRETQ_VA;
    k->rflags = 2;
  } else {
    k->rsp = u->rsp, k->rip = u->rip, k->rflags = flags;
  }
  c->run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
}

/* store reads the guest's general registers back into the task's. */
static void store(struct kvm_vcpu *c, struct kvm_user_regs *u) {
  const struct kvm_regs *k = &c->run->s.regs.regs;
  u->rax = k->rax, u->rbx = k->rbx, u->rcx = k->rcx, u->rdx = k->rdx, u->rsi = k->rsi, u->rdi = k->rdi, u->rbp = k->rbp;
  u->r8 = k->r8, u->r9 = k->r9, u->r10 = k->r10, u->r11 = k->r11, u->r12 = k->r12, u->r13 = k->r13, u->r14 = k->r14, u->r15 = k->r15;
  u->rsp = k->rsp, u->rip = k->rip, u->eflags = k->rflags;
}

static uint64_t thread_cpu_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static int vcpu_switch(struct kvm_vcpu *c, uint64_t cr3, uint64_t gen, struct kvm_user_regs *u, struct kvm_event *ev);

/*
 * entered_cpl0 tells, at an exit from the syscall entry page, whether the vCPU is at CPL 0:
 * only where `syscall` enters CPL 0 (not kvm_pvm) and only if it came by `syscall`, which
 * clears IF (SFMASK); code at CPL 3 always runs with IF set (load() sets it, and CPL 3
 * cannot clear it), so a jump there from user code leaves it set.
 */
static int entered_cpl0(struct kvm_vcpu *c) {
  return c->vm->syscall_cpl != 3 && !(c->run->s.regs.regs.rflags & 0x200);
}

int kvm_vcpu_switch(struct kvm_vcpu *c, uint64_t cr3, uint64_t gen, struct kvm_user_regs *u, struct kvm_event *ev) {
  uint64_t t0 = thread_cpu_ns();
  int k = vcpu_switch(c, cr3, gen, u, ev);
  c->cpu_ns += thread_cpu_ns() - t0;
  if (k == EV_EXITED) c->broken = 1; /* never pooled: its state is not known to be sound */
  return k;
}

static int vcpu_switch(struct kvm_vcpu *c, uint64_t cr3, uint64_t gen, struct kvm_user_regs *u, struct kvm_event *ev) {
  struct kvm_vm *vm = c->vm;
  memset(ev, 0, sizeof *ev);
  if (c->pending || tls_signal == SIG_INTERRUPT || (c->interrupt_flag && __atomic_exchange_n(c->interrupt_flag, 0, __ATOMIC_SEQ_CST))) {
    ev->signal = c->pending ? c->pending : SIG_INTERRUPT;
    c->pending = 0;
    tls_signal = 0;
    return EV_INTERRUPTED;
  }
  if (cr3 != c->cr3 || gen != c->cr3_gen) {
    if (set_cr3(c, cr3) < 0) return set_error("KVM_SET_SREGS: %s", strerror(errno)), EV_EXITED;
    c->cr3_gen = gen;
  }
  if (u->fs_base != c->run->s.regs.sregs.fs.base || u->gs_base != c->run->s.regs.sregs.gs.base) {
    /* run->s.regs.sregs is not synced (only regs are): it caches what this function loaded. */
    if (set_bases(c, canonical(u->fs_base), canonical(u->gs_base)) < 0) return set_error("KVM_SET_MSRS (FS/GS base) failed"), EV_EXITED;
    c->run->s.regs.sregs.fs.base = u->fs_base;
    c->run->s.regs.sregs.gs.base = u->gs_base;
  }
  if (canonical(u->rip) != u->rip) {
    /* Linux returns to user mode through iret there, which faults: #GP, SIGSEGV. */
    ev->vector = 13;
    return EV_FAULT;
  }
  load(c, u);
  tls_signal = 0;
  for (;;) {
    tls_running = c;
    if (c->interrupt_flag && __atomic_load_n(c->interrupt_flag, __ATOMIC_SEQ_CST)) c->run->immediate_exit = 1;
    int r = ioctl(c->fd, KVM_RUN, 0);
    int e = errno;
    tls_running = NULL;
    c->run->immediate_exit = 0;
    c->run->kvm_dirty_regs = 0;
    struct kvm_regs *k = &c->run->s.regs.regs;
    if (r < 0 && e != EINTR && e != EAGAIN) {
      set_error("KVM_RUN: %s", strerror(e));
      return EV_EXITED;
    }
    int sig = tls_signal;
    if (c->interrupt_flag && __atomic_exchange_n(c->interrupt_flag, 0, __ATOMIC_SEQ_CST)) sig = SIG_INTERRUPT;
    if (r < 0 || c->run->exit_reason == KVM_EXIT_INTR) {
      if (in_trampoline(k->rip)) {
        /* Stopped between an event and its exit: finish it, report the signal next time. */
        c->pending = sig ? sig : c->pending;
        tls_signal = 0;
        continue;
      }
      store(c, u);
      c->cpl0 = 0;
      tls_signal = 0;
      if (!sig) continue; /* a host signal of someone else's: run on */
      ev->signal = sig;
      ev->rip_at = k->rip;
      return EV_INTERRUPTED;
    }
    ev->rip_at = k->rip;
    switch (c->run->exit_reason) {
    case KVM_EXIT_MMIO:
      if (c->run->mmio.phys_addr == MMIO_GPA && c->run->mmio.is_write && k->rip == ENTRY_VA + ENTRY_LEN) {
        if (c->vm->syscall_cpl < 0) {
          struct kvm_sregs s;
          if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0) return set_error("KVM_GET_SREGS: %s", strerror(errno)), EV_EXITED;
          c->vm->syscall_cpl = s.cs.selector & 3;
        }
        /* A syscall leaves rcx just past its `syscall` (0f 05); anything else jumped to the entry page itself. */
        if (user_code_byte(c->vm, c->cr3, k->rcx - 2) != 0x0f || user_code_byte(c->vm, c->cr3, k->rcx - 1) != 0x05) {
          store(c, u);
          u->rip = ENTRY_VA;
          u->eflags = k->r11;
          c->cpl0 = entered_cpl0(c);
          ev->vector = 14;
          ev->error_code = 0x15; /* present, user, instruction fetch: the page is not the application's to run */
          ev->cr2 = ENTRY_VA;
          if (sig) c->pending = sig;
          return EV_FAULT;
        }
        store(c, u);
        u->rip = k->rcx;
        u->eflags = k->r11;
        u->orig_rax = k->rax;
        u->rax = (uint64_t)-38; /* -ENOSYS until the sentry answers, as on Linux */
        c->cpl0 = entered_cpl0(c);
        if (sig) c->pending = sig;
        tls_signal = 0;
        return EV_SYSCALL;
      }
      /* The application touched the MMIO page itself: finish the access, then a fault. */
      c->run->immediate_exit = 1;
      ioctl(c->fd, KVM_RUN, 0);
      c->run->immediate_exit = 0;
      store(c, u);
      c->cpl0 = 0;
      ev->vector = 14;
      ev->error_code = 0x5 | (c->run->mmio.is_write ? 2 : 0);
      ev->cr2 = MMIO_VA + (c->run->mmio.phys_addr & (KVM_PAGE - 1));
      if (sig) c->pending = sig;
      return EV_FAULT;
    case KVM_EXIT_IO: {
      /* rip is past the `out` (kvm_pvm) or still on it (SVM: KVM skips it when the run resumes there, never here). */
      uint64_t handler = CODE_VA + (uint64_t)c->run->io.port * HANDLER_STRIDE;
      if (c->run->io.direction != KVM_EXIT_IO_OUT || (k->rip != handler && k->rip != handler + 2) || c->run->io.port > 255) {
        set_error("unexpected port I/O %#x at %#llx", c->run->io.port, (unsigned long long)k->rip);
        return EV_EXITED;
      }
      ev->vector = c->run->io.port;
      uint64_t top = vcpu_va(c->index) + KVM_PAGE;
      uint64_t *f = (uint64_t *)((uint8_t *)sys_page(c->vm, (uint64_t)(PG_VCPU0 + c->index)) + KVM_PAGE);
      int has_err = k->rsp == top - 48;
      if (!has_err && k->rsp != top - 40) {
        set_error("exception %d with a bad stack", ev->vector);
        return EV_EXITED;
      }
      f -= has_err ? 6 : 5;
      ev->error_code = has_err ? f[0] : 0;
      if (has_err) f++;
      uint64_t rip = u->rip, rsp = u->rsp, flags = u->eflags;
      store(c, u);
      c->cpl0 = 1;
      if ((f[1] & 3) != 3) {
        u->rip = rip, u->rsp = rsp, u->eflags = flags; /* the task's own, which the iretq refused */
        /* In the trampoline: only an iretq to a bad user frame (non-canonical rip) gets here. */
        if (f[0] != IRETQ_VA && !(f[0] >= ENTRY_VA && f[0] < ENTRY_VA + KVM_PAGE)) {
          set_error("exception %d in the trampoline at %#llx", ev->vector, (unsigned long long)f[0]);
          return EV_EXITED;
        }
        ev->vector = 13;
        ev->error_code = 0;
        if (sig) c->pending = sig;
        return EV_FAULT;
      }
      u->rip = f[0];
      u->eflags = f[2];
      u->rsp = f[3];
      if (ev->vector == 14) {
        struct kvm_sregs s;
        if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0) return set_error("KVM_GET_SREGS: %s", strerror(errno)), EV_EXITED;
        ev->cr2 = s.cr2;
      }
      if (sig) c->pending = sig;
      return EV_FAULT;
    }
    case KVM_EXIT_SHUTDOWN:
      set_error("the guest shut down (triple fault) at %#llx", (unsigned long long)k->rip);
      return EV_EXITED;
    case KVM_EXIT_FAIL_ENTRY:
      set_error("KVM entry failed (reason %#llx)", (unsigned long long)c->run->fail_entry.hardware_entry_failure_reason);
      return EV_EXITED;
    case KVM_EXIT_INTERNAL_ERROR:
      set_error("KVM internal error %u at %#llx", c->run->internal.suberror, (unsigned long long)k->rip);
      return EV_EXITED;
    default:
      set_error("unexpected KVM exit %u at %#llx", c->run->exit_reason, (unsigned long long)k->rip);
      return EV_EXITED;
    }
  }
}
