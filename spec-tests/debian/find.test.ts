/**
 * Walks over big trees on the Debian image (issue 9's dentry cache): 40,000 files made
 * under the gofer-served /work and `find` over them and over /usr, twice, give what runc
 * gives, the container can still start programs afterwards, and the gofer's host
 * descriptors (counted from the host while the container runs) stay under the bound the
 * sentry's dentry cache sets. And a file changed, removed or created on the host under a
 * bind mount is seen by the container as under runc (revalidation).
 *
 * The host side of each run is a watcher script (hostWatcher): the container names a
 * checkpoint by creating /sync/ready.N on a bind mount and waits for /sync/go.N; at each
 * checkpoint the watcher runs the test's host action N (if any) and records the gofer's
 * descriptor count. And /proc/<pid> goes with its process (the cache keeps no /proc name).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runDebian } from './image';
import type { Runtime } from '../behaviour/runner';

/** GOFER_FD_BOUND is the bound on the gofer's descriptors after a walk. The
 * dentry cache keeps at most 1000 dentries (+32 before a trim) by default, each holding
 * one gofer fid; the gofer adds its stdio, socket, exports and /proc/self/fd. */
const GOFER_FD_BOUND = 2000;

/** WATCHER waits for checkpoints of the container (see the module comment). Run as
 * `bash WATCHER SYNC`: its command line names neither the gofer nor the sync directory's
 * export, so the search for the gofer does not find the watcher itself. */
const WATCHER = `
sync=$1
n=1
while :; do
  while [ ! -e "$sync/ready.$n" ]; do sleep 0.1; done
  [ -x "$sync/action.$n" ] && "$sync/action.$n"
  found=none
  for p in /proc/[0-9]*; do
    cmd=$(tr '\\0' ' ' < "$p/cmdline" 2>/dev/null) || continue
    case "$cmd" in
      *" gofer "*"/sync=$sync "*|*" gofer "*"/sync=$sync") found=$(ls "$p/fd" | wc -l) ;;
    esac
  done
  echo "$n $found" >> "$sync/fds"
  touch "$sync/go.$n"
  n=$((n + 1))
done
`;

/** Watched is one run's sync directory and its watcher. */
interface Watched {
  sync: string;
  watcher: ChildProcess;
  /** fds returns the gofer's descriptor count at each checkpoint (null: no gofer found). */
  fds(): Array<number | null>;
  done(): void;
}

/** hostWatcher starts a watcher with `actions[i]` (bash) as the host action of
 * checkpoint i+1. */
function hostWatcher(actions: string[] = []): Watched {
  const sync = fs.mkdtempSync(path.join(os.tmpdir(), 'debian-find-sync-'));
  fs.writeFileSync(path.join(sync, 'watch.sh'), WATCHER);
  actions.forEach((a, i) => fs.writeFileSync(path.join(sync, `action.${i + 1}`), `#!/bin/bash\nset -e\n${a}\n`, { mode: 0o755 }));
  const watcher = spawn('bash', [path.join(sync, 'watch.sh'), sync], { stdio: 'ignore' });
  return {
    sync,
    watcher,
    fds: () => {
      const f = path.join(sync, 'fds');
      if (!fs.existsSync(f)) return [];
      return fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => {
        const v = l.split(' ')[1];
        return v === 'none' ? null : Number(v);
      });
    },
    done: () => {
      watcher.kill('SIGKILL');
      fs.rmSync(sync, { recursive: true, force: true });
    },
  };
}

/** checkpoint is the container's side: name checkpoint n and wait for the host. */
const checkpoint = (n: number) => `touch /sync/ready.${n}; while [ ! -e /sync/go.${n} ]; do sleep 0.1; done`;

/** runWatched runs `script` under `runtime` with /sync mounted for the watcher. */
function runWatched(runtime: Runtime, script: string, w: Watched, extraMounts: Array<{ source: string; destination: string }> = []) {
  return runDebian(runtime, script, { timeoutMs: 900_000, mounts: [{ source: w.sync, destination: '/sync' }, ...extraMounts] });
}

const MAKE_40K = `python3 -c '
import os
for d in range(40):
    os.mkdir(f"d{d}")
    for i in range(1000):
        open(f"d{d}/f{i}", "w").close()
'`;

const WALKS = `
for pass in 1 2; do
  find /work | wc -l
  find /work -size -1 | wc -l
  find /usr | sort | md5sum
  find /usr -size +0 | wc -l
done`;

