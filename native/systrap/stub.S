/*
 * stub.S is the program every systrap address space starts as: no libc, no stack, one
 * read-only executable section at STUB_BASE (layout.h). It starts as the ptrace stub does
 * (traced by the sentry, which runs it to STUB_READY), but application threads run in it
 * untraced: their syscalls and faults become signals that the stub's handler reports to
 * the sentry through the thread's shared block.
 *
 * Start-up: unmap everything but itself, name itself, set no_new_privs, arm the 10 ms
 * ITIMER_VIRTUAL time slice (SIGVTALRM), install the handler for every catchable signal
 * (on the alternate stack, all signals blocked while it runs, returning through the
 * restorer below), install filter A and stop on int3 at STUB_READY.
 *
 * Filter A (the whole process): a syscall whose instruction pointer is not one of the
 * stub's own syscall sites traps (SECCOMP_RET_TRAP: the host skips it and raises SIGSYS,
 * which the handler reports as a syscall, or as a vsyscall call). From a site, only that
 * site's syscall passes, anything else kills the process:
 *   inject gadget: mmap, munmap, mprotect, clone, exit, sigaltstack,
 *                  seccomp(SET_MODE_FILTER, 0, filter B) and the title calls
 *                  (../stub/bpf.h) (driven by the sentry through ptrace on the control
 *                  thread, or on a new thread before its detach);
 *   restorer:      rt_sigreturn;   wake site: futex(FUTEX_WAKE);
 *   wait site:     futex(FUTEX_WAIT);   exit site: exit;   yield site: sched_yield;
 *   arch site:     arch_prctl(ARCH_SET_FS or ARCH_SET_GS) (hosts without FSGSBASE).
 * Filter B (each application thread, stacked on A): any syscall from the inject gadget
 * kills the process, so an application thread can never reach mmap or clone.
 *
 * Handler (rdi = signal, rsi = siginfo, rdx = ucontext; %rsp in the thread's block): it
 * stores the frame's addresses and fs/gs base in the block header, sets the state to
 * EVENT, wakes the sentry if it sleeps, spins (sched_yield, so that a sentry sharing its
 * CPU runs) until BLK_STUB_SPIN TSC ticks have passed since it was entered, then sleeps
 * on the futex until the state changes: RESUME loads fs/gs base and returns
 * (rt_sigreturn loads the registers and XSAVE image the sentry left in the frame);
 * anything else exits the thread. The TSC at entry and at RESUME go in the header (the
 * sentry's debug stamps).
 *
 * Hosts without FSGSBASE (HWCAP2_FSGSBASE unset: some hypervisors hide it; the sentry
 * sets BLK_NO_FSGSBASE): rdfsbase would fault, so the block keeps the bases the thread
 * has (BLK_FS_LOADED, BLK_GS_LOADED: 0 for a new thread, cloned from the control thread,
 * which never sets them) and reports them at each event; at RESUME, a base the sentry
 * changed is loaded with arch_prctl from the arch site. The application cannot change its
 * bases behind the sentry's back there: wrfsbase faults (SIGILL) and arch_prctl traps;
 * a jump to the arch site changes its own thread's base only, as arch_prctl would.
 */
#include "layout.h"

#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_pread64 17
#define SYS_munmap 11
#define SYS_rt_sigaction 13
#define SYS_rt_sigreturn 15
#define SYS_sched_yield 24
#define SYS_setitimer 38
#define SYS_clone 56
#define SYS_exit 60
#define SYS_sigaltstack 131
#define SYS_prctl 157
#define SYS_futex 202
#define SYS_seccomp 317
#define SYS_arch_prctl 158
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define PR_SET_NO_NEW_PRIVS 38
#define PR_SET_NAME 15
#define SECCOMP_SET_MODE_FILTER 1
#define ITIMER_VIRTUAL 1
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define SA_SIGINFO 4
#define SA_ONSTACK 0x08000000
#define SA_RESTORER 0x04000000

#define SECCOMP_RET_KILL_PROCESS 0x80000000
#define SECCOMP_RET_ALLOW 0x7fff0000
#define SECCOMP_RET_TRAP 0x00030000
#define AUDIT_ARCH_X86_64 0xc000003e
#define LO32(x) ((x) & 0xffffffff)
#define HI32(x) (((x) >> 32) & 0xffffffff)

