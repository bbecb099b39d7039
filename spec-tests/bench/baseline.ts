/**
 * baseline.ts: the build a benchmark compares the working tree with, when `make bench-*`
 * is given BASELINE=<commit> (the "no ratio worse by more than 5% than before",
 * measured on the same machine in the same run). The Makefile builds that commit with
 * scripts/baseline-build.sh and passes its bin/tvisor in BASELINE_BIN and the name given
 * in BASELINE_REV.
 */
import * as fs from 'node:fs';

/** Baseline is the other tvisor build: its CLI and the label its figures carry. */
export interface Baseline {
  bin: string;
  label: string;
}

/** REGRESSION_BOUND is how much worse than the baseline a figure may be (1.05: 5%). */
export const REGRESSION_BOUND = 1.05;

/** baseline returns the build named by BASELINE_BIN, or undefined when none is asked for. */
export function baseline(): Baseline | undefined {
  const bin = process.env.BASELINE_BIN;
  if (!bin) return undefined;
  if (!fs.existsSync(bin)) throw new Error(`BASELINE_BIN ${bin} does not exist (scripts/baseline-build.sh builds it)`);
  return { bin, label: `tvisor@${(process.env.BASELINE_REV ?? 'baseline').slice(0, 12)}` };
}

/**
 * regressionVerdict says whether `now` (a cost: lower is better) stays within the bound of
 * `before`. With a `resolution` (the smallest difference the measurement can tell, in the
 * figures' unit), a difference below it is said to be so instead of judged by its ratio.
 */
export function regressionVerdict(now: number | undefined, before: number | undefined, resolution = 0): string {
  if (now === undefined || before === undefined || before <= 0) return 'n/a';
  if (now / before <= REGRESSION_BOUND) return 'ok';
  return now - before < resolution ? 'difference below the resolution' : `worse than ${REGRESSION_BOUND}x`;
}
