/**
 * The sentry's per-phase stamps (TVISOR_SYSCALL_STAMPS): the runtime hands the variable to
 * the sentry, which appends one summary line at init's exit, on each platform that can run
 * here; under systrap the line carries the platform's own split of the round trip.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { programBinary } from '../../spec-tests/behaviour/runner';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');
const GETPPID = 110;

describe('TVISOR_SYSCALL_STAMPS', () => {
  let dir: string;
  beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error('needs root (tvisor do)');
    for (const f of [TVISOR, programBinary('bench-syscalls')]) if (!fs.existsSync(f)) throw new Error(`${f} is missing: run make`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syscall-stamps-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const platform of ['ptrace', 'systrap']) {
    test(`${platform}: one summary line per sandbox, getppid counted in switch and handler`, () => {
      const file = path.join(dir, `${platform}.txt`);
      const r = spawnSync(TVISOR, ['--root', path.join(dir, `root-${platform}`), '--platform', platform, 'do', programBinary('bench-syscalls'), '-t', '0.02', 'getppid'], {
        // cwd: the program's directory, so that `do` keeps it visible when the build is under /tmp.
        encoding: 'utf8', cwd: path.dirname(programBinary('bench-syscalls')), timeout: 60_000, env: { ...process.env, TVISOR_SYSCALL_STAMPS: file },
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout).toMatch(/^getppid \d+\.\d+ us\n$/);
      const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^syscall-stamps platform=${platform} stops=\\d+ `));
      expect(lines[0]).toMatch(/ pre=\d+\.\d+ switch=\d+\.\d+ timers=\d+\.\d+ dispatch=\d+\.\d+ handler=\d+\.\d+ /);
      // getppid is the program's most frequent syscall: first in both per-syscall lists.
      expect(lines[0]).toMatch(new RegExp(`switch ${GETPPID}=\\d+\\.\\d+\\(\\d+\\).*; handler ${GETPPID}=\\d+\\.\\d+\\(\\d+\\)`));
      if (platform === 'systrap') expect(lines[0]).toMatch(/ \| systrap split \(us, \d+ round trips\): handle=\d+\.\d+ .*toStub=\d+\.\d+ .*toSentry=\d+\.\d+ /);
      else expect(lines[0]).not.toContain('split');
    });
  }

});