#include "../stub/bpf.h"
#include "../stub/prologue.h"

/* LOAD_BASE loads one base the sentry answered (at offset `base` of the block) with
 * arch_prctl(code) from the arch site when it differs from the one loaded (`loaded`), and
 * records it once the host took it; %r14 is where the arch site returns to. */
.macro LOAD_BASE base, loaded, code
	mov \base(%rbx), %rsi
	cmp \loaded(%rbx), %rsi
	je 2f
	mov $\code, %edi
	lea 1f(%rip), %r14
	jmp arch_call
1:	test %rax, %rax
	jnz 2f
	mov \base(%rbx), %rsi
	mov %rsi, \loaded(%rbx)
2:
.endm

	.text
	.globl _start
_start:
	STUB_PROLOGUE
	jmp start_rest

	.org STUB_OFF_READY, 0xcc
ready:
	int3
	hlt

	.org STUB_OFF_FAIL, 0xcc
fail:
	hlt

	STUB_INJECT_GADGET

	/* A new application thread, detached by the sentry, starts here: its int3 is its
	 * first event, which the sentry answers with the task's registers. */
	.org SYSTRAP_OFF_BIRTH, 0xcc
	int3
	hlt

	/* struct itimerval: interval, then first expiry (tv_sec, tv_usec each). */
	.org STUB_OFF_SLICE, 0xcc
slice:
	.quad 0, 10000, 0, 10000
	/* struct kernel_sigaction: handler, flags, restorer, mask. */
action:
	.quad STUB_BASE + SYSTRAP_OFF_HANDLER
	.quad SA_SIGINFO | SA_ONSTACK | SA_RESTORER
	.quad STUB_BASE + SYSTRAP_OFF_RESTORER
	.quad -1
name:
	.asciz "tvisor-systrap"

	.org STUB_OFF_FILTER - 16, 0xcc
fprog_a:
	.short (filter_a_end - filter_a) / 8
	.short 0, 0, 0
	.quad STUB_BASE + STUB_OFF_FILTER

	.org STUB_OFF_FILTER, 0xcc
filter_a:
	BPF_LD 4
	BPF_JEQ AUDIT_ARCH_X86_64, a_ip, a_kill
a_ip:
	BPF_LD 12
	BPF_JEQ HI32(STUB_BASE), a_lo, a_trap
a_lo:
	BPF_LD 8
	BPF_JEQ LO32(STUB_INJECT_SYSCALL_IP), a_inject, a_1
a_1:
	BPF_JEQ LO32(SYSTRAP_RESTORER_IP), a_sigreturn, a_2
a_2:
	BPF_JEQ LO32(SYSTRAP_WAKE_IP), a_wake, a_3
a_3:
	BPF_JEQ LO32(SYSTRAP_WAIT_IP), a_wait, a_4
a_4:
	BPF_JEQ LO32(SYSTRAP_EXIT_IP), a_exit, a_5
a_5:
	BPF_JEQ LO32(SYSTRAP_YIELD_IP), a_yield, a_6
a_6:
	BPF_JEQ LO32(SYSTRAP_ARCH_IP), a_arch, a_trap
a_inject:
	BPF_LD 0
	BPF_JEQ SYS_mmap, a_allow, a_i1
a_i1:
	BPF_JEQ SYS_munmap, a_allow, a_i2
a_i2:
	BPF_JEQ SYS_mprotect, a_allow, a_i3
a_i3:
	BPF_JEQ SYS_clone, a_allow, a_i4
a_i4:
	BPF_JEQ SYS_exit, a_allow, a_i5
a_i5:
	BPF_JEQ SYS_sigaltstack, a_allow, a_i6
a_i6:
	BPF_JEQ SYS_seccomp, a_seccomp, a_title
a_title:
	STUB_TITLE_CALLS_A a_allow, a_kill, a_kill
a_seccomp:
	BPF_LD 16 /* args[0] low: SECCOMP_SET_MODE_FILTER */
	BPF_JEQ SECCOMP_SET_MODE_FILTER, a_s1, a_kill
