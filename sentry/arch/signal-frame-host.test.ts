import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FpState } from '../../platform/fpstate';
import { Registers } from '../../platform/registers';
import { buildSignalFrame, FP_XSTATE_MAGIC1, FRAME, SA_RESTORER, SC, UC } from './index';

/** The host kernel delivers a signal to a C program; the builder must place the frame exactly where Linux did. */
test('frame placement matches the host kernel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tvisor-arch-host-'));
  let out: Map<string, bigint>;
  try {
    const exe = join(dir, 'host-frame');
    const cc = spawnSync(process.env.CC ?? 'gcc', ['-O0', '-fno-omit-frame-pointer', '-o', exe, join(__dirname, 'testing', 'host-frame.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`cannot compile testing/host-frame.c: ${cc.error ?? cc.stderr}`);
    const run = spawnSync(exe, { encoding: 'utf8' });
    out = new Map(run.stdout.trim().split('\n').map((l) => { const [k, v] = l.split(' '); return [k, BigInt(v)]; }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const g = (k: string): bigint => { const v = out.get(k); if (v === undefined) throw new Error(`host-frame printed no ${k}`); return v; };
  expect(g('magic1')).toBe(BigInt(FP_XSTATE_MAGIC1));
  expect(g('uc') - g('entry')).toBe(BigInt(FRAME.uc));
  expect(g('info') - g('entry')).toBe(BigInt(FRAME.info));
  expect(g('ucflags')).toBe(7n);

  const xsize = Number(g('xsize'));
  expect(g('extended')).toBe(BigInt(xsize + 4));
  const image = Buffer.alloc(xsize);
  image.writeUInt16LE(0x37f, 0);
  image.writeUInt32LE(0x1f80, 24);
  image.writeBigUInt64LE(g('xfeatures'), 464);
  const regs = new Registers();
  regs.rsp = g('rsp');
  const f = buildSignalFrame({
    regs, fp: new FpState(image), sigmask: 0n, siginfo: { signo: Number(g('signo')), code: Number(g('code')), pid: Number(g('pid')) },
    altstack: null, onAltStack: false, sa: { handler: 0x1000n, flags: SA_RESTORER, restorer: 0x2000n, mask: 0n },
  });
  if (!f.ok) throw new Error(f.reason);
  expect(f.frameAddr).toBe(g('entry'));
  expect(f.bytes.readBigUInt64LE(FRAME.uc + UC.mcontext + SC.fpstate)).toBe(g('fp'));
});
