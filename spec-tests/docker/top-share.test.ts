/**
 * `docker top` and Docker's `container:X` modes with tvisor (issue 15's acceptance), each
 * case run under tvisor and under runc in one private dockerd (harness.ts, no bridge:
 * containers have loopback only) with the busybox image, their outputs compared:
 *
 * - `docker top` (host `ps -ef` on the pids `tvisor ps --format json` reports) lists the
 *   container's processes with their command lines, as runc's: the stub processes carry
 *   their processes' names and arguments (platform/ptrace/title.ts);
 * - `--network container:X`: a server on X's 127.0.0.1 answers a client container;
 * - `--ipc container:X` (X `--ipc shareable`): a file X wrote in /dev/shm is read by the
 *   other, and a System V shared memory segment X made is attached by the other
 *   (programs/sysvshm.c, compiled here: busybox has no program that makes one);
 * - `--pid container:X`: each container's `ps` lists the other's processes.
 *
 * TVISOR_DOCKER_TESTS=0 skips the suite, saying so; a missing prerequisite fails it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Dockerd, REPO, alive, mountsUnder, run, sleep, tvisorProcessesUsing, writeBusyboxTar, type Result } from './harness';
import { missingPrerequisite, optedOut } from './probes';

const IMG = 'tvisor-test:busybox';
/** RUNTIMES are the runtime under test and the one it is compared with. */
const RUNTIMES = ['tvisor', 'runc'] as const;
type Runtime = (typeof RUNTIMES)[number];

const prereq = optedOut() ? undefined : missingPrerequisite();