describe('walks over big trees on the Debian image', () => {
  test('40,000 files under /work and /usr, found twice: as under runc, the gofer stays bounded, exec still works', () => {
    const script = `${MAKE_40K}\n${checkpoint(1)}\n${WALKS}\n${checkpoint(2)}\nls /bin | wc -l; python3 -c 'print("still running")'`;
    const results = (['runc', 'tvisor'] as Runtime[]).map((rt) => {
      const w = hostWatcher();
      try {
        return { r: runWatched(rt, script, w), fds: w.fds() };
      } finally {
        w.done();
      }
    });
    const [runc, tvisor] = results;
    expect({ status: runc.r.status, stderr: runc.r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(runc.r.stdout).toContain('40041\n40000\n'); // the 40,000 files, 40 directories and /work
    expect({ stdout: tvisor.r.stdout, stderr: tvisor.r.stderr, status: tvisor.r.status })
      .toEqual({ stdout: runc.r.stdout, stderr: runc.r.stderr, status: runc.r.status });
    // After making the files and after the walks, counted on the host.
    expect(tvisor.fds).toHaveLength(2);
    for (const n of tvisor.fds) {
      expect(n).not.toBeNull();
      expect(n).toBeLessThan(GOFER_FD_BOUND);
    }
  }, 1_800_000);

  // A name cached from a directory's listing (Treaddirstat) holds no fid until it is used
  // (opened, read as a link, listed): stat-ing alone takes none, so files are read too, and
  // the cached names hold fewer fids than there are names (46 more in a run, not ~200).
  test('the annotation dev.tvisor.dentry-cache sets the bound: with 200, the gofer holds at most 200 (+32) more fids after stat-ing all of /usr and reading /usr/share/doc', () => {
    const w = hostWatcher();
    let fds: Array<number | null>;
    let r;
    try {
      r = runDebian('tvisor', `${checkpoint(1)}; find /usr -size +0 | wc -l; find /usr/share/doc -type f -exec cat {} + | wc -c; ${checkpoint(2)}`, {
        timeoutMs: 600_000,
        mounts: [{ source: w.sync, destination: '/sync' }],
        editSpec: (spec) => { spec.annotations = { ...spec.annotations, 'dev.tvisor.dentry-cache': '200' }; },
      });
      fds = w.fds();
    } finally {
      w.done();
    }
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(fds).toHaveLength(2);
    const [before, after] = fds as number[];
    // The capacity and the trim's slack (32), beyond what the gofer held before the walk.
    expect(after - before).toBeLessThanOrEqual(200 + 32);
    expect(after - before).toBeGreaterThan(20); // the cache was used
  }, 600_000);

  test('listings with attributes (Treaddirstat): find and ls -lR over the image give what runc gives', () => {
    // Each directory's entries come with their attributes in one round trip: the types,
    // sizes, modes, owners, times and link counts must be the files' own (a symlink's
    // own, never its target's), in the first walk (cold) and the second (cached).
    const script = [
      'for pass in 1 2; do',
      '  find /usr -type f | wc -l',
      '  ls -lR /usr/share/doc | wc -l',
      "  find /usr/share /usr/lib/python3* -printf '%p %y %s %m %U %G %n %T@ %l\\n' | sort | md5sum",
      '  ls -lR --time-style=full-iso /usr/share/doc /usr/bin | md5sum',
      'done',
    ].join('\n');
    const [runc, tvisor] = (['runc', 'tvisor'] as Runtime[]).map((rt) => runDebian(rt, script, { timeoutMs: 600_000 }));
    expect({ status: runc.status, stderr: runc.stderr }).toEqual({ status: 0, stderr: '' });
    expect(runc.stdout.split('\n')[0]).toMatch(/^[1-9][0-9]{3,}$/); // thousands of files
    expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status })
      .toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
  }, 1_200_000);

  test('/proc/<pid> of a reaped process is gone, as under runc (no /proc name is cached), and /proc is finite', () => {
    const script = [
      'sleep 0.5 & p=$!',
      'ls /proc/$p/status > /dev/null && echo there; cd /proc/$p && pwd | sed "s/$p/PID/"; cd /',
      'wait $p',
      'for f in /proc/$p /proc/$p/ /proc/$p/status; do ls -d $f 2>&1 | sed "s/$p/PID/"; done',
      // A thread's directory has no task/ of its own (else the tree is endless).
      'ls /proc/self/task/*/ | grep -cx task || true',
    ].join('\n');
    const [runc, tvisor] = (['runc', 'tvisor'] as Runtime[]).map((rt) => runDebian(rt, script));
    expect(runc.stdout).toContain("ls: cannot access '/proc/PID': No such file or directory");
    expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status })
      .toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
  }, 120_000);

  test('files changed, removed and created on the host under a bind mount are seen as under runc', () => {
    const script = [
      'cd /data; echo one > a; echo keep > b; mkdir d; echo x > d/x',
      'cat a; stat -c "%n %s" a b d/x; ls',
      checkpoint(1),
      'cat a; stat -c "%n %s" a; ls; cat b 2>&1 || true; cat c; ls d; cat d/y; stat -c "%n %F" d/x 2>&1 || true',
      'echo again > a; cat a',
      checkpoint(2),
      'cat a; ls -1 d',
    ].join('\n');
    const actions = (data: string) => [
      `echo changed on the host > ${data}/a; rm ${data}/b; echo new > ${data}/c; rm ${data}/d/x; echo y > ${data}/d/y`,
      `rm ${data}/a; echo recreated > ${data}/a; mkdir ${data}/d/x`,
    ];
    const outs = (['runc', 'tvisor'] as Runtime[]).map((rt) => {
      const data = fs.mkdtempSync(path.join(os.tmpdir(), 'debian-find-data-'));
      fs.chmodSync(data, 0o777);
      const w = hostWatcher(actions(data));
      try {
        return runWatched(rt, script, w, [{ source: data, destination: '/data' }]);
      } finally {
        w.done();
        fs.rmSync(data, { recursive: true, force: true });
      }
    });
    const [runc, tvisor] = outs;
    expect({ status: runc.status, stderr: runc.stderr }).toEqual({ status: 0, stderr: '' });
    expect(runc.stdout).toContain('changed on the host\n');
    expect(runc.stdout).toContain('recreated\n');
    expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status })
      .toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
  }, 600_000);
});