a_s1:
	BPF_LD 20
	BPF_JEQ 0, a_s2, a_kill
a_s2:
	BPF_LD 24 /* args[1]: flags 0 (no TSYNC, no listener) */
	BPF_JEQ 0, a_s3, a_kill
a_s3:
	BPF_LD 28
	BPF_JEQ 0, a_s4, a_kill
a_s4:
	BPF_LD 32 /* args[2]: filter B */
	BPF_JEQ LO32(SYSTRAP_FPROG_B), a_s5, a_kill
a_s5:
	BPF_LD 36
	BPF_JEQ HI32(SYSTRAP_FPROG_B), a_allow, a_kill
a_sigreturn:
	BPF_LD 0
	BPF_JEQ SYS_rt_sigreturn, a_allow, a_kill
a_wake:
	BPF_LD 0
	BPF_JEQ SYS_futex, a_wake_op, a_kill
a_wake_op:
	BPF_LD 24
	BPF_JEQ FUTEX_WAKE, a_allow, a_kill
a_wait:
	BPF_LD 0
	BPF_JEQ SYS_futex, a_wait_op, a_kill
a_wait_op:
	BPF_LD 24
	BPF_JEQ FUTEX_WAIT, a_allow, a_kill
a_exit:
	BPF_LD 0
	BPF_JEQ SYS_exit, a_allow, a_kill
a_yield:
	BPF_LD 0
	BPF_JEQ SYS_sched_yield, a_allow, a_kill
a_arch:
	BPF_LD 0
	BPF_JEQ SYS_arch_prctl, a_arch_op, a_kill
a_arch_op:
	BPF_LD 16 /* args[0]: the code (an int: the high half is not read by the kernel) */
	BPF_JEQ ARCH_SET_FS, a_allow, a_arch_gs
a_arch_gs:
	BPF_JEQ ARCH_SET_GS, a_allow, a_kill
a_kill:
	BPF_RET SECCOMP_RET_KILL_PROCESS
a_allow:
	BPF_RET SECCOMP_RET_ALLOW
a_trap:
	BPF_RET SECCOMP_RET_TRAP
filter_a_end:

	.org SYSTRAP_OFF_FILTER_B - 16, 0xcc
fprog_b:
	.short (filter_b_end - filter_b) / 8
	.short 0, 0, 0
	.quad STUB_BASE + SYSTRAP_OFF_FILTER_B

	.org SYSTRAP_OFF_FILTER_B, 0xcc
filter_b:
	BPF_LD 4
	BPF_JEQ AUDIT_ARCH_X86_64, b_ip, b_kill
b_ip:
	BPF_LD 12
	BPF_JEQ HI32(STUB_BASE), b_lo, b_allow
b_lo:
	BPF_LD 8
	BPF_JEQ LO32(STUB_INJECT_SYSCALL_IP), b_kill, b_allow
b_kill:
	BPF_RET SECCOMP_RET_KILL_PROCESS
b_allow:
	BPF_RET SECCOMP_RET_ALLOW
filter_b_end:

	.org SYSTRAP_OFF_HANDLER, 0xcc
handler:
	/* r12: the TSC at entry (the spin's start); syscalls keep it. rdtsc takes rdx. */
	mov %rdx, %r13
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, %r12
	mov %rsp, %rbx
	and $-SYSTRAP_BLOCK_SIZE, %rbx
	mov %r12, BLK_TSC_EVENT(%rbx)
	mov %r13, BLK_UCONTEXT(%rbx)
	mov %rsi, BLK_SIGINFO(%rbx)
	cmpl $0, BLK_NO_FSGSBASE(%rbx)
	jne bases_kept
	rdfsbase %rax
	mov %rax, BLK_FS_BASE(%rbx)
	rdgsbase %rax
	mov %rax, BLK_GS_BASE(%rbx)
	jmp publish
bases_kept:
	mov BLK_FS_LOADED(%rbx), %rax
	mov %rax, BLK_FS_BASE(%rbx)
	mov BLK_GS_LOADED(%rbx), %rax
	mov %rax, BLK_GS_BASE(%rbx)
