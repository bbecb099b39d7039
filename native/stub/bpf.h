/*
 * bpf.h holds the seccomp BPF macros both stubs write their filters with (native/stub/stub.S,
 * native/systrap/stub.S): struct sock_filter is u16 code, u8 jt, u8 jf, u32 k; a jump names
 * its targets by label. Offsets in struct seccomp_data: nr 0, arch 4, ip 8 (low) and 12
 * (high), args[i] at 16 + 8*i (low half) and 20 + 8*i (high half).
 *
 * STUB_TITLE_CALLS is the part of the ptrace stub's filter that lets the inject gadget
 * name the process (layout.h's title page), every argument that matters pinned:
 * pread64(STUB_MEMFD, STUB_TITLE, STUB_TITLE_SIZE, any offset: the memory file, which the
 * gadget's mmap may map whole anyway), prctl(PR_SET_NAME, STUB_TITLE_COMM) and
 * prctl(PR_SET_MM, PR_SET_MM_MAP, STUB_TITLE, ...) (the size and the fifth argument are
 * the kernel's to check: EINVAL). With the syscall number in A, it jumps to `allow` for
 * those, to `kill` for any other form of them, and to `other` for any other syscall.
 * STUB_TITLE_CALLS_A is its shorter form for the systrap stub's filter A, which must end
 * before filter B's fixed place: pread64's fd and buffer, prctl's
 * option and PR_SET_MM_MAP are pinned, prctl's pointers and pread64's count are not.
 * Nothing of an application's reaches either there: its syscalls at the gadget stop in
 * the tracer (ptrace: PTRACE_SYSEMU) or are killed by filter B (systrap); and each call
 * can change its own process only (its name, the /proc fields PR_SET_MM_MAP sets without
 * a capability, its title page: nothing is mapped in the 508 KiB after that page). The
 * including file defines SYS_pread64 and SYS_prctl.
 */
#ifndef TVISOR_STUB_BPF_H
#define TVISOR_STUB_BPF_H

#define PR_SET_MM 35
#define PR_SET_MM_MAP 14

.macro BPF_LD off
	.short 0x20
	.byte 0, 0
	.int \off
.endm
.macro BPF_JEQ k, t, f
1:	.short 0x15
	.byte (\t - 1b - 8) / 8, (\f - 1b - 8) / 8
	.int \k
.endm
.macro BPF_RET k
	.short 0x06
	.byte 0, 0
	.int \k
.endm

/* BPF_ARG64 i, v, next, kill: args[i] == v (both halves), then `next`; else `kill`. */
.macro BPF_ARG64 i, v, next, kill
	BPF_LD (16 + 8 * \i)
	BPF_JEQ ((\v) & 0xffffffff), .Lhi\@, \kill
.Lhi\@:
	BPF_LD (20 + 8 * \i)
	BPF_JEQ (((\v) >> 32) & 0xffffffff), \next, \kill
.endm

.macro STUB_TITLE_CALLS allow, kill, other
	BPF_JEQ SYS_pread64, .Lpread\@, .Lnr\@
.Lnr\@:
	BPF_JEQ SYS_prctl, .Lprctl\@, \other
.Lpread\@:
	/* fd is an int: its low half only. */
	BPF_LD 16
	BPF_JEQ STUB_MEMFD, .Lp1\@, \kill
.Lp1\@:
	BPF_ARG64 1, STUB_TITLE, .Lp2\@, \kill
.Lp2\@:
	BPF_ARG64 2, STUB_TITLE_SIZE, \allow, \kill
.Lprctl\@:
	/* option is an int: its low half only. */
	BPF_LD 16
	BPF_JEQ PR_SET_NAME, .Lname\@, .Lmm\@
.Lmm\@:
	BPF_JEQ PR_SET_MM, .Lm1\@, \kill
.Lname\@:
	BPF_ARG64 1, STUB_TITLE_COMM, \allow, \kill
.Lm1\@:
	/* PR_SET_MM's operation is an int too. */
	BPF_LD 24
	BPF_JEQ PR_SET_MM_MAP, .Lm2\@, \kill
.Lm2\@:
	BPF_ARG64 2, STUB_TITLE, \allow, \kill
.endm

.macro STUB_TITLE_CALLS_A allow, kill, other
	BPF_JEQ SYS_pread64, .Lpread\@, .Lnr\@
.Lnr\@:
	BPF_JEQ SYS_prctl, .Lprctl\@, \other
.Lpread\@:
	BPF_LD 16
	BPF_JEQ STUB_MEMFD, .Lp1\@, \kill
.Lp1\@:
	BPF_ARG64 1, STUB_TITLE, \allow, \kill
.Lprctl\@:
	BPF_LD 16
	BPF_JEQ PR_SET_NAME, \allow, .Lmm\@
.Lmm\@:
	BPF_JEQ PR_SET_MM, .Lm1\@, \kill
.Lm1\@:
	BPF_LD 24
	BPF_JEQ PR_SET_MM_MAP, \allow, \kill
.endm

#endif
