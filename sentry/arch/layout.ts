/**
 * layout holds the byte layout of the x86-64 signal frame (arch/x86/include/asm/sigframe.h
 * and the uapi headers asm/ucontext.h, asm/sigcontext.h, asm-generic/siginfo.h). The test
 * compiles testing/offsets.c against the host's kernel headers and checks every number.
 *
 *   struct rt_sigframe {              offset
 *     char *pretcode;                   0    sa_restorer: the handler's return address
 *     struct ucontext uc;               8    304 bytes
 *     struct siginfo info;            312    128 bytes
 *   };                                440    the FP state follows, 64-byte aligned, above
 *
 *   struct ucontext { u64 uc_flags @0; ucontext *uc_link @8; stack_t uc_stack @16
 *     (ss_sp @0, int ss_flags @8, size_t ss_size @16); struct sigcontext uc_mcontext @40;
 *     sigset_t uc_sigmask @296 (64 bits) }
 *   struct sigcontext { r8 r9 r10 r11 r12 r13 r14 r15 rdi rsi rbp rbx rdx rax rcx rsp rip
 *     eflags (8 bytes each, @0..@136); u16 cs @144, gs @146, fs @148, ss @150; err @152;
 *     trapno @160; oldmask @168; cr2 @176; fpstate pointer @184; reserved1[8] @192 }
 */

/** UC is struct ucontext's field offsets. */
export const UC = { flags: 0, link: 8, stack: 16, mcontext: 40, sigmask: 296, size: 304 } as const;
/** STACK_T is stack_t's field offsets. */
export const STACK_T = { sp: 0, flags: 8, size: 16 } as const;
/** SC_REGS lists the 64-bit registers at the start of struct sigcontext, in order. */
export const SC_REGS = [
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi', 'rbp', 'rbx', 'rdx', 'rax', 'rcx', 'rsp', 'rip', 'eflags',
] as const;
/** SC is struct sigcontext's other field offsets. */
export const SC = { cs: 144, gs: 146, fs: 148, ss: 150, err: 152, trapno: 160, oldmask: 168, cr2: 176, fpstate: 184, size: 256 } as const;
/** FRAME is struct rt_sigframe's field offsets. */
export const FRAME = { pretcode: 0, uc: 8, info: 312, size: 440 } as const;
/** SIGINFO_SIZE is sizeof(siginfo_t). */
export const SIGINFO_SIZE = 128;
/** RED_ZONE is the x86-64 psABI red zone below rsp that a signal frame must not touch. */
export const RED_ZONE = 128;

/** UC_FP_XSTATE (the frame holds an xsave area), UC_SIGCONTEXT_SS, UC_STRICT_RESTORE_SS. */
export const UC_FP_XSTATE = 1, UC_SIGCONTEXT_SS = 2, UC_STRICT_RESTORE_SS = 4;
/** FP_XSTATE_MAGIC1 is in the xsave area's sw_reserved bytes; FP_XSTATE_MAGIC2 right after the area. */
export const FP_XSTATE_MAGIC1 = 0x46505853, FP_XSTATE_MAGIC2 = 0x46505845;
/** FP_XSTATE_MAGIC2_SIZE is the size of the trailing magic. */
export const FP_XSTATE_MAGIC2_SIZE = 4;
/** SW_RESERVED is the offset of struct _fpx_sw_bytes in the xsave legacy area (48 bytes). */
export const SW_RESERVED = 464;
/** XSAVE_HEADER is the offset of the xsave header (XSTATE_BV, XCOMP_BV, reserved) in the area. */
export const XSAVE_HEADER = 512;
/** XSAVE_MIN_SIZE is the legacy area plus the header. */
export const XSAVE_MIN_SIZE = 576;

/** USER_CS, USER_DS: the 64-bit user code and data selectors (__USER_CS, __USER_DS). */
export const USER_CS = 0x33n, USER_DS = 0x2bn;

/** EFLAGS bits. */
export const EFLAGS = {
  CF: 0x1n, PF: 0x4n, AF: 0x10n, ZF: 0x40n, SF: 0x80n, TF: 0x100n, IF: 0x200n, DF: 0x400n, OF: 0x800n,
  RF: 0x10000n, AC: 0x40000n,
} as const;
/** FIX_EFLAGS are the eflags bits rt_sigreturn takes from the frame (Linux's FIX_EFLAGS); the rest stay. */
export const FIX_EFLAGS = EFLAGS.AC | EFLAGS.OF | EFLAGS.DF | EFLAGS.TF | EFLAGS.SF | EFLAGS.ZF | EFLAGS.AF |
  EFLAGS.PF | EFLAGS.CF | EFLAGS.RF;

/** SA_ONSTACK, SA_RESTORER: sigaction flags the frame builder looks at. */
export const SA_ONSTACK = 0x08000000, SA_RESTORER = 0x04000000;
/** SS_ONSTACK, SS_DISABLE, SS_AUTODISARM: sigaltstack flags. */
export const SS_ONSTACK = 1, SS_DISABLE = 2, SS_AUTODISARM = 0x80000000;
/** SIGKILL and SIGSTOP can never be blocked. */
export const UNBLOCKABLE_MASK = (1n << 8n) | (1n << 18n);
/** USER_ADDRESS_LIMIT is one past the highest canonical user address with 4-level paging. */
export const USER_ADDRESS_LIMIT = 1n << 47n;
