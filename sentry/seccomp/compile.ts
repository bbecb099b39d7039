/**
 * compile.ts turns config.json's `linux.seccomp` into a SeccompFilter, with runc's and
 * libseccomp's semantics where they are observable, and rejects what it cannot honour
 * with a ConfigError naming the JSON path.
 *
 * Semantics implemented (runc libcontainer/seccomp/seccomp_linux.go over libseccomp db.c):
 * - Names resolve to x86-64 numbers; unknown names are skipped and listed in
 *   `filter.ignoredNames` (runc logs "unknown seccomp syscall ... ignored").
 * - A rule whose action equals the default action (same errno too) is redundant and
 *   skipped, as runc does before calling libseccomp (which would refuse it).
 * - Within a rule all conditions must hold, except that when two conditions test the same
 *   argument runc adds each condition as a rule of its own (they become alternatives).
 * - Several rules for one syscall are alternatives. An unconditional rule decides the
 *   syscall outright, whatever its position: libseccomp keeps the first unconditional
 *   rule, drops later rules of that syscall, and replaces earlier conditional ones.
 * - Otherwise the conditional rules are tried in profile order and the first that
 *   matches decides. libseccomp orders overlapping conditional rules of different
 *   actions by its decision tree (argument number, then operator, then value) and
 *   refuses identical conditions with different actions; profile order is a documented
 *   simplification that agrees with it whenever the matching rules share an action, as
 *   in Docker's default profile.
 * - SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD; SCMP_ACT_TRACE with no tracer attached answers
 *   ENOSYS, as the kernel does; SCMP_ACT_NOTIFY has no agent here and is refused.
 */
import { ConfigError } from '../../oci/validate';
import type { LinuxSeccomp } from '../../oci/config';
import { MAX_SYSCALL, syscallByName } from '../syscalls/linux/table/syscalls';
import {
  ALLOW, KILL_PROCESS, KILL_THREAD, LOG, OP, SeccompFilter, TRAP,
  type SeccompCondition, type SeccompOp, type SeccompRule, type SeccompVerdict,
} from './filter';

const EPERM = 1;
const ENOSYS = 38;
const MAX_ERRNO = 4095;
const U64 = (1n << 64n) - 1n;

/** ARCHITECTURES are the libseccomp architecture names a profile may list; only x86-64 code runs here. */
export const ARCHITECTURES: ReadonlySet<string> = new Set([
  'SCMP_ARCH_NATIVE', 'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
]);

/** FLAGS are the seccomp filter flags runc knows. */
export const FLAGS: ReadonlySet<string> = new Set([
  'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
]);

const OPS: Readonly<Record<string, SeccompOp>> = {
  SCMP_CMP_NE: OP.NE, SCMP_CMP_LT: OP.LT, SCMP_CMP_LE: OP.LE, SCMP_CMP_EQ: OP.EQ,
  SCMP_CMP_GE: OP.GE, SCMP_CMP_GT: OP.GT, SCMP_CMP_MASKED_EQ: OP.MASKED_EQ,
};

// An action as libseccomp sees it: the verdict, plus an identity for redundancy checks
// (TRACE and ERRNO(38) give the same verdict but are different actions).
interface Action { readonly verdict: SeccompVerdict; readonly key: string }

const fail = (path: string, problem: string): never => { throw new ConfigError(path, problem); };
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function errnoRet(v: unknown, path: string): number {
  if (v === undefined) return EPERM;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_ERRNO) fail(path, `must be an integer from 0 to ${MAX_ERRNO}`);
  return v as number;
}

function action(v: unknown, errno: unknown, path: string, errnoPath: string): Action {
  if (v === undefined) return fail(path, 'is required');
  switch (v) {
    case 'SCMP_ACT_ALLOW': return { verdict: ALLOW, key: 'allow' };
    case 'SCMP_ACT_LOG': return { verdict: LOG, key: 'log' };
    case 'SCMP_ACT_TRAP': return { verdict: TRAP, key: 'trap' };
    case 'SCMP_ACT_KILL': case 'SCMP_ACT_KILL_THREAD': return { verdict: KILL_THREAD, key: 'kill-thread' };
    case 'SCMP_ACT_KILL_PROCESS': return { verdict: KILL_PROCESS, key: 'kill-process' };
    case 'SCMP_ACT_ERRNO': {
      const e = errnoRet(errno, errnoPath);
      return { verdict: Object.freeze({ action: 'errno', errno: e }), key: `errno ${e}` };
    }
    case 'SCMP_ACT_TRACE': {
      const e = errnoRet(errno, errnoPath); // the tracer's message; checked, unused without a tracer
      return { verdict: Object.freeze({ action: 'errno', errno: ENOSYS }), key: `trace ${e}` };
    }
    case 'SCMP_ACT_NOTIFY': return fail(path, 'SCMP_ACT_NOTIFY is not supported');
    default: return fail(path, `unknown seccomp action ${JSON.stringify(v)}`);
  }
}

