import { FpState } from '../../platform/fpstate';
import { Registers } from '../../platform/registers';
import {
  buildSignalFrame, decodeFpFrame, decodeSigInfo, encodeFpFrame, FP_XSTATE_MAGIC1, FP_XSTATE_MAGIC2, FRAME, parseSigreturnFrame,
  SA_ONSTACK, SA_RESTORER, SC, SC_REGS, sigreturnWindow, SS_AUTODISARM, SS_DISABLE, UC, USER_CS, USER_DS,
  type SignalFrameInput,
} from './index';

const IMAGE_LEN = 2432;

/** initialImage is an XSAVE image in ptrace's layout: FCW 0x37f, MXCSR 0x1f80, XCR0 0xe7 in the sw bytes. */
function initialImage(): Buffer {
  const b = Buffer.alloc(IMAGE_LEN);
  b.writeUInt16LE(0x37f, 0);
  b.writeUInt32LE(0x1f80, 24);
  b.writeUInt32LE(0xffff, 28);
  b.writeBigUInt64LE(0xe7n, 464);
  b.writeBigUInt64LE(0x2n, 512);
  return b;
}

function input(over: Partial<SignalFrameInput> = {}): SignalFrameInput {
  const regs = new Registers();
  SC_REGS.forEach((n, i) => regs.set(n, BigInt(0x1000 + i)));
  regs.rsp = 0x7ffffffde123n;
  regs.rip = 0x401234n;
  regs.eflags = 0x246n | 0x400n | 0x100n; // IF ZF PF + DF + TF
  const fp = new FpState(initialImage());
  fp.data.writeBigUInt64LE(0x1122334455667788n, 160); // some xmm0 bytes
  return {
    regs, fp, sigmask: (1n << 8n) | (1n << 18n) | (1n << 1n), siginfo: { signo: 10, code: 0, pid: 42, uid: 1000 },
    altstack: null, onAltStack: false, sa: { handler: 0x402000n, flags: SA_RESTORER | 4, restorer: 0x403000n, mask: 0n }, ...over,
  };
}

function built(over: Partial<SignalFrameInput> = {}) {
  const f = buildSignalFrame(input(over));
  if (!f.ok) throw new Error(f.reason);
  return f;
}

