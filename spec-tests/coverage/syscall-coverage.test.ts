/**
 * Every syscall the table marks `full` is exercised by a behaviour test: a program run
 * under tvisor by spec-tests/behaviour/ or spec-tests/debian/ and compared there with
 * Linux or runc. `make test` runs the whole suite with TVISOR_SYSCALL_COVERAGE set, so
 * each tvisor run logs the implemented syscalls it made (--syscall-coverage), then runs
 * this test alone over those logs. A `full` entry no behaviour test reaches fails here:
 * write the test, or mark the entry with what is known of it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COVERAGE_ENV } from '../behaviour/runner';
import { syscallRows } from '../../sentry/syscalls/linux/listing';
import { SYSCALL_COVERAGE } from '../../sentry/syscalls/linux/registry';

/** coveredSyscalls reads the numbers every recorded tvisor run made. */
function coveredSyscalls(dir: string): { runs: number; covered: Set<number> } {
  const covered = new Set<number>();
  let runs = 0;
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith('.log')) continue;
    for (const line of fs.readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      const at = line.indexOf(SYSCALL_COVERAGE);
      if (at < 0) continue;
      runs++;
      for (const n of line.slice(at + SYSCALL_COVERAGE.length).trim().split(',')) if (n) covered.add(Number(n));
    }
  }
  return { runs, covered };
}

describe('syscall table coverage', () => {
  const dir = process.env[COVERAGE_ENV];

  test('the behaviour tests recorded their syscalls', () => {
    if (!dir) throw new Error(`${COVERAGE_ENV} is not set: run \`make test\`, which records the coverage and then checks it`);
    const { runs } = coveredSyscalls(dir);
    // Dozens of containers run in the behaviour and Debian tests.
    expect(runs).toBeGreaterThan(10);
  });

  test('every syscall marked full is exercised by a behaviour test', () => {
    if (!dir) throw new Error(`${COVERAGE_ENV} is not set`);
    const { covered } = coveredSyscalls(dir);
    const untested = syscallRows().filter((r) => r.support === 'full' && !covered.has(r.nr)).map((r) => `${r.nr} ${r.name}`);
    expect(untested).toEqual([]);
  });
});
