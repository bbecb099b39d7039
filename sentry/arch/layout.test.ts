import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FP_XSTATE_MAGIC1, FP_XSTATE_MAGIC2, FRAME, SC, SC_REGS, SIGINFO_SIZE, STACK_T, SW_RESERVED, UC, UC_FP_XSTATE, UC_SIGCONTEXT_SS, UC_STRICT_RESTORE_SS } from './index';

describe('signal frame layout matches the kernel headers', () => {
  let values: Map<string, number> | null = null;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'tvisor-arch-'));
    try {
      const exe = join(dir, 'offsets');
      const cc = spawnSync(process.env.CC ?? 'gcc', ['-o', exe, join(__dirname, 'testing', 'offsets.c')], { encoding: 'utf8' });
      if (cc.status !== 0) throw new Error(`cannot compile testing/offsets.c: ${cc.error ?? cc.stderr}`);
      const out = spawnSync(exe, { encoding: 'utf8' }).stdout;
      values = new Map(out.trim().split('\n').map((l) => { const [k, v] = l.split(' '); return [k, Number(v)]; }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ucontext, stack_t, sigcontext, siginfo, fpx_sw_bytes', () => {
    if (!values) return;
    const v = values;
    const want: Record<string, number> = {
      'ucontext.size': UC.size, 'ucontext.uc_flags': UC.flags, 'ucontext.uc_link': UC.link, 'ucontext.uc_stack': UC.stack,
      'ucontext.uc_mcontext': UC.mcontext, 'ucontext.uc_sigmask': UC.sigmask,
      'stack.ss_sp': STACK_T.sp, 'stack.ss_flags': STACK_T.flags, 'stack.ss_size': STACK_T.size,
      'sigcontext.size': SC.size, 'sigcontext.r8': SC_REGS.indexOf('r8') * 8, 'sigcontext.rdi': SC_REGS.indexOf('rdi') * 8,
      'sigcontext.rsp': SC_REGS.indexOf('rsp') * 8, 'sigcontext.rip': SC_REGS.indexOf('rip') * 8,
      'sigcontext.eflags': SC_REGS.indexOf('eflags') * 8, 'sigcontext.cs': SC.cs, 'sigcontext.ss': SC.ss,
      'sigcontext.err': SC.err, 'sigcontext.trapno': SC.trapno, 'sigcontext.oldmask': SC.oldmask, 'sigcontext.cr2': SC.cr2,
      'sigcontext.fpstate': SC.fpstate, 'siginfo.size': SIGINFO_SIZE,
      'siginfo.si_pid': 16, 'siginfo.si_uid': 20, 'siginfo.si_status': 24, 'siginfo.si_utime': 32, 'siginfo.si_stime': 40,
      'siginfo.si_addr': 16, 'siginfo.si_value': 24, 'siginfo.si_tid': 16, 'siginfo.si_overrun': 20,
      'fpx_sw_bytes.size': 48, 'fpstate.sw_reserved': SW_RESERVED,
      FP_XSTATE_MAGIC1, FP_XSTATE_MAGIC2, UC_FP_XSTATE, UC_SIGCONTEXT_SS, UC_STRICT_RESTORE_SS,
    };
    for (const [k, n] of Object.entries(want)) expect([k, v.get(k)]).toEqual([k, n]);
    // rt_sigframe: pretcode, then ucontext, then siginfo.
    expect(FRAME.uc).toBe(8);
    expect(FRAME.info).toBe(8 + v.get('ucontext.size')!);
    expect(FRAME.size).toBe(FRAME.info + v.get('siginfo.size')!);
    // The brief's example: rip within ucontext.
    expect(UC.mcontext + SC_REGS.indexOf('rip') * 8).toBe(v.get('ucontext.uc_mcontext')! + v.get('sigcontext.rip')!);
  });
});
