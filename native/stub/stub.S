/*
 * stub.S is the program every ptrace address space starts as: no libc, no stack, one
 * read-only executable section at STUB_BASE (layout.h).
 *
 * At start it unmaps everything but itself (the kernel's stack, vdso and vvar), sets
 * no_new_privs, arms a 10 ms ITIMER_VIRTUAL time slice and installs a seccomp filter that kills the whole process on any host
 * syscall except a few (mmap, munmap, mprotect, clone, exit) made from the inject gadget
 * and pause from the park gadget, plus the title calls (bpf.h's STUB_TITLE_CALLS: the
 * process's name and command line, their arguments pinned) from the inject gadget. Then it
 * stops on int3 at STUB_READY for its tracer.
 *
 * The inject gadget runs one call (%r13 = 0) or a batch: from STUB_BATCH, the list on the
 * read-only batch page (layout.h), each entry through the gadget's one `syscall`, so the
 * filter sees the same site either way; it stops once, after the last or the first failure.
 *
 * A call into the legacy vsyscall page (0xffffffffff600000) is emulated by the host
 * kernel, which consults seccomp with that page as instruction pointer: the filter traps
 * it (SECCOMP_RET_TRAP), so the host skips the call, returns to the caller and raises
 * SIGSYS, which the tracer sees and the sentry answers (sentry/kernel/vsyscall.ts).
 *
 * Application code runs in stub threads under PTRACE_SYSEMU, so its syscalls stop in the
 * tracer before seccomp is even consulted; the filter is the backstop for any way a stub
 * thread could run a syscall without that (a tracer bug, a detach).
 */
#include "layout.h"

#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_pread64 17
#define SYS_munmap 11
#define SYS_pause 34
#define SYS_setitimer 38
#define SYS_clone 56
#define SYS_exit 60
#define SYS_prctl 157
#define SYS_seccomp 317
#define PR_SET_NO_NEW_PRIVS 38
#define PR_SET_NAME 15
#define SECCOMP_SET_MODE_FILTER 1
#define ITIMER_VIRTUAL 1

#define SECCOMP_RET_KILL_PROCESS 0x80000000
#define SECCOMP_RET_ALLOW 0x7fff0000
#define SECCOMP_RET_TRAP 0x00030000
#define VSYSCALL_HI32 0xffffffff
#define AUDIT_ARCH_X86_64 0xc000003e
#define LO32(x) ((x) & 0xffffffff)
#define HI32(x) (((x) >> 32) & 0xffffffff)

#include "bpf.h"
#include "prologue.h"

	.text
	.globl _start
_start:
	STUB_PROLOGUE
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

	STUB_INJECT_GADGET

	.org STUB_OFF_PARK, 0xcc
park:
	mov $SYS_pause, %eax
	syscall
	jmp park

	/* struct itimerval: interval, then first expiry (tv_sec, tv_usec each). */
	.org STUB_OFF_SLICE, 0xcc
slice:
	.quad 0, 10000, 0, 10000

name:
	.asciz "tvisor-stub"

	.org STUB_OFF_FILTER - 16, 0xcc
fprog:
	.short (filter_end - filter) / 8
	.short 0, 0, 0
	.quad STUB_BASE + STUB_OFF_FILTER

	.org STUB_OFF_FILTER, 0xcc
filter:
	BPF_LD 4
	BPF_JEQ AUDIT_ARCH_X86_64, f_ip, f_kill
f_ip:
	BPF_LD 12
	BPF_JEQ HI32(STUB_BASE), f_lo, f_vsyscall
f_vsyscall:
	BPF_JEQ VSYSCALL_HI32, f_trap, f_kill
f_lo:
	BPF_LD 8
	BPF_JEQ LO32(STUB_PARK_SYSCALL_IP), f_park, f_inject_ip
f_inject_ip:
	BPF_JEQ LO32(STUB_INJECT_SYSCALL_IP), f_inject, f_kill
f_inject:
	BPF_LD 0
	BPF_JEQ SYS_mmap, f_allow, f_i1
f_i1:
	BPF_JEQ SYS_mprotect, f_allow, f_i2
f_i2:
	BPF_JEQ SYS_munmap, f_allow, f_i3
f_i3:
	BPF_JEQ SYS_clone, f_allow, f_i4
f_i4:
	BPF_JEQ SYS_exit, f_allow, f_title
f_title:
	STUB_TITLE_CALLS f_allow, f_kill, f_kill
f_park:
	BPF_LD 0
	BPF_JEQ SYS_pause, f_allow, f_kill
f_kill:
	BPF_RET SECCOMP_RET_KILL_PROCESS
f_allow:
	BPF_RET SECCOMP_RET_ALLOW
f_trap:
	BPF_RET SECCOMP_RET_TRAP
filter_end:
