/**
 * The busybox shell under runc and tvisor: the acceptance script, and shell exit
 * statuses (including init's immunity to signals it does not handle). runc's output is
 * recorded in the same run and tvisor must print the same bytes and end the same way.
 * runc's output is also checked against facts known from the script and the bundle.
 * Masked (see masked()): /proc's link count, which counts every process of the host; the
 * date of /sys, the host's boot time under runc; the size and date of /tmp, a tmpfs under
 * tvisor as under runsc.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PASSWD, makeRootfs } from './bundle';
import { RunResult, runUnder, runtimeSkipReason } from './runner';

/** SCRIPT is the acceptance script of the sentry issue, verbatim. */
const SCRIPT =
  'echo hello; ls -l /; cat /etc/passwd | wc -l; for i in 3 1 2; do echo $i; done | sort -n; (exit 7); echo $?; ' +
  'sleep 0.1 & wait; trap "echo got" USR1; kill -USR1 $$; echo done';

/** STATUS_SCRIPTS are small scripts whose output and exit status must match runc's. */
const STATUS_SCRIPTS: { script: string; status: number; stdout: string }[] = [
  { script: 'exit 3', status: 3, stdout: '' },
  // A child shell dies of SIGTERM: its parent sees 128+15.
  { script: 'sh -c "kill -TERM \\$\\$"; echo $?', status: 0, stdout: '143\n' },
  // The container's init ignores a signal it has no handler for, even from itself.
  { script: 'kill -TERM $$; echo survived', status: 0, stdout: 'survived\n' },
  // A task that loops without syscalls does not stop the others (time slices).
  { script: 'while :; do :; done & sleep 0.2; echo ok; kill $!; wait $!; echo $?', status: 0, stdout: 'ok\n143\n' },
  // A pipeline's status is its last command's; the script's is its last command's.
  { script: '(exit 5) | (exit 6); echo $?; false', status: 1, stdout: '6\n' },
];

/** masked applies the three masks below to `ls -l /` output; every other byte is compared. */
function masked(stdout: string): string {
  return maskTmpfsTmp(maskHostSysfsTime(maskHostProcessCount(stdout)));
}

/** maskHostProcessCount hides the link count of /proc in `ls -l /` output. Linux reports
 * it as proc's own links plus nr_processes(), the number of processes on the whole host
 * (fs/proc/root.c, proc_root_getattr), so it differs between two runc runs: measured 81,
 * then 101 with 20 more host processes. */
function maskHostProcessCount(stdout: string): string {
  return stdout.replace(/^(d[rwx-]{9})\s+\d+(\s.*\sproc)$/m, '$1 N$2');
}

/** maskHostSysfsTime hides the date of /sys in `ls -l /`: under runc /sys is the host's
 * sysfs, whose root carries the host's boot time; tvisor's /sys is the sandbox's own
 * (same entries, link count and size) and shows the sandbox's time, by design: the host's
 * boot time is not the container's business. */
function maskHostSysfsTime(stdout: string): string {
  return stdout.replace(/^(dr-xr-xr-x\s+\d+\s+root\s+root\s+\d+) \w{3} [ \d]\d [ \d:]{5}( sys)$/m, '$1 DATE$2');
}

/** maskTmpfsTmp hides the size and date of /tmp in `ls -l /`, and the block total they
 * count in: runc shows the image's empty /tmp directory, tvisor (as runsc) mounts a
 * tmpfs there; mode, links and owner are still compared. */
function maskTmpfsTmp(stdout: string): string {
  return stdout.replace(/^total \d+$/m, 'total N').replace(/^(drwxrwxrwt\s+\d+\s+root\s+root)\s+\d+ \w{3} [ \d]\d [ \d:]{5}( tmp)$/m, '$1 SIZE DATE$2');
}

/** rootfsTopLevel lists the top-level names of the bundle's rootfs, sorted. */
function rootfsTopLevel(): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'behaviour-rootfs-'));
  try {
    makeRootfs(dir, { args: ['true'] });
    return fs.readdirSync(dir).sort();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const runcReason = runtimeSkipReason('runc');

describe('busybox sh: the acceptance script', () => {
  if (runcReason) {
    test.skip(`skipped: ${runcReason}`, () => {});
    return;
  }
  let runc: RunResult | undefined;
  const runcRun = (): RunResult => (runc ??= runUnder('runc', undefined, ['sh', '-c', SCRIPT]));

  test('runc prints what the script says', () => {
    const r = runcRun();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('hello');
    expect(lines[1]).toMatch(/^total \d+$/);
    const listing = lines.slice(2, 2 + rootfsTopLevel().length);
    const names = listing.map((l) => l.replace(/ -> .*$/, '').split(/\s+/).pop());
    expect(names).toEqual(rootfsTopLevel());
    for (const l of listing) expect(l).toMatch(/^[dl][rwxt-]{9}\s+\d+\s+root\s+root\s+/);
    expect(masked(r.stdout)).toMatch(/^dr-xr-xr-x\s+N\s.*\sproc$/m);
    const passwdLines = PASSWD.split('\n').filter(Boolean).length;
    expect(lines.slice(2 + listing.length)).toEqual([String(passwdLines), '1', '2', '3', '7', 'got', 'done', '']);
  });

  const tvisorReason = runtimeSkipReason('tvisor');
  if (tvisorReason) {
    test.skip(`tvisor: skipped: ${tvisorReason}`, () => {});
    return;
  }
  test('tvisor prints the same and exits the same as runc', () => {
    let t = runUnder('tvisor', undefined, ['sh', '-c', SCRIPT]);
    let r = runcRun();
    const same = (): boolean => masked(t.stdout) === masked(r.stdout);
    // `ls -l` shows minutes, and each run builds its rootfs afresh: when the two runs fall
    // on either side of a minute boundary, record both again (a boundary cannot fall
    // between two back-to-back runs twice in a row).
    for (let attempt = 0; attempt < 2 && !same(); attempt++) {
      t = runUnder('tvisor', undefined, ['sh', '-c', SCRIPT]);
      r = runUnder('runc', undefined, ['sh', '-c', SCRIPT]);
    }
    expect({ stdout: masked(t.stdout), status: t.status }).toEqual({
      stdout: masked(r.stdout),
      status: r.status,
    });
  });
});

describe.each(STATUS_SCRIPTS)('busybox sh -c $script', ({ script, status, stdout }) => {
  if (runcReason) {
    test.skip(`skipped: ${runcReason}`, () => {});
    return;
  }
  let runc: RunResult | undefined;
  const runcRun = (): RunResult => (runc ??= runUnder('runc', undefined, ['sh', '-c', script]));
  test('runc: output and status', () => {
    expect({ stdout: runcRun().stdout, status: runcRun().status }).toEqual({ stdout, status });
  });
  const tvisorReason = runtimeSkipReason('tvisor');
  if (tvisorReason) {
    test.skip(`tvisor: skipped: ${tvisorReason}`, () => {});
    return;
  }
  test('tvisor: same output and status as runc', () => {
    const t = runUnder('tvisor', undefined, ['sh', '-c', script]);
    expect({ stdout: t.stdout, status: t.status }).toEqual({ stdout: runcRun().stdout, status: runcRun().status });
  });
});
