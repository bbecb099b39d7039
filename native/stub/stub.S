/*
 * stub.S is the program every ptrace address space starts as: no libc, no stack, one
 * read-only executable section at STUB_BASE (layout.h).
 *
 * At start it unmaps everything but itself (the kernel's stack, vdso and vvar), sets
 * no_new_privs, arms a 10 ms ITIMER_VIRTUAL time slice and installs a seccomp filter that kills the whole process on any host
 * syscall except a few (mmap, munmap, mprotect, clone, exit) made from the inject gadget
 * and pause from the park gadget, and traps the vsyscall page's emulated calls. Then it stops on int3 at STUB_READY for its tracer.
 *
 * Application code runs in stub threads under PTRACE_SYSEMU, so its syscalls stop in the
 * tracer before seccomp is even consulted; the filter is the backstop for any way a stub
 * thread could run a syscall without that (a tracer bug, a detach).
 */
#include "layout.h"

#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_munmap 11
#define SYS_pause 34
#define SYS_setitimer 38
#define SYS_clone 56
#define SYS_exit 60
#define SYS_prctl 157
#define SYS_seccomp 317
#define PR_SET_NO_NEW_PRIVS 38
#define SECCOMP_SET_MODE_FILTER 1
#define ITIMER_VIRTUAL 1

/* struct sock_filter: u16 code, u8 jt, u8 jf, u32 k. */
#define LD_ABS(off) .short 0x20; .byte 0, 0; .int (off)
#define JEQ(k, jt, jf) .short 0x15; .byte (jt), (jf); .int (k)
#define RET(k) .short 0x06; .byte 0, 0; .int (k)
#define AND(k) .short 0x54; .byte 0, 0; .int (k)
#define SECCOMP_RET_KILL_PROCESS 0x80000000
#define SECCOMP_RET_TRAP 0x00030000
/* The legacy vsyscall page, which the host kernel emulates (consulting seccomp only). */
#define VSYSCALL_HI32 0xffffffff
#define VSYSCALL_LO32 0xff600000
#define SECCOMP_RET_ALLOW 0x7fff0000
#define AUDIT_ARCH_X86_64 0xc000003e
#define LO32(x) ((x) & 0xffffffff)
#define HI32(x) (((x) >> 32) & 0xffffffff)

	.text
	.globl _start
_start:
	/* munmap(0, STUB_BASE): everything below the stub. */
	mov $SYS_munmap, %eax
	xor %edi, %edi
	movabs $STUB_BASE, %rsi
	syscall
	test %rax, %rax
	jnz fail
	/* munmap(STUB_BASE+STUB_SIZE, top - that): the stack, vdso, vvar. */
	mov $SYS_munmap, %eax
	movabs $(STUB_BASE + STUB_SIZE), %rdi
	movabs $(STUB_TASK_TOP - STUB_BASE - STUB_SIZE), %rsi
	syscall
	test %rax, %rax
	jnz fail
	mov $SYS_prctl, %eax
	mov $PR_SET_NO_NEW_PRIVS, %edi
	mov $1, %esi
	xor %edx, %edx
	xor %r10d, %r10d
	xor %r8d, %r8d
	syscall
	test %rax, %rax
	jnz fail
	/* setitimer(ITIMER_VIRTUAL, 10 ms): every 10 ms of user time the process gets
	 * SIGVTALRM, which stops the running stub thread for its tracer. That is how the
	 * sentry takes the CPU back from a task that loops without syscalls (a time slice);
	 * the tracer suppresses the signal, so the application never sees it. */
	mov $SYS_setitimer, %eax
	mov $ITIMER_VIRTUAL, %edi
	lea slice(%rip), %rsi
	xor %edx, %edx
	syscall
	test %rax, %rax
	jnz fail
	mov $SYS_seccomp, %eax
	mov $SECCOMP_SET_MODE_FILTER, %edi
	xor %esi, %esi
	lea fprog(%rip), %rdx
	syscall
	test %rax, %rax
	jnz fail
	jmp ready

	.org STUB_OFF_READY, 0xcc
ready:
	int3
	hlt

	.org STUB_OFF_FAIL, 0xcc
fail:
	hlt

	.org STUB_OFF_INJECT, 0xcc
	syscall
	int3
	hlt

	.org STUB_OFF_PARK, 0xcc
park:
	mov $SYS_pause, %eax
	syscall
	jmp park

	/* struct itimerval: interval, then first expiry (tv_sec, tv_usec each). */
	.org STUB_OFF_SLICE, 0xcc
slice:
	.quad 0, 10000, 0, 10000

	.org STUB_OFF_FILTER - 16, 0xcc
fprog:
	.short 22
	.short 0, 0, 0
	.quad STUB_BASE + STUB_OFF_FILTER

	.org STUB_OFF_FILTER, 0xcc
	/* A call into the vsyscall page (application code: the host kernel emulates it on
	 * the instruction fetch, without a syscall stop) traps: SIGSYS, which stops the
	 * thread for its tracer, and the sentry runs the call (platform/ptrace/decode.ts). */
	/* 0 */ LD_ABS(4)
	/* 1 */ JEQ(AUDIT_ARCH_X86_64, 0, 18)
	/* 2 */ LD_ABS(12)
	/* 3 */ JEQ(HI32(STUB_BASE), 0, 11)
	/* 4 */ LD_ABS(8)
	/* 5 */ JEQ(LO32(STUB_PARK_SYSCALL_IP), 7, 0)
	/* 6 */ JEQ(LO32(STUB_INJECT_SYSCALL_IP), 0, 13)
	/* 7 */ LD_ABS(0)
	/* 8 */ JEQ(SYS_mmap, 12, 0)
	/* 9 */ JEQ(SYS_mprotect, 11, 0)
	/* 10 */ JEQ(SYS_munmap, 10, 0)
	/* 11 */ JEQ(SYS_clone, 9, 0)
	/* 12 */ JEQ(SYS_exit, 8, 7)
	/* 13 */ LD_ABS(0)
	/* 14 */ JEQ(SYS_pause, 6, 5)
	/* 15 */ JEQ(VSYSCALL_HI32, 0, 4)
	/* 16 */ LD_ABS(8)
	/* 17 */ AND(0xfffff000)
	/* 18 */ JEQ(VSYSCALL_LO32, 0, 1)
	/* 19 */ RET(SECCOMP_RET_TRAP)
	/* 20 */ RET(SECCOMP_RET_KILL_PROCESS)
	/* 21 */ RET(SECCOMP_RET_ALLOW)
