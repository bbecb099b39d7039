/*
 * layout.h fixes where the ptrace stub lives in every stub process, shared by the stub
 * (stub.S), the addon (ptrace/addon.cc) and mirrored in platform/ptrace/stub-layout.ts.
 *
 * The stub is linked at STUB_BASE and, once started, unmaps everything else: the
 * application owns [0, STUB_BASE). Each entry point sits at a fixed offset (.org).
 */
#ifndef TVISOR_STUB_LAYOUT_H
#define TVISOR_STUB_LAYOUT_H

#define STUB_BASE 0x7fffff000000
#define STUB_SIZE 0x10000          /* the stub's own region, kept mapped */
#define STUB_TASK_TOP 0x7ffffffff000 /* x86-64 TASK_SIZE with 4-level paging */

/* Offsets inside the stub region. */
#define STUB_OFF_READY 0x100  /* int3: the stub is initialised, seccomp is on */
#define STUB_OFF_FAIL 0x108   /* hlt: initialisation failed, rax holds -errno */
#define STUB_OFF_INJECT 0x200 /* syscall; test; jnz; int3: one injected host syscall, or a batch's */
#define STUB_OFF_INJECT_DONE (STUB_OFF_INJECT + 7) /* int3: the injected call (or batch) is done */
#define STUB_OFF_BATCH 0x240  /* the batch loop's entry: %r12 = first entry, %r13 = count */
#define STUB_OFF_PARK 0x280   /* mov $SYS_pause,%eax; syscall; jmp: parked thread */
#define STUB_OFF_SLICE 0x300  /* struct itimerval: the 10 ms time slice (SIGVTALRM) */
#define STUB_OFF_FILTER 0x400 /* the seccomp program */

#define STUB_READY (STUB_BASE + STUB_OFF_READY)
#define STUB_INJECT (STUB_BASE + STUB_OFF_INJECT)
#define STUB_PARK (STUB_BASE + STUB_OFF_PARK)
#define STUB_INJECT_DONE (STUB_BASE + STUB_OFF_INJECT_DONE)
#define STUB_BATCH (STUB_BASE + STUB_OFF_BATCH)
/* Instruction pointers the kernel reports for the two allowed syscall sites. */
#define STUB_INJECT_SYSCALL_IP (STUB_INJECT + 2)
#define STUB_PARK_SYSCALL_IP (STUB_PARK + 7)

/*
 * The batch page: one memory-file page (its offset in %r15 at the stub's first
 * instruction, set by the addon at the exec stop), mapped read-only here by the prologue.
 * The sentry writes a list of host syscalls into it through its own mapping of the memory
 * file, then points the control thread at STUB_BATCH: the stub runs them one after the
 * other through the inject gadget's `syscall` (the same site for the seccomp filters) and
 * stops once, at STUB_INJECT_DONE, after the last or at the first that fails (rax its
 * result, %r13 the entries not completed). An entry is 8 quadwords: nr, 6 arguments, pad.
 * Read-only in the stub: no thread of the stub process (an application thread under
 * systrap included) can write the list the control thread runs.
 */
#define STUB_BATCH_PAGE (STUB_BASE + 0x8000)
#define STUB_BATCH_ENTRY_SIZE 64
#define STUB_BATCH_MAX (0x1000 / STUB_BATCH_ENTRY_SIZE)

/*
 * The title page: an anonymous private page the sentry maps above the stub (below the
 * systrap blocks, with nothing mapped after it) when it first names the process, the only
 * memory whose bytes the host's /proc/<pid>/cmdline reads (it reads anonymous mappings
 * only, never the memory file's shared ones). The sentry fills it with pread64 of a
 * memory-file page injected at the gadget, then names the process (PR_SET_NAME) and
 * points its argument range at the copy of argv (prctl PR_SET_MM_MAP): a struct
 * prctl_mm_map, the 16-byte comm, then the argument strings (platform/ptrace/title.ts).
 */
#define STUB_TITLE (STUB_BASE + 0x80000)
#define STUB_TITLE_SIZE 0x1000
#define STUB_TITLE_OFF_COMM 0x70
#define STUB_TITLE_OFF_ARGS 0x80
#define STUB_TITLE_COMM (STUB_TITLE + STUB_TITLE_OFF_COMM)
#define PRCTL_MM_MAP_SIZE 104 /* sizeof(struct prctl_mm_map) */

/* The memory file is file descriptor STUB_MEMFD in every stub; no other fd is open. */
#define STUB_MEMFD 3

#endif
