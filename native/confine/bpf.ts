/**
 * bpf.ts assembles classic BPF seccomp programs (struct sock_filter, 8 bytes each) from
 * an allowlist, and runs them (an interpreter for tests and for checking the stub's
 * hand-written filter against the table).
 *
 * Layout of a compiled program (seccomp_data: nr at 0, arch at 4, ip at 8, args at 16+8i,
 * each 64-bit argument little-endian, low word first):
 *
 *     ld arch; jeq AUDIT_ARCH_X86_64 ? next : default
 *     for each IpRange (calls made from those addresses, whatever their number):
 *              ld ip.hi; jeq ? next : skip; ld ip.lo; jge lo ? next : skip;
 *              jgt hi-1 ? skip : ret action
 *     ld nr;   a binary search over the listed numbers (jge splits), each leaf
 *              `jeq nr ? block : default`
 *     block:   unconditional: ret action; otherwise each alternative is a conjunction of
 *              argument tests, any failing test jumps to the next alternative, the last
 *              alternative's failure returns the default action.
 *
 * Conditional jumps only ever skip 0 or 1 instruction; every longer jump is a `ja`
 * (32-bit offset), so no program size overflows an 8-bit jump field.
 */

/** AUDIT_ARCH_X86_64 is seccomp_data.arch for x86-64 syscalls. */
export const AUDIT_ARCH_X86_64 = 0xc000003e;

/** Seccomp return values (linux/seccomp.h). */
export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

// BPF opcodes (linux/bpf_common.h).
const LD_W_ABS = 0x20;
const ALU_AND_K = 0x54;
const JMP_JA = 0x05;
const JMP_JEQ_K = 0x15;
const JMP_JGE_K = 0x35;
const JMP_JGT_K = 0x25;
const RET_K = 0x06;

/** ArgTest is one test of a syscall argument: `(arg & mask) == value` over 64 bits. */
export interface ArgTest {
  arg: number;
  /** mask defaults to all ones (plain equality). */
  mask?: bigint;
  value: bigint;
}

/** Rule decides one syscall: `action` when any alternative holds (no alternatives: always). */
export interface Rule {
  nr: number;
  action: number;
  /** alternatives: each a conjunction of tests; absent or empty means unconditional. */
  alternatives?: ArgTest[][];
}

/**
 * IpRange decides every call whose instruction pointer lies in [lo, hi), before the
 * numbers are looked at. Both ends share their upper 32 bits (one page, say).
 */
export interface IpRange {
  lo: bigint;
  hi: bigint;
  action: number;
}

/** Insn is one struct sock_filter. */
export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const U32 = 0xffffffffn;
const ALL = (1n << 64n) - 1n;

type Item = Insn | { label: string } | { ja: string };

/**
 * compileFilter builds the program for `rules` (at most one rule per number) with
 * `defaultAction` for everything else, a foreign architecture included.
 */
