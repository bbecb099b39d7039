/**
 * compare.ts declares the jest suite shared by every behaviour program: the program runs
 * natively (its output checked against facts known by construction), then under runc,
 * runsc and tvisor, each of which must print byte for byte what the native run printed
 * and end with the same status. A runtime that cannot run here is skipped with its reason
 * (tvisor until its sandbox runs programs).
 */
import { RunOptions, RunResult, Runtime, programSkipReason, runNative, runUnder, runtimeSkipReason } from './runner';

/** ProgramCase is one program run with one argument list. */
export interface ProgramCase {
  program: string;
  args?: string[];
  /** title names the suite (default: the program name). */
  title?: string;
  /** options apply to the container runs (scratch directory, mounts). */
  options?: RunOptions;
  /** expectNative asserts what the native run must show. */
  expectNative(r: RunResult): void;
  /** runscDeviations are known gVisor differences: [native line, runsc line] pairs. The
   * runsc run must match the native output with exactly these lines replaced. */
  runscDeviations?: [string, string][];
  /** runscUnsupported names a gVisor gap that makes the runsc run meaningless (it hangs
   * or diverges everywhere after it): the runsc comparison is skipped with this reason. */
  runscUnsupported?: string;
}

/** COMPARED_RUNTIMES are the runtimes each program is compared under, in order. */
export const COMPARED_RUNTIMES: Runtime[] = ['runc', 'runsc', 'tvisor'];

/** expectLines asserts that stdout holds each of lines as a whole line, in this order. */
export function expectLines(stdout: string, lines: string[]): void {
  const all = stdout.split('\n');
  const wanted = new Set(lines);
  expect(all.filter((l) => wanted.has(l))).toEqual(lines);
}

/** applyDeviations rewrites native output into what runsc is known to print instead. */
function applyDeviations(stdout: string, deviations: [string, string][]): string {
  const lines = stdout.split('\n');
  for (const [from, to] of deviations) {
    const i = lines.indexOf(from);
    if (i < 0) throw new Error(`runsc deviation: native output has no line ${JSON.stringify(from)}`);
    lines[i] = to;
  }
  return lines.join('\n');
}

/** describeProgram declares the native test and one comparison test per runtime. */
export function describeProgram(c: ProgramCase): void {
  const args = c.args ?? [];
  describe(c.title ?? c.program, () => {
    const missing = programSkipReason(c.program);
    if (missing) {
      // A program the build did not make (not in spec-tests/module.mk) fails: never a skip.
      test('the program is built', () => {
        throw new Error(missing);
      });
      return;
    }
    let native: RunResult | undefined;
    const nativeRun = (): RunResult => (native ??= runNative(c.program, args));

    test('native output is as expected', () => {
      const r = nativeRun();
      expect(r.stdout).not.toMatch(/^FAIL/m);
      c.expectNative(r);
    });

    for (const rt of COMPARED_RUNTIMES) {
      const reason = rt === 'runsc' && c.runscUnsupported ? `gVisor: ${c.runscUnsupported}` : runtimeSkipReason(rt);
      if (reason) {
        test.skip(`${rt}: skipped: ${reason}`, () => {});
        continue;
      }
      test(`${rt} prints the same and exits the same as native`, () => {
        const n = nativeRun();
        const r = runUnder(rt, c.program, args, c.options);
        const expected = rt === 'runsc' ? applyDeviations(n.stdout, c.runscDeviations ?? []) : n.stdout;
        // stderr is shown on failure only: runtimes may log there.
        const got = { stdout: r.stdout, status: r.status, timedOut: r.timedOut, stderr: r.status === n.status ? '' : r.stderr };
        expect(got).toEqual({ stdout: expected, status: n.status, timedOut: false, stderr: '' });
      });
    }
  });
}

/** withCapabilities returns an editSpec (RunOptions) that gives the container's process
 * these capabilities in its bounding, effective and permitted sets besides runc spec's
 * defaults, so that root in the container can do what a check needs root for natively. */
export function withCapabilities(names: string[]): (spec: any) => void {
  return (spec) => {
    const caps = spec.process.capabilities ?? {};
    for (const set of ['bounding', 'effective', 'permitted']) caps[set] = [...new Set([...(caps[set] ?? []), ...names])];
    spec.process.capabilities = caps;
  };
}
