/**
 * inotify on a bind mount that the host changes: inotify-host (programs/inotify-host.c)
 * watches a directory while a host process creates, writes, chmods, renames and deletes
 * files there, one change at a time (each after the program acknowledged the previous
 * one's events through a second directory); the events it reads (mask, name, whether a
 * move's cookies pair up) and what stat then says must be byte for byte the native run's,
 * under runc and under tvisor (whose gofer watches the host directory: Twatch/Tnotify).
 * Last, the program changes the directory itself: each of those events comes once (the
 * host's echo of the sandbox's own changes is not reported again), and it writes a file
 * through a MAP_SHARED mapping with msync, which Linux does not report (nor may the host's
 * echo of tvisor's write-back of the mapping). Then a host process reads a file (cat):
 * IN_OPEN, IN_ACCESS and IN_CLOSE_NOWRITE come to a watcher in the sandbox as natively,
 * and the program's own read of it reports each once (not again as the host's echo of
 * the gofer's open and the sentry's reads).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expectLines } from './compare';
import { programSkipReason, runNative, runtimeSkipReason, runUnder, type RunResult, type Runtime } from './runner';

/** STEPS are the host's changes, with the number of events each makes in the watched
 * directory (IN_CREATE, IN_DELETE, IN_MODIFY, IN_ATTRIB, IN_MOVED_*, IN_CLOSE_WRITE). */
const STEPS: Array<[number, string]> = [
  [3, `fs.writeFileSync(path.join(dir, 'a'), 'hello\\n')`],
  [2, `fs.appendFileSync(path.join(dir, 'a'), 'more\\n')`],
  [1, `fs.chmodSync(path.join(dir, 'a'), 0o600)`],
  [2, `fs.renameSync(path.join(dir, 'a'), path.join(dir, 'b'))`],
  [1, `fs.mkdirSync(path.join(dir, 'd'))`],
  [1, `fs.rmdirSync(path.join(dir, 'd'))`],
  [2, `fs.truncateSync(path.join(dir, 'b'), 3)`],
  [1, `fs.unlinkSync(path.join(dir, 'b'))`],
  [4, `fs.appendFileSync(path.join(dir, 'f'), 'appended\\n')`],
  [4, `fs.unlinkSync(path.join(dir, 'f'))`], // IN_ATTRIB, IN_DELETE_SELF, IN_IGNORED, IN_DELETE
];

/** HELPER makes STEPS on the host: each once ctl/ready, then ctl/ack<i-1>, exists; then,
 * once ctl/reading exists, reads dir/r with cat. */
const HELPER = `
const fs = require('fs'), path = require('path'), { execFileSync } = require('child_process');
const [dir, ctl] = process.argv.slice(1);
const steps = [${STEPS.map(([, s]) => `() => ${s}`).join(', ')}];
const deadline = Date.now() + 50000;
let i = 0;
const tick = () => {
  if (Date.now() > deadline) { console.error('helper: gave up at step ' + i); process.exit(1); }
  if (!fs.existsSync(path.join(ctl, i === 0 ? 'ready' : 'ack' + (i - 1)))) return setTimeout(tick, 5);
  if (i === steps.length) {
    if (!fs.existsSync(path.join(ctl, 'reading'))) return setTimeout(tick, 5);
    execFileSync('cat', [path.join(dir, 'r')], { stdio: 'ignore' });
    process.exit(0);
  }
  steps[i++]();
  setTimeout(tick, 5);
};
tick();
`;

/** withHostChanges runs `run` (a synchronous run of the program) while a host process
 * makes STEPS in a fresh directory; both directories are given to `run`. */
