/*
 * layout.h fixes where the systrap stub keeps its code and its per-thread blocks, shared
 * by the stub (stub.S), the addon (systrap/addon.cc) and mirrored in
 * platform/systrap/layout.ts. The start-up entry points (ready, fail, inject) are the
 * ptrace stub's (../stub/layout.h): the addon starts both stubs the same way.
 *
 * A block is one application thread's shared memory: a header the stub and the sentry
 * exchange state through, then the thread's alternate signal stack, on which the kernel
 * builds the signal frame (general registers and XSAVE image) that the sentry reads and
 * writes. Blocks are BLOCK_SIZE-aligned, so the handler finds its block from %rsp.
 */
#ifndef TVISOR_SYSTRAP_LAYOUT_H
#define TVISOR_SYSTRAP_LAYOUT_H

#include "../stub/layout.h"

/* Offsets inside the stub region (beyond those of ../stub/layout.h). */
#define SYSTRAP_OFF_BIRTH STUB_OFF_PARK /* int3: a new thread's first event, after detach */
#define SYSTRAP_OFF_FILTER_B 0x700      /* the per-thread seccomp program of application threads */
#define SYSTRAP_OFF_HANDLER 0x800       /* the signal handler */
#define SYSTRAP_OFF_RESTORER 0xa00      /* mov $SYS_rt_sigreturn, %eax; syscall */
#define SYSTRAP_OFF_WAKE 0xa40          /* the handler's futex(FUTEX_WAKE) site */
#define SYSTRAP_OFF_WAIT 0xa80          /* the handler's futex(FUTEX_WAIT) site */
#define SYSTRAP_OFF_EXIT 0xac0          /* exit(0): the sentry ends this thread */
#define SYSTRAP_OFF_YIELD 0xb00         /* the handler's sched_yield site (its bounded spin) */
#define SYSTRAP_OFF_ARCH 0xb40          /* the handler's arch_prctl site (hosts without FSGSBASE) */

#define SYSTRAP_BIRTH (STUB_BASE + SYSTRAP_OFF_BIRTH)
#define SYSTRAP_FPROG_B (STUB_BASE + SYSTRAP_OFF_FILTER_B - 16)
/* Instruction pointers the kernel reports for each allowed syscall site (after `syscall`). */
#define SYSTRAP_RESTORER_IP (STUB_BASE + SYSTRAP_OFF_RESTORER + 7)
#define SYSTRAP_WAKE_IP (STUB_BASE + SYSTRAP_OFF_WAKE + 2)
#define SYSTRAP_WAIT_IP (STUB_BASE + SYSTRAP_OFF_WAIT + 2)
#define SYSTRAP_EXIT_IP (STUB_BASE + SYSTRAP_OFF_EXIT + 2)
#define SYSTRAP_YIELD_IP (STUB_BASE + SYSTRAP_OFF_YIELD + 2)
#define SYSTRAP_ARCH_IP (STUB_BASE + SYSTRAP_OFF_ARCH + 2)

/* Per-thread blocks: BLOCK_SIZE each, from SYSTRAP_BLOCKS up to STUB_TASK_TOP. */
#define SYSTRAP_BLOCKS (STUB_BASE + 0x100000)
#define SYSTRAP_BLOCK_SIZE 0x8000
#define SYSTRAP_BLOCK_SLOTS ((STUB_TASK_TOP - SYSTRAP_BLOCKS) / SYSTRAP_BLOCK_SIZE)

/* Block header (offsets); the alternate stack is [ALTSTACK, BLOCK_SIZE). */
#define BLK_STATE 0          /* u32, futex word: EVENT (stub waits) / RESUME / EXIT */
#define BLK_STUB_WAITING 4   /* u32: the stub sleeps on BLK_STATE (the sentry must wake it) */
#define BLK_SENTRY_WAITING 8 /* u32: the sentry sleeps on BLK_STATE (the stub must wake it) */
#define BLK_UCONTEXT 16      /* u64: the signal frame's ucontext (stub address) */
#define BLK_SIGINFO 24       /* u64: the signal frame's siginfo (stub address) */
#define BLK_FS_BASE 32       /* u64: fs base at the event; loaded again at resume */
#define BLK_GS_BASE 40       /* u64: gs base, likewise */
#define BLK_STUB_SPIN 48     /* u64: TSC ticks the stub spins (sched_yield) before it sleeps (the sentry sets it) */
#define BLK_TSC_EVENT 56     /* u64: TSC when the handler was entered (the sentry's debug stamps) */
#define BLK_SIGALTSTACK 64   /* stack_t the sentry writes for the injected sigaltstack */
#define BLK_TSC_RESUMED 88   /* u64: TSC when the handler saw RESUME (the sentry's debug stamps) */
#define BLK_FS_LOADED 96     /* u64: without FSGSBASE, the fs base the thread has (set by the stub's arch_prctl) */
#define BLK_GS_LOADED 104    /* u64: gs base, likewise */
#define BLK_NO_FSGSBASE 112  /* u32: the host lacks FSGSBASE: fs/gs base through arch_prctl (the sentry sets it) */
#define BLK_ALTSTACK 0x1000

#define STATE_EVENT 1
#define STATE_RESUME 2
#define STATE_EXIT 3


#endif
