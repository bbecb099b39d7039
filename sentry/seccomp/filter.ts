/**
 * filter.ts is a compiled seccomp profile: the decision the sentry makes before running an
 * application syscall's handler. compile.ts builds it from config.json; this module only
 * evaluates.
 *
 * Layout: `fixed[nr]` holds the verdict of every syscall whose outcome does not depend on
 * its arguments (the default action included), so the common case is one array lookup.
 * Syscalls with argument rules have `fixed[nr] === undefined` and their rules in
 * `conditional[nr]`, tried in order; the first rule whose conditions all hold decides, and
 * when none holds the default action applies. Numbers outside the table (x32 numbers,
 * garbage) get the default action, as a kernel filter that does not name them would.
 *
 * Arguments compare as unsigned 64-bit integers over the whole register, as libseccomp
 * does on x86-64 for the conditions runc builds (SCMP_CMP_*, not the *_32 variants): the
 * caller passes the raw register values; a negative bigint is taken modulo 2^64.
 */

/** SeccompVerdict is what the profile decides for one syscall. */
export type SeccompVerdict =
  | { readonly action: 'allow' }
  | { readonly action: 'log' }
  | { readonly action: 'errno'; readonly errno: number }
  | { readonly action: 'kill'; readonly process: boolean }
  | { readonly action: 'trap' };

/** OP numbers the argument comparisons (SCMP_CMP_*) for a fast switch. */
export const OP = { NE: 0, LT: 1, LE: 2, EQ: 3, GE: 4, GT: 5, MASKED_EQ: 6 } as const;
/** SeccompOp is one of the OP numbers. */
export type SeccompOp = (typeof OP)[keyof typeof OP];

/** SeccompCondition is one compiled argument test: `args[index] op value` (MASKED_EQ: `(arg & value) == valueTwo`). */
export interface SeccompCondition {
  readonly index: number;
  readonly op: SeccompOp;
  readonly value: bigint;
  readonly valueTwo: bigint;
}

/** SeccompRule is one compiled conditional rule: all conditions must hold. */
export interface SeccompRule {
  readonly conditions: readonly SeccompCondition[];
  readonly verdict: SeccompVerdict;
}

/** ALLOW is the shared allow verdict (verdicts are frozen and shared, never allocated per call). */
export const ALLOW: SeccompVerdict = Object.freeze({ action: 'allow' });
/** LOG is the shared log verdict. */
export const LOG: SeccompVerdict = Object.freeze({ action: 'log' });
/** TRAP is the shared trap verdict. */
export const TRAP: SeccompVerdict = Object.freeze({ action: 'trap' });
/** KILL_THREAD is the shared verdict of SCMP_ACT_KILL and SCMP_ACT_KILL_THREAD. */
export const KILL_THREAD: SeccompVerdict = Object.freeze({ action: 'kill', process: false });
/** KILL_PROCESS is the shared verdict of SCMP_ACT_KILL_PROCESS. */
export const KILL_PROCESS: SeccompVerdict = Object.freeze({ action: 'kill', process: true });

const U64 = (1n << 64n) - 1n;

/** conditionHolds evaluates one condition against the raw argument registers. */
export function conditionHolds(c: SeccompCondition, args: readonly bigint[]): boolean {
  let a = args[c.index] ?? 0n;
  if (a < 0n || a > U64) a = BigInt.asUintN(64, a);
  switch (c.op) {
    case OP.NE: return a !== c.value;
    case OP.LT: return a < c.value;
    case OP.LE: return a <= c.value;
    case OP.EQ: return a === c.value;
    case OP.GE: return a >= c.value;
    case OP.GT: return a > c.value;
    case OP.MASKED_EQ: return (a & c.value) === c.valueTwo;
  }
}

/** SeccompFilter is a compiled profile; check() is called before every syscall handler. */
export class SeccompFilter {
  /**
   * constructor takes the tables compile.ts built: `fixed` indexed by syscall number
   * (undefined where `conditional` has rules), and the default verdict.
   */
  constructor(
    private readonly fixed: ReadonlyArray<SeccompVerdict | undefined>,
    private readonly conditional: ReadonlyArray<readonly SeccompRule[] | undefined>,
    readonly defaultVerdict: SeccompVerdict,
    /** ignoredNames are the profile's syscall names x86-64 does not have (skipped, as libseccomp does). */
    readonly ignoredNames: readonly string[],
    /** logFlag is SECCOMP_FILTER_FLAG_LOG: the kernel would log every verdict but allow. */
    readonly logFlag: boolean,
  ) {}

  /** check returns the verdict for syscall `nr` with argument registers `args` (raw 64-bit values). */
  check(nr: number, args: readonly bigint[]): SeccompVerdict {
    return this.fixed[nr] ?? this.checkConditional(nr, args);
  }

  /** checkWith is check() reading the arguments only for a syscall whose rules look at them (the hot path: no bigints otherwise). */
  checkWith(nr: number, args: () => readonly bigint[]): SeccompVerdict {
    return this.fixed[nr] ?? this.checkConditional(nr, args());
  }

  private checkConditional(nr: number, args: readonly bigint[]): SeccompVerdict {
    const rules = this.conditional[nr];
    if (rules === undefined) return this.defaultVerdict;
    for (const rule of rules) {
      let ok = true;
      for (const c of rule.conditions) {
        if (!conditionHolds(c, args)) { ok = false; break; }
      }
      if (ok) return rule.verdict;
    }
    return this.defaultVerdict;
  }

  /** rulesFor returns the conditional rules of syscall `nr` (empty when its verdict is fixed), for tests and listings. */
  rulesFor(nr: number): readonly SeccompRule[] {
    return this.conditional[nr] ?? [];
  }
}