async function withHostChanges(run: (dir: string, ctl: string) => RunResult): Promise<RunResult> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'inotify-host-'));
  const dir = path.join(base, 'watched');
  const ctl = path.join(base, 'ctl');
  fs.mkdirSync(dir);
  fs.mkdirSync(ctl);
  fs.writeFileSync(path.join(dir, 'f'), 'watched by itself\n');
  fs.writeFileSync(path.join(dir, 'r'), 'read by the host, then by the sandbox\n');
  try {
    const helper = spawn(process.execPath, ['-e', HELPER, dir, ctl], { stdio: ['ignore', 'ignore', 'pipe'] });
    let helperErr = '';
    helper.stderr!.on('data', (d) => (helperErr += String(d)));
    const exited = new Promise<number | null>((r) => helper.once('exit', (code) => r(code)));
    const r = run(dir, ctl);
    helper.kill();
    const code = await exited;
    if (r.status === 0 && code !== 0 && code !== null) throw new Error(`host helper failed: ${helperErr}`);
    return r;
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

const COUNTS = STEPS.map(([n]) => String(n));

describe('inotify of host changes to a bind mount', () => {
  const missing = programSkipReason('inotify-host');
  if (missing) throw new Error(missing);
  let native: RunResult;

  it('natively', async () => {
    native = await withHostChanges((dir, ctl) => runNative('inotify-host', [dir, ctl, ...COUNTS]));
    expect(native.status).toBe(0);
    expectLines(native.stdout, [
      'watch: ok', 'file watch: ok',
      'step 0:', '  dir CREATE a', '  dir MODIFY a', '  dir CLOSE_WRITE a', '  stat a: file size 6 mode 644',
      'step 1:', '  dir MODIFY a', '  dir CLOSE_WRITE a', '  stat a: file size 11 mode 644',
      'step 2:', '  dir ATTRIB a', '  stat a: file size 11 mode 600',
      'step 3:', '  dir MOVED_FROM a cookie set', '  dir MOVED_TO b cookie pairs', '  stat a: No such file or directory', '  stat b: file size 11 mode 600',
      'step 4:', '  dir CREATE|ISDIR d', '  stat d: dir size 4096 mode 755',
      'step 5:', '  dir DELETE|ISDIR d', '  stat d: No such file or directory',
      'step 6:', '  dir MODIFY b', '  dir CLOSE_WRITE b', '  stat b: file size 3 mode 600',
      'step 7:', '  dir DELETE b', '  stat b: No such file or directory',
      'step 8:', '  dir MODIFY f', '  file MODIFY -', '  dir CLOSE_WRITE f', '  file CLOSE_WRITE -', '  stat f: file size 27 mode 644',
      'step 9:', '  file ATTRIB -', '  file DELETE_SELF -', '  file IGNORED -', '  dir DELETE f', '  stat f: No such file or directory',
      'own changes:', '  dir CREATE mine', '  dir MODIFY mine', '  dir CLOSE_WRITE mine',
      '  dir MOVED_FROM mine cookie set', '  dir MOVED_TO mine2 cookie pairs', '  dir ATTRIB mine2', '  dir DELETE mine2',
      'mapping:', '  dir CREATE mapped', '  dir MODIFY mapped',
      'msync:',
      'unmapped:', '  dir CLOSE_WRITE mapped', '  dir DELETE mapped',
      'host reads:', '  dir OPEN r', '  file OPEN -', '  dir ACCESS r', '  file ACCESS -', '  dir CLOSE_NOWRITE r', '  file CLOSE_NOWRITE -',
      'own reads:', '  dir OPEN r', '  file OPEN -', '  dir ACCESS r', '  file ACCESS -', '  dir CLOSE_NOWRITE r', '  file CLOSE_NOWRITE -',
      'done',
    ]);
  }, 60_000);

  for (const runtime of ['runc', 'tvisor'] as Runtime[]) {
    it(`under ${runtime}, as natively`, async () => {
      const skip = runtimeSkipReason(runtime);
      if (skip) throw new Error(skip);
      const r = await withHostChanges((dir, ctl) => runUnder(runtime, 'inotify-host', ['/w', '/ctl', ...COUNTS], {
        mounts: [{ source: dir, destination: '/w' }, { source: ctl, destination: '/ctl' }],
        timeoutMs: 60_000,
      }));
      expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: native.stdout });
    }, 90_000);
  }
});