describe('buildSignalFrame', () => {
  test('placement: red zone skipped, FP area 64-aligned, (rsp + 8) % 16 == 0 at entry', () => {
    const inp = input();
    const f = built();
    expect((f.frameAddr + 8n) % 16n).toBe(0n);
    expect(f.frameAddr + BigInt(f.bytes.length)).toBeLessThanOrEqual(inp.regs.rsp - 128n);
    const fpAddr = f.bytes.readBigUInt64LE(FRAME.uc + UC.mcontext + SC.fpstate);
    expect(fpAddr % 64n).toBe(0n);
    expect(fpAddr - f.frameAddr).toBeGreaterThanOrEqual(BigInt(FRAME.size));
    expect(fpAddr + BigInt(IMAGE_LEN + 4)).toBe(f.frameAddr + BigInt(f.bytes.length));
    expect(inp.regs.rsp - 128n - (fpAddr + BigInt(IMAGE_LEN + 4))).toBeLessThan(64n);
  });

  test('contents: pretcode, uc_flags, sigcontext, masks, siginfo, FP markers', () => {
    const inp = input();
    const f = built();
    const b = f.bytes;
    expect(b.readBigUInt64LE(FRAME.pretcode)).toBe(0x403000n);
    expect(b.readBigUInt64LE(FRAME.uc + UC.flags)).toBe(7n);
    const sc = FRAME.uc + UC.mcontext;
    SC_REGS.forEach((n, i) => expect([n, b.readBigUInt64LE(sc + i * 8)]).toEqual([n, inp.regs.get(n)]));
    expect(b.readUInt16LE(sc + SC.cs)).toBe(0x33);
    expect(b.readUInt16LE(sc + SC.ss)).toBe(0x2b);
    expect(b.readBigUInt64LE(sc + SC.oldmask)).toBe(inp.sigmask);
    expect(b.readBigUInt64LE(FRAME.uc + UC.sigmask)).toBe(inp.sigmask);
    expect(b.readInt32LE(FRAME.uc + UC.stack + 8)).toBe(SS_DISABLE);
    expect(decodeSigInfo(b.subarray(FRAME.info, FRAME.info + 128))).toEqual({ signo: 10, errno: 0, code: 0, pid: 42, uid: 1000 });
    const fpOff = Number(b.readBigUInt64LE(sc + SC.fpstate) - f.frameAddr);
    expect(b.readUInt32LE(fpOff + 464)).toBe(FP_XSTATE_MAGIC1);
    expect(b.readUInt32LE(fpOff + 468)).toBe(IMAGE_LEN + 4);
    expect(b.readBigUInt64LE(fpOff + 472)).toBe(0xe7n);
    expect(b.readUInt32LE(fpOff + 480)).toBe(IMAGE_LEN);
    expect(b.readUInt32LE(fpOff + IMAGE_LEN)).toBe(FP_XSTATE_MAGIC2);
    expect(b.readBigUInt64LE(fpOff + 512) & 3n).toBe(3n);
    expect(b.readBigUInt64LE(fpOff + 160)).toBe(0x1122334455667788n);
  });

  test('new registers', () => {
    const inp = input();
    const f = built();
    const r = f.newRegs;
    expect([r.rip, r.rdi, r.rsi, r.rdx, r.rax, r.rsp]).toEqual([0x402000n, 10n, f.frameAddr + 312n, f.frameAddr + 8n, 0n, f.frameAddr]);
    expect(r.eflags).toBe(0x246n);
    expect([r.get('cs'), r.get('ss')]).toEqual([USER_CS, USER_DS]);
    expect(inp.regs.rip).toBe(0x401234n); // the input is not modified
  });

  test('alternate stack: entered without red zone, nested keeps it, overflow and SS_AUTODISARM', () => {
    const alt = { sp: 0x10000000n, size: 0x4000, flags: 0 };
    const f = built({ altstack: alt, sa: { ...input().sa, flags: SA_RESTORER | SA_ONSTACK } });
    expect(f.frameAddr).toBeGreaterThan(alt.sp);
    expect(f.frameAddr + BigInt(f.bytes.length)).toBeLessThanOrEqual(alt.sp + BigInt(alt.size));
    expect(alt.sp + BigInt(alt.size) - (f.frameAddr + BigInt(f.bytes.length))).toBeLessThan(64n);
    expect(f.disarmAltstack).toBe(false);
    expect(built({ altstack: { ...alt, flags: SS_AUTODISARM }, sa: { ...input().sa, flags: SA_RESTORER | SA_ONSTACK } }).disarmAltstack).toBe(true);
    // Without SA_ONSTACK the normal stack is used.
    expect(built({ altstack: alt }).frameAddr).toBeGreaterThan(0x7fff00000000n);
    // Nested: already on the alternate stack, the frame goes below rsp minus the red zone.
    const nested = input({ altstack: alt, onAltStack: true, sa: { ...input().sa, flags: SA_RESTORER | SA_ONSTACK } });
    nested.regs.rsp = alt.sp + 0x3000n;
    const n = buildSignalFrame(nested);
    expect(n.ok && n.frameAddr + BigInt(n.bytes.length) <= alt.sp + 0x3000n - 128n).toBe(true);
    nested.regs.rsp = alt.sp + 0x800n;
    const over = buildSignalFrame(nested);
    expect(over.ok ? 'built' : over.reason).toMatch(/overflows/);
    const tiny = buildSignalFrame(input({ altstack: { ...alt, size: 2048 }, sa: { ...input().sa, flags: SA_RESTORER | SA_ONSTACK } }));
    expect(tiny.ok ? 'built' : tiny.reason).toMatch(/overflows/);
  });

  test('SA_RESTORER is required', () => {
    const f = buildSignalFrame(input({ sa: { handler: 1n, flags: 0, restorer: 0x403000n, mask: 0n } }));
    expect(f.ok ? 'built' : f.reason).toMatch(/SA_RESTORER/);
  });
});

