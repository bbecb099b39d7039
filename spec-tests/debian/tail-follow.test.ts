/**
 * GNU `tail -f` (coreutils, which follows a file with inotify) on a file of /work, a
 * gofer-served bind mount, while a host process appends 20 lines to it at varied
 * intervals (0 to 200 ms apart, some back to back) and the script creates and removes
 * another file of /work in a loop: every line comes out, once, in order, under tvisor as
 * under runc. The host's appends reach tail through the gofer's host watch
 * (Twatch/Tnotify); neither tail's own reads of the file (each followed by the sentry's
 * reads-only barrier) nor the sandbox's changes to another file may swallow an append
 * made meanwhile. Then in lock step: the script creates /work/tick<i>, the host appends
 * line i as soon as it sees it (while the gofer may still be handling that creation),
 * and the script waits for tail to print it (up to 5 s: a deadline for an event that
 * must come, as the behaviour programs' alarm).
 *
 * The image is built by `make debian-image`; without it these tests fail.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runDebian } from './image';
import type { RunResult, Runtime } from '../behaviour/runner';

/** GAPS_MS are the pauses before each host append. */
const GAPS_MS = [0, 0, 1, 2, 5, 10, 20, 50, 100, 0, 0, 3, 7, 15, 30, 60, 0, 1, 0, 200];

/** APPENDER waits for dir/ready, appends `line <i>` after each gap, then makes dir/done. */
const APPENDER = `
const fs = require('fs'), path = require('path');
const [dir, gaps] = [process.argv[1], JSON.parse(process.argv[2])];
const file = path.join(dir, 'log');
const deadline = Date.now() + 60000;
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
while (!fs.existsSync(path.join(dir, 'ready'))) {
  if (Date.now() > deadline) { console.error('appender: tail never started'); process.exit(1); }
  sleep(5);
}
sleep(500); // tail has read the file and watches it by now
gaps.forEach((ms, i) => { if (ms) sleep(ms); fs.appendFileSync(file, 'line ' + (i + 1) + '\\n'); });
fs.writeFileSync(path.join(dir, 'done'), '');
`;

/** SCRIPT follows /work/log with tail -f until the host is done and 2 s more (tail
 * polls every second where it cannot use inotify), then prints what tail printed. */
const SCRIPT = `
cd /work
tail -f log > /tmp/out 2>&1 &
touch ready
while [ ! -e done ]; do touch x; rm x; done
sleep 2
kill $!
cat /tmp/out
`;

/** TICKS is how many lines the lock-step case appends. */
const TICKS = 20;

/** TICKER appends `line <i>` once dir/tick<i> exists, for i = 1..TICKS, polling each ms. */
const TICKER = `
const fs = require('fs'), path = require('path');
const [dir, n] = [process.argv[1], Number(process.argv[2])];
const deadline = Date.now() + 80000;
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
for (let i = 1; i <= n; i++) {
  while (!fs.existsSync(path.join(dir, 'tick' + i))) {
    if (Date.now() > deadline) { console.error('ticker: no tick ' + i); process.exit(1); }
    sleep(1);
  }
  fs.appendFileSync(path.join(dir, 'log'), 'line ' + i + '\\n');
}
`;

/** LOCKSTEP_SCRIPT makes tick<i> and waits (up to 5 s) for tail to print line i. */
const LOCKSTEP_SCRIPT = `
cd /work
tail -f log > /tmp/out 2>&1 &
sleep 0.5
for i in $(seq 1 ${TICKS}); do
  touch tick$i
  for j in $(seq 1 500); do grep -qx "line $i" /tmp/out && break; sleep 0.01; done
  grep -qx "line $i" /tmp/out && echo "line $i followed" || echo "line $i not followed"
done
kill $!
`;

/** follow runs `script` under `runtime` on a fresh host directory while a host process
 * (`helper` with `args`) appends to its file log. */
async function follow(runtime: Runtime, script = SCRIPT, helper = APPENDER, args = [JSON.stringify(GAPS_MS)]): Promise<RunResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tail-follow-'));
  try {
    fs.writeFileSync(path.join(dir, 'log'), 'line 0\n');
    const appender = spawn(process.execPath, ['-e', helper, dir, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    appender.stderr!.on('data', (d) => (err += String(d)));
    const exited = new Promise<number | null>((r) => appender.once('exit', (code) => r(code)));
    const r = runDebian(runtime, script, { work: false, mounts: [{ source: dir, destination: '/work' }], timeoutMs: 90_000 });
    appender.kill();
    const code = await exited;
    if (code !== 0 && code !== null) throw new Error(`host helper failed: ${err}`);
    return r;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const EXPECTED = Array.from({ length: GAPS_MS.length + 1 }, (_, i) => `line ${i}\n`).join('');

describe('tail -f of a bind-mounted file appended to from the host', () => {
  let runc: RunResult;

  it('under runc: every line, in order', async () => {
    runc = await follow('runc');
    expect({ stdout: runc.stdout, status: runc.status }).toEqual({ stdout: EXPECTED, status: 0 });
  }, 120_000);

  // Three rounds: an append lands in a request's window only now and then (the lock-step
  // case below makes it likely).
  for (const round of [1, 2, 3]) {
    it(`under tvisor, round ${round}: as under runc`, async () => {
      const r = await follow('tvisor');
      expect({ stdout: r.stdout, stderr: r.stderr, status: r.status }).toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
    }, 120_000);
  }
});

describe('tail -f of a bind-mounted file, the host appending as the sandbox creates files', () => {
  let runc: RunResult;
  const followed = Array.from({ length: TICKS }, (_, i) => `line ${i + 1} followed\n`).join('');

  it('under runc: each line followed', async () => {
    runc = await follow('runc', LOCKSTEP_SCRIPT, TICKER, [String(TICKS)]);
    expect({ stdout: runc.stdout, status: runc.status }).toEqual({ stdout: followed, status: 0 });
  }, 200_000);

  it('under tvisor: as under runc', async () => {
    const r = await follow('tvisor', LOCKSTEP_SCRIPT, TICKER, [String(TICKS)]);
    expect({ stdout: r.stdout, stderr: r.stderr, status: r.status }).toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
  }, 200_000);
});