publish:
	/* Publish the event (a locked exchange orders it before the read of the flag). */
	mov $STATE_EVENT, %eax
	xchg %eax, BLK_STATE(%rbx)
	cmpl $0, BLK_SENTRY_WAITING(%rbx)
	je spin
	/* futex(&state, FUTEX_WAKE, 1): the sentry sleeps. */
	mov $SYS_futex, %eax
	mov %rbx, %rdi
	mov $FUTEX_WAKE, %esi
	mov $1, %edx
	jmp wake_site
spin:
	cmpl $STATE_EVENT, BLK_STATE(%rbx)
	jne answered
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	sub %r12, %rax
	cmp BLK_STUB_SPIN(%rbx), %rax
	jae sleep
	mov $SYS_sched_yield, %eax
	jmp yield_site
sleep:
	movl $1, BLK_STUB_WAITING(%rbx)
	mfence
	cmpl $STATE_EVENT, BLK_STATE(%rbx)
	jne woken
	/* futex(&state, FUTEX_WAIT, EVENT, NULL): until the sentry answers (or a spurious wake). */
	mov $SYS_futex, %eax
	mov %rbx, %rdi
	mov $FUTEX_WAIT, %esi
	mov $STATE_EVENT, %edx
	xor %r10d, %r10d
	jmp wait_site
woken:
	movl $0, BLK_STUB_WAITING(%rbx)
answered:
	cmpl $STATE_RESUME, BLK_STATE(%rbx)
	jne exit_thread
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	mov %rax, BLK_TSC_RESUMED(%rbx)
	cmpl $0, BLK_NO_FSGSBASE(%rbx)
	jne load_bases
	mov BLK_FS_BASE(%rbx), %rax
	wrfsbase %rax
	mov BLK_GS_BASE(%rbx), %rax
	wrgsbase %rax
	ret /* to the restorer: the frame's return address */
load_bases:
	/* arch_prctl(ARCH_SET_FS, base) where the sentry changed it; r14 is where the arch
	 * site returns to. A base the host refuses (not canonical) stays as it was. */
	LOAD_BASE BLK_FS_BASE, BLK_FS_LOADED, ARCH_SET_FS
	LOAD_BASE BLK_GS_BASE, BLK_GS_LOADED, ARCH_SET_GS
	ret /* to the restorer */
arch_call:
	mov $SYS_arch_prctl, %eax
	jmp arch_site
exit_thread:
	mov $SYS_exit, %eax
	xor %edi, %edi
	jmp exit_site

	.org SYSTRAP_OFF_RESTORER, 0xcc
	mov $SYS_rt_sigreturn, %eax
	syscall
	hlt

	.org SYSTRAP_OFF_WAKE, 0xcc
wake_site:
	syscall
	jmp spin

	.org SYSTRAP_OFF_WAIT, 0xcc
wait_site:
	syscall
	jmp sleep

	.org SYSTRAP_OFF_EXIT, 0xcc
exit_site:
	syscall
	hlt

	.org SYSTRAP_OFF_YIELD, 0xcc
yield_site:
	syscall
	jmp spin

	.org SYSTRAP_OFF_ARCH, 0xcc
arch_site:
	syscall
	jmp *%r14

	/* The rest of start-up (past the entry points: the prologue fills the room before
	 * STUB_OFF_READY). */
start_rest:
	/* rt_sigaction(sig, &action, NULL, 8) for 1..64 but SIGKILL (9) and SIGSTOP (19). */
	mov $1, %ebx
1:	cmp $9, %ebx
	je 2f
	cmp $19, %ebx
	je 2f
	mov $SYS_rt_sigaction, %eax
	mov %ebx, %edi
	lea action(%rip), %rsi
	xor %edx, %edx
	mov $8, %r10d
	syscall
	test %rax, %rax
	jnz fail
2:	inc %ebx
	cmp $64, %ebx
	jbe 1b
	mov $SYS_seccomp, %eax
	mov $SECCOMP_SET_MODE_FILTER, %edi
	xor %esi, %esi
	lea fprog_a(%rip), %rdx
	syscall
	test %rax, %rax
	jnz fail
	jmp ready
