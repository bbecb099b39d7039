/**
 * Real Go programs under `tvisor do`: the Go runtime starts threads, sets up epoll and an
 * eventfd for its network poller, and runs goroutines on several threads before main.
 * The host's Go binaries (runsc, docker, containerd: Debian packages the tests install)
 * must print what they print natively and exit the same.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');
const usable = process.getuid?.() === 0 && fs.existsSync(TVISOR);

function run(cmd: string[]) {
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', timeout: 60_000, cwd: '/' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CASES: string[][] = [
  ['/usr/bin/runsc', '--version'],
  ['/usr/bin/runsc', 'help'],
  ['/usr/bin/docker', '--version'],
  ['/usr/bin/containerd', '--version'],
];

(usable ? describe : describe.skip)('Go binaries under tvisor do', () => {
  for (const cmd of CASES) {
    const present = fs.existsSync(cmd[0]);
    (present ? test : test.skip)(`${cmd.join(' ')}${present ? '' : ' (skipped: not installed)'} matches the native run`, () => {
      const native = run(cmd);
      expect(native.status).toBe(0);
      const sandboxed = run([TVISOR, 'do', ...cmd]);
      expect({ stdout: sandboxed.stdout, stderr: sandboxed.stderr, status: sandboxed.status })
        .toEqual({ stdout: native.stdout, stderr: native.stderr, status: native.status });
    });
  }
});
