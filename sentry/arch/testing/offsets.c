/* offsets prints the x86-64 signal-frame layout from the kernel uapi headers, for layout.test.ts. */
#include <stddef.h>
#include <stdio.h>
#include <asm/signal.h>
#include <asm/sigcontext.h>
#include <asm/ucontext.h>
#include <asm/siginfo.h>
#define P(name, expr) printf("%s %lu\n", name, (unsigned long)(expr))
int main(void) {
  P("ucontext.size", sizeof(struct ucontext));
  P("ucontext.uc_flags", offsetof(struct ucontext, uc_flags));
  P("ucontext.uc_link", offsetof(struct ucontext, uc_link));
  P("ucontext.uc_stack", offsetof(struct ucontext, uc_stack));
  P("ucontext.uc_mcontext", offsetof(struct ucontext, uc_mcontext));
  P("ucontext.uc_sigmask", offsetof(struct ucontext, uc_sigmask));
  P("stack.ss_sp", offsetof(stack_t, ss_sp));
  P("stack.ss_flags", offsetof(stack_t, ss_flags));
  P("stack.ss_size", offsetof(stack_t, ss_size));
  P("sigcontext.size", sizeof(struct sigcontext));
  P("sigcontext.r8", offsetof(struct sigcontext, r8));
  P("sigcontext.rdi", offsetof(struct sigcontext, rdi));
  P("sigcontext.rsp", offsetof(struct sigcontext, rsp));
  P("sigcontext.rip", offsetof(struct sigcontext, rip));
  P("sigcontext.eflags", offsetof(struct sigcontext, eflags));
  P("sigcontext.cs", offsetof(struct sigcontext, cs));
  P("sigcontext.ss", offsetof(struct sigcontext, ss));
  P("sigcontext.err", offsetof(struct sigcontext, err));
  P("sigcontext.trapno", offsetof(struct sigcontext, trapno));
  P("sigcontext.oldmask", offsetof(struct sigcontext, oldmask));
  P("sigcontext.cr2", offsetof(struct sigcontext, cr2));
  P("sigcontext.fpstate", offsetof(struct sigcontext, fpstate));
  P("siginfo.size", sizeof(siginfo_t));
  P("siginfo.si_pid", offsetof(siginfo_t, si_pid));
  P("siginfo.si_uid", offsetof(siginfo_t, si_uid));
  P("siginfo.si_status", offsetof(siginfo_t, si_status));
  P("siginfo.si_utime", offsetof(siginfo_t, si_utime));
  P("siginfo.si_stime", offsetof(siginfo_t, si_stime));
  P("siginfo.si_addr", offsetof(siginfo_t, si_addr));
  P("siginfo.si_value", offsetof(siginfo_t, si_value));
  P("siginfo.si_tid", offsetof(siginfo_t, si_tid));
  P("siginfo.si_overrun", offsetof(siginfo_t, si_overrun));
  P("fpx_sw_bytes.size", sizeof(struct _fpx_sw_bytes));
  P("fpstate.sw_reserved", offsetof(struct _fpstate_64, sw_reserved));
  P("FP_XSTATE_MAGIC1", FP_XSTATE_MAGIC1);
  P("FP_XSTATE_MAGIC2", FP_XSTATE_MAGIC2);
  P("UC_FP_XSTATE", UC_FP_XSTATE);
  P("UC_SIGCONTEXT_SS", UC_SIGCONTEXT_SS);
  P("UC_STRICT_RESTORE_SS", UC_STRICT_RESTORE_SS);
  return 0;
}
