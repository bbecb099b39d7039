/**
 * `tail -f` (Debian's coreutils) of a file in a bind mount that the host appends to:
 * each line the host writes, one at a time (the next once the container saw the last),
 * must come out, as under runc. Under runc GNU tail follows the file with inotify; under
 * tvisor the bind mount's statfs type is 9P's (V9FS_MAGIC, as under runsc), which
 * coreutils counts as a remote file system, so tail polls it once a second instead:
 * what this test shows is that the new lines come out. Host changes reaching inotify
 * watchers on a bind mount are spec-tests/behaviour/inotify-host.test.ts.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runDebian } from './image';
import type { RunResult, Runtime } from '../behaviour/runner';

const LINES = 5;

/** SCRIPT follows /mnt/log into /tmp/out and acknowledges each line as it comes. */
const SCRIPT = [
  'tail -f /mnt/log > /tmp/out & t=$!',
  'touch /mnt/ready',
  `for i in $(seq ${LINES}); do while ! grep -qx "line $i" /tmp/out; do sleep 0.05; done; touch /mnt/ack$i; done`,
  'kill $t',
  'cat /tmp/out',
].join('\n');

/** HELPER appends line i to dir/log once dir/ready, then dir/ack<i-1>, exist. */
const HELPER = `
const fs = require('fs'), path = require('path');
const dir = process.argv[1];
const deadline = Date.now() + 50000;
let i = 1;
const tick = () => {
  if (Date.now() > deadline) { console.error('helper: gave up at line ' + i); process.exit(1); }
  if (!fs.existsSync(path.join(dir, i === 1 ? 'ready' : 'ack' + (i - 1)))) return setTimeout(tick, 5);
  if (i > ${LINES}) process.exit(0);
  fs.appendFileSync(path.join(dir, 'log'), 'line ' + i++ + '\\n');
  setTimeout(tick, 5);
};
tick();
`;

async function follow(runtime: Runtime): Promise<RunResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tail-follow-${runtime}-`));
  try {
    fs.writeFileSync(path.join(dir, 'log'), 'line 0\n');
    const helper = spawn(process.execPath, ['-e', HELPER, dir], { stdio: 'ignore' });
    const exited = new Promise((r) => helper.once('exit', r));
    const r = runDebian(runtime, SCRIPT, { work: false, mounts: [{ source: dir, destination: '/mnt' }], timeoutMs: 60_000 });
    helper.kill();
    await exited;
    return r;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('tail -f of a bind-mounted file the host appends to', () => {
  it('prints every new line, as under runc', async () => {
    const runc = await follow('runc');
    const want = Array.from({ length: LINES + 1 }, (_, i) => `line ${i}\n`).join('');
    expect({ status: runc.status, stdout: runc.stdout }).toEqual({ status: 0, stdout: want });
    const tvisor = await follow('tvisor');
    expect({ status: tvisor.status, stdout: tvisor.stdout, stderr: tvisor.stderr }).toEqual({ status: 0, stdout: runc.stdout, stderr: runc.stderr });
  }, 150_000);
});