describe('parseSigreturnFrame', () => {
  function parse(f: { frameAddr: bigint; bytes: Buffer }, mutate?: (b: Buffer) => void, regs = new Registers()) {
    const bytes = Buffer.from(f.bytes);
    mutate?.(bytes);
    return parseSigreturnFrame({ bytes, frameAddr: f.frameAddr, regs, fpImage: initialImage() });
  }
  const sc = FRAME.uc + UC.mcontext;

  test('round trip restores registers, mask, FP state and altstack', () => {
    const inp = input({ altstack: { sp: 0x10000000n, size: 0x4000, flags: 0 } });
    const f = built({ altstack: inp.altstack });
    expect(f.bytes.length).toBeLessThanOrEqual(sigreturnWindow(IMAGE_LEN));
    const current = new Registers();
    current.eflags = 0x202n;
    const r = parse(f, undefined, current);
    if (!r.ok) throw new Error(r.reason);
    for (const n of SC_REGS) if (n !== 'eflags') expect([n, r.regs.get(n)]).toEqual([n, inp.regs.get(n)]);
    expect(r.regs.eflags).toBe(0x202n | 0x46n | 0x400n | 0x100n);
    expect(r.regs.origRax).toBe(0xffffffffffffffffn);
    expect(r.sigmask).toBe(1n << 1n); // SIGKILL (bit 8) and SIGSTOP (bit 18) dropped
    expect(r.fp.kind).toBe('image');
    if (r.fp.kind === 'image') expect(r.fp.image.equals(inp.fp.data.map((x, i) => (i >= 512 && i < 520 && i === 512 ? x | 3 : x)) as Buffer)).toBe(true);
    expect(r.altstack).toEqual({ sp: 0x10000000n, size: 0x4000, flags: 0 });
  });

  test('a malicious frame cannot set kernel segments, IOPL or a kernel rip', () => {
    const f = built();
    const bad = (m: (b: Buffer) => void): string => { const r = parse(f, m); return r.ok ? 'accepted' : r.reason; };
    expect(bad((b) => b.writeUInt16LE(0x10, sc + SC.cs))).toMatch(/cs 0x13/);
    expect(bad((b) => b.writeUInt16LE(0x23, sc + SC.cs))).toMatch(/cs 0x23/);
    expect(bad((b) => b.writeUInt16LE(0x18, sc + SC.ss))).toMatch(/ss 0x1b/);
    expect(bad((b) => b.writeBigUInt64LE(0xffffffff81000000n, sc + SC_REGS.indexOf('rip') * 8))).toMatch(/rip/);
    expect(bad((b) => b.writeBigUInt64LE(0x800000000000n, sc + SC_REGS.indexOf('rip') * 8))).toMatch(/rip/);
    // RPL 0 of the user selector is forced to 3; a lax ss is forced to the user one.
    const rpl = parse(f, (b) => b.writeUInt16LE(0x30, sc + SC.cs));
    expect(rpl.ok && rpl.regs.get('cs')).toBe(USER_CS);
    const lax = parse(f, (b) => { b.writeUInt16LE(0, sc + SC.ss); b.writeBigUInt64LE(3n, FRAME.uc + UC.flags); });
    expect(lax.ok && lax.regs.get('ss')).toBe(USER_DS);
    // IOPL 3, IF cleared, VM, NT: none of these reach the registers.
    const fl = parse(f, (b) => b.writeBigUInt64LE(0xffffffffffffffffn, sc + SC_REGS.indexOf('eflags') * 8));
    expect(fl.ok && fl.regs.eflags).toBe(0x50dd5n | 0x202n);
    expect(parse({ frameAddr: f.frameAddr, bytes: f.bytes.subarray(0, 100) }).ok).toBe(false);
  });

  test('a corrupt FP area resets the FP state; one outside the bytes must be read', () => {
    const f = built();
    const fpOff = Number(f.bytes.readBigUInt64LE(sc + SC.fpstate) - f.frameAddr);
    const kind = (m: (b: Buffer) => void): string => { const r = parse(f, m); return r.ok ? r.fp.kind : r.reason; };
    expect(kind(() => {})).toBe('image');
    expect(kind((b) => b.writeUInt32LE(0, fpOff + 464))).toBe('reset');
    expect(kind((b) => b.writeUInt32LE(0, fpOff + IMAGE_LEN))).toBe('reset');
    expect(kind((b) => b.writeUInt32LE(99, fpOff + 480))).toBe('reset');
    expect(kind((b) => b.writeUInt32LE(0x10000, fpOff + 24))).toBe('reset'); // MXCSR reserved bit
    expect(kind((b) => b.writeBigUInt64LE(1n << 9n, fpOff + 512))).toBe('reset'); // PKRU not in XCR0
    expect(kind((b) => b.writeBigUInt64LE(1n << 63n, fpOff + 520))).toBe('reset'); // compacted
    expect(kind((b) => b[fpOff + 540] = 1)).toBe('reset'); // header reserved
    expect(kind((b) => b.writeBigUInt64LE(0n, sc + SC.fpstate))).toBe('reset');
    expect(kind((b) => b.writeBigUInt64LE(f.frameAddr + 0x20n, sc + SC.fpstate))).toBe('reset'); // misaligned
    const r = parse(f, (b) => b.writeBigUInt64LE(0x500000n, sc + SC.fpstate));
    expect(r.ok && r.fp).toEqual({ kind: 'read', addr: 0x500000n, length: IMAGE_LEN + 4 });
  });

  test('altstack: invalid stacks are ignored, SS_DISABLE and SS_AUTODISARM kept', () => {
    const f = built();
    const st = FRAME.uc + UC.stack;
    const alt = (m: (b: Buffer) => void) => { const r = parse(f, m); return r.ok ? r.altstack : r.reason; };
    expect(alt(() => {})).toEqual({ sp: 0n, size: 0, flags: SS_DISABLE });
    expect(alt((b) => { b.writeBigUInt64LE(0x1000n, st); b.writeInt32LE(SS_AUTODISARM | 0, st + 8); b.writeBigUInt64LE(8192n, st + 16); }))
      .toEqual({ sp: 0x1000n, size: 8192, flags: SS_AUTODISARM });
    expect(alt((b) => { b.writeBigUInt64LE(0x1000n, st); b.writeInt32LE(0, st + 8); b.writeBigUInt64LE(100n, st + 16); })).toBeNull();
    expect(alt((b) => { b.writeInt32LE(7, st + 8); })).toBeNull();
  });

  test('FP area encode/decode keeps the ptrace sw bytes', () => {
    const img = initialImage();
    const back = decodeFpFrame(encodeFpFrame(img), img);
    expect(back?.subarray(464, 512).equals(img.subarray(464, 512))).toBe(true);
  });
});