/** ok asserts a docker command succeeded, showing its output when it did not. */
function ok(r: Result): string {
  if (r.status !== 0) throw new Error(`docker failed (${r.status ?? r.signal}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** retry makes a shell loop that runs a command until it succeeds (its peer may still be starting), 10 s at most. */
const retry = (cmd: string) => `for i in $(seq 50); do ${cmd} && exit 0; sleep 0.2; done; exit 1`;

if (optedOut()) {
  test.skip('docker top and container:X modes with tvisor (skipped: TVISOR_DOCKER_TESTS=0)', () => {});
} else if (prereq) {
  test('docker top and container:X modes with tvisor: prerequisites', () => {
    throw new Error(`the Docker tests cannot run: ${prereq}`);
  });
} else {
  describe('docker top and container:X modes with tvisor', () => {
    const dockerd = new Dockerd();
    const d = (args: string[], opts?: { input?: string; timeoutMs?: number }) => dockerd.docker(args, opts);
    const tag = `${process.pid}-${Date.now().toString(36)}`;
    let baselineMounts: string[] = [];
    /** names are the containers each case started (removed after it, and by afterAll). */
    const names: string[] = [];
    /** stubs are the host pids docker top listed for tvisor containers: gone once those are removed. */
    const stubs: number[] = [];
    /** SYSVSHM mounts the static sysvshm program at /sysvshm. */
    let SYSVSHM: string[] = [];

    /** start runs a detached container under `rt` and returns its name. */
    function start(rt: Runtime, what: string, args: string[]): string {
      const name = `${what}-${rt}-${tag}`;
      names.push(name);
      ok(d(['run', '-d', `--runtime=${rt}`, '--name', name, ...args]));
      return name;
    }

    function removeAll(): void {
      if (names.length > 0) d(['rm', '-f', ...names.splice(0)], { timeoutMs: 60_000 });
    }

    beforeAll(async () => {
      expect(dockerd.install().status).toBe(0);
      await dockerd.start();
      baselineMounts = mountsUnder(dockerd.dir);
      const tarFile = path.join(dockerd.dir, 'rootfs.tar');
      await writeBusyboxTar(tarFile);
      ok(d(['import', tarFile, IMG], { timeoutMs: 60_000 }));
      const sysvshm = path.join(dockerd.dir, 'sysvshm');
      const cc = run('cc', ['-static', '-O2', '-Wall', '-Wextra', '-Werror', '-o', sysvshm, path.join(REPO, 'spec-tests/docker/programs/sysvshm.c')]);
      if (cc.status !== 0) throw new Error(`cannot compile sysvshm.c (cc -static): ${cc.stderr.trim()}`);
      SYSVSHM = ['-v', `${sysvshm}:/sysvshm:ro`];
    }, 120_000);

    afterAll(async () => {
      const ids = d(['ps', '-aq']).stdout.trim().split('\n').filter(Boolean);
      if (ids.length > 0) d(['rm', '-f', ...ids], { timeoutMs: 60_000 });
      await dockerd.stop();
    }, 120_000);

    afterEach(removeAll, 60_000);

    test('docker top lists the container\'s processes with their command lines, as under runc', async () => {
      const got: Record<string, string[]> = {};
      for (const rt of RUNTIMES) {
        const name = start(rt, 'top', [IMG, 'sh', '-c', 'sleep 30 & exec sleep 31']);
        // ps -ef's columns: UID PID PPID C STIME TTY TIME CMD (the rest of the line).
        const cmds = () => {
          const lines = ok(d(['top', name])).trim().split('\n');
          expect(lines[0].trim().split(/\s+/)).toEqual(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
          return lines.slice(1).map((l) => l.trim().split(/\s+/).slice(7).join(' ')).sort();
        };
        const until = Date.now() + 30_000;
        // The shell forks and execs: wait until both sleeps run (not a timing assertion).
        while ((got[rt] = cmds()).join() !== 'sleep 30,sleep 31' && Date.now() < until) await sleep(200);
        if (rt === 'tvisor') stubs.push(...ok(d(['top', name])).trim().split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[1])));
      }
      expect(got.runc).toEqual(['sleep 30', 'sleep 31']);
      expect(got.tvisor).toEqual(got.runc);
    }, 120_000);

    test('--network container:X: a client reaches a server on X\'s 127.0.0.1, as under runc', () => {
      const got: Record<string, unknown> = {};
      for (const rt of RUNTIMES) {
        const srv = start(rt, 'netsrv', [IMG, 'sh', '-c', `mkdir /www && echo hello from ${rt} > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www`]);
        const r = d(['run', '--rm', `--runtime=${rt}`, '--network', `container:${srv}`, IMG, 'sh', '-c', retry('wget -q -O - http://127.0.0.1:8080/')], { timeoutMs: 60_000 });
        got[rt] = { status: r.status, body: r.stdout, stderr: r.stderr.trim() };
      }
      expect(got.runc).toEqual({ status: 0, body: 'hello from runc\n', stderr: '' });
      expect(got.tvisor).toEqual({ status: 0, body: 'hello from tvisor\n', stderr: '' });
    }, 120_000);

    test('--ipc container:X: a file in X\'s /dev/shm is the other\'s, as under runc', () => {
      const got: Record<string, unknown> = {};
      for (const rt of RUNTIMES) {
        const a = start(rt, 'ipc', ['--ipc', 'shareable', IMG, 'sh', '-c', `echo written by ${rt} > /dev/shm/f; exec sleep 60`]);
        const r = d(['run', '--rm', `--runtime=${rt}`, '--ipc', `container:${a}`, IMG, 'sh', '-c', `(${retry('test -s /dev/shm/f')}) && cat /dev/shm/f && echo back > /dev/shm/g`], { timeoutMs: 60_000 });
        const back = d(['exec', a, 'cat', '/dev/shm/g']);
        got[rt] = { status: r.status, read: r.stdout, stderr: r.stderr.trim(), back: back.stdout };
      }
      expect(got.runc).toEqual({ status: 0, read: 'written by runc\n', stderr: '', back: 'back\n' });
      expect(got.tvisor).toEqual({ status: 0, read: 'written by tvisor\n', stderr: '', back: 'back\n' });
    }, 120_000);

    test('--ipc container:X: a System V segment X made is the other\'s, as under runc', () => {
      const got: Record<string, unknown> = {};
      for (const rt of RUNTIMES) {
        const a = start(rt, 'sysv', ['--ipc', 'shareable', ...SYSVSHM, IMG, 'sh', '-c', `/sysvshm put 0x5eed "segment of ${rt}" && exec sleep 60`]);
        const r = d(['run', '--rm', `--runtime=${rt}`, '--ipc', `container:${a}`, ...SYSVSHM, IMG, 'sh', '-c', `(${retry('/sysvshm get 0x5eed 2>/dev/null >/dev/null')}) && /sysvshm get 0x5eed`], { timeoutMs: 60_000 });
        got[rt] = { status: r.status, read: r.stdout, stderr: r.stderr.trim() };
      }
      expect(got.runc).toEqual({ status: 0, read: 'segment of runc\n', stderr: '' });
      expect(got.tvisor).toEqual({ status: 0, read: 'segment of tvisor\n', stderr: '' });
    }, 120_000);

    test('--pid container:X: each container\'s ps lists the other\'s processes, docker top each one\'s own, as under runc', async () => {
      const got: Record<string, unknown> = {};
      for (const rt of RUNTIMES) {
        const a = start(rt, 'pida', [IMG, 'sleep', '60']);
        const b = start(rt, 'pidb', ['--pid', `container:${a}`, IMG, 'sleep', '61']);
        const ps = (name: string) => ok(d(['exec', name, 'ps', '-o', 'args'])).trim().split('\n').slice(1).map((l) => l.trim()).sort();
        const until = Date.now() + 30_000;
        let seen: string[][] = [];
        while ((seen = [ps(a), ps(b)]).some((l) => !l.includes('sleep 61')) && Date.now() < until) await sleep(200);
        // docker top still lists each container's own processes only.
        const top = (name: string) => ok(d(['top', name])).trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/).slice(7).join(' '));
        got[rt] = { ps: seen, top: [top(a), top(b)] };
      }
      expect(got.runc).toEqual({ ps: [['ps -o args', 'sleep 60', 'sleep 61'], ['ps -o args', 'sleep 60', 'sleep 61']], top: [['sleep 60'], ['sleep 61']] });
      expect(got.tvisor).toEqual(got.runc);
    }, 120_000);

    test('nothing is left behind: containers, tvisor processes, mounts, state directories', async () => {
      expect(d(['ps', '-aq']).stdout.trim()).toBe('');
      const until = Date.now() + 10_000;
      while (tvisorProcessesUsing(dockerd.dir).length > 0 && Date.now() < until) await sleep(100);
      expect(tvisorProcessesUsing(dockerd.dir)).toEqual([]);
      // The stubs (named after their processes, their working directory /) are gone too.
      expect(stubs.length).toBeGreaterThan(0);
      while (stubs.some(alive) && Date.now() < until) await sleep(100);
      expect(stubs.filter(alive)).toEqual([]);
      expect(mountsUnder(dockerd.dir)).toEqual(baselineMounts);
      for (const r of dockerd.runtimeRoots().filter((p) => fs.existsSync(p))) expect([r, fs.readdirSync(r)]).toEqual([r, []]);
    });
  });
}
