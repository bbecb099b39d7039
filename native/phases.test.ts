import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PHASES, PHASES_ENV, phaseAdd, phaseCount, phasesDump, phasesEnv, phasesStart } from './phases';
import { parsePhases } from '../spec-tests/bench/walk-phases';

describe('phase sums (TVISOR_PHASES)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phases-test-'));
  const file = path.join(dir, 'phases');
  afterAll(() => {
    delete process.env[PHASES_ENV];
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('off without the variable (or with a relative path): nothing is summed or written', () => {
    delete process.env[PHASES_ENV];
    phasesStart('test');
    expect(PHASES.on).toBe(false);
    expect(phasesEnv()).toEqual({});
    process.env[PHASES_ENV] = 'relative/phases';
    phasesStart('test');
    expect(PHASES.on).toBe(false);
    phasesDump();
    expect(fs.existsSync(file)).toBe(false);
  });

  test('on: each phase is counted and timed, written as one line per dump, and handed to children', () => {
    process.env[PHASES_ENV] = file;
    phasesStart('test');
    expect(PHASES.on).toBe(true);
    expect(phasesEnv()).toEqual({ [PHASES_ENV]: file });
    phaseAdd('a', 1.5);
    phaseAdd('a', 2.5);
    phaseCount('n', 3);
    phasesDump();
    phaseAdd('a', 1);
    phasesDump();
    phasesDump(); // nothing summed since the last: no line
    const text = fs.readFileSync(file, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(2);
    expect(text).toMatch(new RegExp(`^tvisor-phases test ${process.pid} \\{`));
    // Two dumps of one process add up.
    expect(parsePhases(text).get('test')).toEqual({ a: [3, 5], n: [3, 0] });
  });
});