function u64(v: unknown, path: string): bigint {
  if (typeof v === 'bigint' && v >= 0n && v <= U64) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) {
    return fail(path, `${v} is above 2^53 and lost precision in JSON parsing`);
  }
  return fail(path, 'must be an unsigned 64-bit integer');
}

function condition(v: unknown, path: string): SeccompCondition {
  if (!isObject(v)) return fail(path, 'must be an object');
  const index = v.index;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 5) fail(`${path}.index`, 'must be an integer from 0 to 5');
  if (typeof v.op !== 'string' || !Object.hasOwn(OPS, v.op)) fail(`${path}.op`, `unknown seccomp operator ${JSON.stringify(v.op)}`);
  const value = u64(v.value, `${path}.value`);
  const valueTwo = v.valueTwo === undefined ? 0n : u64(v.valueTwo, `${path}.valueTwo`);
  return Object.freeze({ index: index as number, op: OPS[v.op as string]!, value, valueTwo });
}

// runc: conditions on distinct arguments form one rule; if any argument is tested twice,
// each condition becomes a rule of its own.
function splitConditions(conds: readonly SeccompCondition[]): SeccompCondition[][] {
  const seen = new Set<number>();
  for (const c of conds) {
    if (seen.has(c.index)) return conds.map((one) => [one]);
    seen.add(c.index);
  }
  return [[...conds]];
}

/** compileSeccomp checks `profile` (config.json's linux.seccomp) and compiles it into a SeccompFilter. */
export function compileSeccomp(profile: LinuxSeccomp): SeccompFilter {
  const base = 'linux.seccomp';
  const p: unknown = profile;
  if (!isObject(p)) return fail(base, 'must be an object');
  const def = action(p.defaultAction, p.defaultErrnoRet, `${base}.defaultAction`, `${base}.defaultErrnoRet`);
  if (p.architectures !== undefined) {
    if (!Array.isArray(p.architectures)) fail(`${base}.architectures`, 'must be an array of strings');
    (p.architectures as unknown[]).forEach((a, i) => {
      if (typeof a !== 'string' || !ARCHITECTURES.has(a)) fail(`${base}.architectures[${i}]`, `unknown seccomp architecture ${JSON.stringify(a)}`);
    });
  }
  let logFlag = false;
  if (p.flags !== undefined) {
    if (!Array.isArray(p.flags)) fail(`${base}.flags`, 'must be an array of strings');
    (p.flags as unknown[]).forEach((f, i) => {
      if (typeof f !== 'string' || !FLAGS.has(f)) fail(`${base}.flags[${i}]`, `unknown seccomp flag ${JSON.stringify(f)}`);
      if (f === 'SECCOMP_FILTER_FLAG_LOG') logFlag = true;
    });
  }

  const fixed: Array<SeccompVerdict | undefined> = new Array(MAX_SYSCALL + 1).fill(def.verdict);
  const conditional: Array<SeccompRule[] | undefined> = new Array(MAX_SYSCALL + 1).fill(undefined);
  const decided = new Set<number>(); // syscalls with an unconditional rule: later rules are dropped
  const ignored = new Set<string>();

  const rules = p.syscalls ?? [];
  if (!Array.isArray(rules)) return fail(`${base}.syscalls`, 'must be an array');
  rules.forEach((r: unknown, i: number) => {
    const rp = `${base}.syscalls[${i}]`;
    if (!isObject(r)) return fail(rp, 'must be an object');
    if (!Array.isArray(r.names) || r.names.length === 0) fail(`${rp}.names`, 'must be a non-empty array of syscall names');
    const names = r.names as unknown[];
    names.forEach((n, j) => { if (typeof n !== 'string' || n === '') fail(`${rp}.names[${j}]`, 'must be a non-empty string'); });
    const act = action(r.action, r.errnoRet, `${rp}.action`, `${rp}.errnoRet`);
    if (r.args !== undefined && !Array.isArray(r.args)) fail(`${rp}.args`, 'must be an array');
    const conds = ((r.args ?? []) as unknown[]).map((a, j) => condition(a, `${rp}.args[${j}]`));
    if (act.key === def.key) return; // redundant with the default action: runc skips it

    for (const name of names as string[]) {
      const info = syscallByName(name);
      if (info === undefined) { ignored.add(name); continue; }
      const nr = info.nr;
      if (decided.has(nr)) continue;
      if (conds.length === 0) {
        decided.add(nr);
        fixed[nr] = act.verdict;
        conditional[nr] = undefined;
        continue;
      }
      const list = conditional[nr] ?? (conditional[nr] = []);
      for (const group of splitConditions(conds)) list.push(Object.freeze({ conditions: Object.freeze(group), verdict: act.verdict }));
      fixed[nr] = undefined;
    }
  });
  return new SeccompFilter(fixed, conditional, def.verdict, [...ignored], logFlag);
}