export function compileFilter(rules: readonly Rule[], defaultAction: number, ipRanges: readonly IpRange[] = []): Insn[] {
  const seen = new Set<number>();
  for (const r of rules) {
    if (seen.has(r.nr)) throw new Error(`seccomp: syscall ${r.nr} has two rules`);
    seen.add(r.nr);
  }
  const sorted = [...rules].sort((a, b) => a.nr - b.nr);
  const items: Item[] = [];
  const insn = (code: number, k: number, jt = 0, jf = 0) => items.push({ code, jt, jf, k: k >>> 0 });
  insn(LD_W_ABS, 4);
  insn(JMP_JEQ_K, AUDIT_ARCH_X86_64, 1, 0);
  items.push({ ja: 'default' });
  ipRanges.forEach((r, i) => {
    const high = Number(r.lo >> 32n), hiEnd = Number((r.hi - 1n) >> 32n);
    if (r.hi <= r.lo || high !== hiEnd) throw new Error(`seccomp: ip range ${i} must be non-empty within one 4 GiB block`);
    const past = `ip${i}`;
    insn(LD_W_ABS, 12);
    insn(JMP_JEQ_K, high, 1, 0);
    items.push({ ja: past });
    insn(LD_W_ABS, 8);
    insn(JMP_JGE_K, Number(r.lo & U32), 1, 0);
    items.push({ ja: past });
    insn(JMP_JGT_K, Number((r.hi - 1n) & U32), 1, 0);
    insn(RET_K, r.action);
    items.push({ label: past });
  });
  insn(LD_W_ABS, 0);
  // Binary search over sorted[lo, hi): the accumulator holds nr throughout.
  const search = (lo: number, hi: number): void => {
    if (hi - lo === 1) {
      insn(JMP_JEQ_K, sorted[lo].nr, 1, 0);
      items.push({ ja: 'default' });
      items.push({ ja: `block${sorted[lo].nr}` });
      return;
    }
    const mid = (lo + hi) >> 1;
    const right = `split${lo}_${hi}`;
    insn(JMP_JGE_K, sorted[mid].nr, 0, 1);
    items.push({ ja: right });
    search(lo, mid);
    items.push({ label: right });
    search(mid, hi);
  };
  if (sorted.length) search(0, sorted.length);
  else items.push({ ja: 'default' });
  for (const r of sorted) {
    items.push({ label: `block${r.nr}` });
    const alts = r.alternatives ?? [];
    if (alts.length === 0) {
      insn(RET_K, r.action);
      continue;
    }
    alts.forEach((alt, i) => {
      const next = i === alts.length - 1 ? 'default' : `alt${r.nr}_${i + 1}`;
      if (i > 0) items.push({ label: `alt${r.nr}_${i}` });
      for (const t of alt) {
        const mask = t.mask ?? ALL;
        // Low word, then high word.
        for (const [off, shift] of [[0, 0n], [4, 32n]] as const) {
          const m = Number((mask >> shift) & U32);
          const v = Number((t.value >> shift) & U32);
          if (m === 0) {
            if (v !== 0) throw new Error(`seccomp: syscall ${r.nr}: a test that never holds`);
            continue;
          }
          insn(LD_W_ABS, 16 + 8 * t.arg + off);
          if (m !== 0xffffffff) insn(ALU_AND_K, m);
          insn(JMP_JEQ_K, v, 1, 0);
          items.push({ ja: next });
        }
      }
      insn(RET_K, r.action);
    });
  }
  items.push({ label: 'default' });
  insn(RET_K, defaultAction);
  // Resolve labels: ja offsets count from the instruction after the ja.
  const at = new Map<string, number>();
  let n = 0;
  for (const it of items) {
    if ('label' in it) at.set(it.label, n);
    else n++;
  }
  const out: Insn[] = [];
  for (const it of items) {
    if ('label' in it) continue;
    if ('ja' in it) {
      const target = at.get(it.ja);
      if (target === undefined) throw new Error(`seccomp: label ${it.ja} missing`);
      out.push({ code: JMP_JA, jt: 0, jf: 0, k: target - out.length - 1 });
    } else out.push(it);
  }
  if (out.length > 4096) throw new Error(`seccomp: program of ${out.length} instructions exceeds BPF_MAXINSNS`);
  return out;
}

/** encodeFilter returns the program as the bytes of a struct sock_filter array. */
export function encodeFilter(prog: readonly Insn[]): Buffer {
  const b = Buffer.alloc(prog.length * 8);
  prog.forEach((p, i) => {
    b.writeUInt16LE(p.code, i * 8);
    b.writeUInt8(p.jt, i * 8 + 2);
    b.writeUInt8(p.jf, i * 8 + 3);
    b.writeUInt32LE(p.k >>> 0, i * 8 + 4);
  });
  return b;
}

/** decodeFilter reads a struct sock_filter array. */
export function decodeFilter(b: Buffer): Insn[] {
  const out: Insn[] = [];
  for (let o = 0; o + 8 <= b.length; o += 8) out.push({ code: b.readUInt16LE(o), jt: b[o + 2], jf: b[o + 3], k: b.readUInt32LE(o + 4) });
  return out;
}

/** SeccompData is what a filter sees of one syscall. */
export interface SeccompData {
  nr: number;
  arch?: number;
  ip?: bigint;
  args?: bigint[];
}

/**
 * runFilter interprets `prog` over `d` and returns the seccomp return value. It knows the
 * instructions compileFilter and the stub's filter use, and throws on any other.
 */
export function runFilter(prog: readonly Insn[], d: SeccompData): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(d.nr, 0);
  data.writeUInt32LE(d.arch ?? AUDIT_ARCH_X86_64, 4);
  data.writeBigUInt64LE(d.ip ?? 0n, 8);
  (d.args ?? []).forEach((a, i) => data.writeBigUInt64LE(a & ALL, 16 + 8 * i));
  let acc = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const p = prog[pc];
    switch (p.code) {
      case LD_W_ABS: acc = data.readUInt32LE(p.k); break;
      case ALU_AND_K: acc = (acc & p.k) >>> 0; break;
      case JMP_JA: pc += p.k; break;
      case JMP_JEQ_K: pc += acc === p.k >>> 0 ? p.jt : p.jf; break;
      case JMP_JGE_K: pc += acc >= p.k >>> 0 ? p.jt : p.jf; break;
      case JMP_JGT_K: pc += acc > p.k >>> 0 ? p.jt : p.jf; break;
      case RET_K: return p.k >>> 0;
      default: throw new Error(`seccomp: opcode 0x${p.code.toString(16)} at ${pc} not interpreted`);
    }
  }
  throw new Error('seccomp: program ran off its end');
}
