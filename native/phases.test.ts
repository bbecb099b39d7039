/**
 * The phase sums (TVISOR_PHASES, phases.ts): the switch and its sums in this process, then
 * in real sandboxes, where the runtime hands the variable to the sentry and the gofer, on
 * each platform that can run here: the default mode (the switch and each syscall's
 * handler) and the per-syscall mode (the scheduler loop's phases, the switch by syscall,
 * and systrap's own split of the round trip).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PHASES, PHASES_ENV, SYSCALLS_MODE, parsePhasesSwitch, phaseAdd, phaseAddSplit, phaseAddSyscall, phaseCount, phasesDump, phasesEnv, phasesStart, setSyscallNames } from './phases';
import { parsePhases, withPhases, type Sums } from '../spec-tests/bench/walk-phases';
import { programBinary } from '../spec-tests/behaviour/runner';

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
    process.env[PHASES_ENV] = `${SYSCALLS_MODE}relative/phases`;
    phasesStart('test');
    expect(PHASES.on).toBe(false);
    phasesDump();
    expect(fs.existsSync(file)).toBe(false);
  });

  test('the switch names a file, with or without the per-syscall mode', () => {
    expect(parsePhasesSwitch(undefined)).toBeUndefined();
    expect(parsePhasesSwitch('')).toBeUndefined();
    expect(parsePhasesSwitch('/tmp/p')).toEqual({ file: '/tmp/p', syscalls: false });
    expect(parsePhasesSwitch('syscalls:/tmp/p')).toEqual({ file: '/tmp/p', syscalls: true });
    expect(parsePhasesSwitch('syscalls:tmp/p')).toBeUndefined();
    expect(parsePhasesSwitch('bogus:/tmp/p')).toBeUndefined();
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
    setSyscallNames((nr) => (nr === 39 ? 'getpid' : `nr${nr}`));
    phaseAddSyscall('sys', 39, 0.25);
    phaseAddSyscall('sys', 39, 0.5);
    phaseAddSyscall('switch', 7, 2);
    // A platform's split: 4 round trips, nanosecond sums, and a count of spins.
    phaseAddSplit('systrap', { count: 4, toStub: 8000, stubSpun: 3 });
    phaseAddSplit('systrap', { count: 0, toStub: 5 }); // none: nothing added
    phasesDump();
    phasesDump(); // nothing summed since the last: no line
    const text = fs.readFileSync(file, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(2);
    expect(text).toMatch(new RegExp(`^tvisor-phases test ${process.pid} \\{`));
    // Two dumps of one process add up.
    expect(parsePhases(text).get('test')).toEqual({
      a: [3, 5], n: [3, 0], 'sys:getpid': [2, 0.75], 'switch:nr7': [1, 2],
      'systrap:round-trips': [4, 0], 'systrap:toStub': [4, 0.008], 'systrap:stubSpun': [3, 0],
    });
  });
});

const TVISOR = path.resolve(__dirname, '..', 'bin', 'tvisor');
/** MIN_STOPS: the loop runs for a time (-t), so how many stops it makes depends on the
 * machine's load (86 in 20 ms once under systrap at load 9): a few dozen show each phase. */
const MIN_STOPS = 20;

describe('phase sums of a sandbox (TVISOR_PHASES through the runtime)', () => {
  let dir: string;
  beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error('needs root (tvisor do)');
    for (const f of [TVISOR, programBinary('bench-syscalls')]) if (!fs.existsSync(f)) throw new Error(`${f} is missing: run make`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phases-sandbox-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** getppid runs bench-syscalls' getppid loop under `tvisor do` with the switch on and returns the sums. */
  function getppid(platform: string, syscalls: boolean): Map<string, Sums> {
    const run = withPhases(() => {
      const r = spawnSync(TVISOR, ['--root', path.join(dir, `root-${platform}-${syscalls}`), '--platform', platform, 'do', programBinary('bench-syscalls'), '-t', '0.02', 'getppid'], {
        // cwd: the program's directory, so that `do` keeps it visible when the build is under /tmp.
        encoding: 'utf8', cwd: path.dirname(programBinary('bench-syscalls')), timeout: 60_000, env: { ...process.env },
      });
      return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1, timedOut: r.error !== undefined };
    }, syscalls);
    expect({ status: run.result.status, stderr: run.result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.result.stdout).toMatch(/^getppid \d+\.\d+ us\n$/);
    return run.phases;
  }

  /** mostFrequent is the name of the most frequent phase of `family` in s. */
  const mostFrequent = (s: Sums, family: string) => Object.entries(s).filter(([k]) => k.startsWith(`${family}:`)).sort((a, b) => b[1][0] - a[1][0])[0]?.[0];

  for (const platform of ['ptrace', 'systrap']) {
    test(`${platform}, default mode: the switch and each handler, one sentry line, no loop phases`, () => {
      const got = getppid(platform, false);
      // The gofer's line is not asserted: a gofer killed with its sandbox before its
      // connection ends writes none (seen now and then here, and in bench-syscalls' walks).
      expect([...got.keys()].filter((k) => k !== 'gofer')).toEqual(['sentry']);
      const s = got.get('sentry')!;
      expect(s.switch[0]).toBeGreaterThan(MIN_STOPS);
      expect(mostFrequent(s, 'sys')).toBe('sys:getppid');
      expect(Object.keys(s).filter((k) => k.startsWith('loop:') || k.startsWith('switch:') || k.startsWith(`${platform}:`))).toEqual([]);
    });

    test(`${platform}, syscalls mode: the loop's phases per stop, getppid first in switch and handler${platform === 'systrap' ? ', systrap\'s split' : ''}`, () => {
      const s = getppid(platform, true).get('sentry')!;
      const stops = s.switch[0];
      for (const k of ['loop:pre', 'loop:timers']) expect(s[k][0]).toBe(stops);
      expect(s['loop:dispatch'][0]).toBeGreaterThan(MIN_STOPS);
      expect(s['loop:dispatch'][0]).toBeLessThanOrEqual(stops);
      // getppid is the program's most frequent syscall: first in both per-syscall families.
      expect(mostFrequent(s, 'switch')).toBe('switch:getppid');
      expect(mostFrequent(s, 'sys')).toBe('sys:getppid');
      expect(s['switch:getppid'][0]).toBe(s['sys:getppid'][0]);
      if (platform === 'systrap') {
        const n = s['systrap:round-trips'][0];
        expect(n).toBeGreaterThan(MIN_STOPS);
        for (const k of ['systrap:handle', 'systrap:toStub', 'systrap:toSentry']) expect(s[k]).toEqual([n, expect.any(Number)]);
      } else {
        expect(Object.keys(s).filter((k) => k.startsWith('ptrace:'))).toEqual([]);
      }
    });
  }
});
