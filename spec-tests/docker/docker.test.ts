/**
 * Docker with tvisor: a private dockerd (harness.ts) with tvisor registered through
 * `tvisor install --config-file`, a busybox image made by `docker import`, and the docker
 * client's everyday uses checked end to end through Docker, containerd's runc shim and
 * tvisor's runc-compatible CLI; the terminal tests compare with runc in the same daemon.
 * The last test checks that nothing is left behind:
 * no tvisor process, no mount, no state directory under the --root Docker passes to
 * tvisor (Docker 20.10: <exec-root>/runtime-runc/moby; later: runtime-<name>/moby).
 *
 * TVISOR_DOCKER_TESTS=0 skips the suite, saying so; without root, docker.io,
 * busybox-static or a built tvisor it fails, naming what is missing (probes.ts). Every
 * docker call is bounded by a timeout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Dockerd, IMAGE_USER, TVISOR, alive, descendants, mountsUnder, run, sleep, tvisorProcessesUsing, writeBusyboxTar, type Result } from './harness';
import { missingPrerequisite, optedOut } from './probes';

const IMG = 'tvisor-test:busybox';
const RT = '--runtime=tvisor';

const prereq = optedOut() ? undefined : missingPrerequisite();

/** dockerTest declares one test of the suite (a minute each at most). Every feature the
 * suite uses (file binds, exec, terminals) is built: a regression fails, never skips. */
function dockerTest(name: string, fn: jest.ProvidesCallback, timeout = 60_000): void {
  test(name, fn, timeout);
}
/** PEER is the runtime the terminal tests compare with: runc, Docker's own. */
const PEER = '--runtime=runc';

/** ok asserts a docker command succeeded, showing its output when it did not. */
function ok(r: Result): string {
  if (r.status !== 0) throw new Error(`docker failed (${r.status ?? r.signal}): ${r.stderr.trim()}`);
  return r.stdout;
}

if (optedOut()) {
  test.skip('Docker with tvisor (skipped: TVISOR_DOCKER_TESTS=0)', () => {});
} else if (prereq) {
  test('Docker with tvisor: prerequisites', () => {
    throw new Error(`the Docker tests cannot run: ${prereq}`);
  });
} else {
  describe('Docker with tvisor', () => {
    const dockerd = new Dockerd();
    const d = (args: string[], opts?: { input?: string; timeoutMs?: number }) => dockerd.docker(args, opts);
    let installOutput: Result;
    let baselineMounts: string[] = [];
    /** sandboxPids are the sentries of detached containers and their children (gofer, stubs). */
    const sandboxPids = new Set<number>();

    /** waitFor polls `check` every 100 ms until it returns true; false after `ms`. */
    async function waitFor(check: () => boolean, ms = 10_000): Promise<boolean> {
      const until = Date.now() + ms;
      while (!check()) {
        if (Date.now() > until) return false;
        await sleep(100);
      }
      return true;
    }

    function recordSandbox(id: string): void {
      const pid = Number(ok(d(['inspect', '-f', '{{.State.Pid}}', id])).trim());
      expect(pid).toBeGreaterThan(0);
      sandboxPids.add(pid);
      for (const p of descendants(pid)) sandboxPids.add(p);
    }

    beforeAll(async () => {
      installOutput = dockerd.install();
      // A second entry whose runtimeArgs force ptrace (the default is systrap where it works).
      ok(run(TVISOR, ['install', '--config-file', dockerd.configFile, '--runtime', 'tvisor-ptrace', '--', '--platform', 'ptrace']));
      await dockerd.start();
      baselineMounts = mountsUnder(dockerd.dir);
      const tarFile = path.join(dockerd.dir, 'rootfs.tar');
      await writeBusyboxTar(tarFile);
      ok(d(['import', tarFile, IMG], { timeoutMs: 60_000 }));
    }, 120_000);

    afterAll(async () => {
      await dockerd.stop();
    }, 60_000);

    test('tvisor install registers the runtime and dockerd offers it', () => {
      expect(installOutput.stderr).toBe('');
      expect(installOutput.status).toBe(0);
      const config = JSON.parse(fs.readFileSync(dockerd.configFile, 'utf8'));
      expect(config.runtimes.tvisor.path).toBe(TVISOR);
      const runtimes = JSON.parse(ok(d(['info', '--format', '{{json .Runtimes}}'])));
      expect(Object.keys(runtimes)).toContain('tvisor');
      expect(ok(d(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']))).toContain(IMG);
    });

    dockerTest('docker run --runtime=tvisor runs on the default platform `tvisor platforms` marks; --platform ptrace in runtimeArgs still picks ptrace', async () => {
      const listed = JSON.parse(ok(run(TVISOR, ['platforms', '--format', 'json']))) as { name: string; default?: boolean }[];
      const chosen = listed.filter((c) => c.default).map((c) => c.name);
      expect(chosen.length).toBe(1);
      const stubOf: Record<string, string> = { systrap: 'tvisor-systrap-stub', ptrace: 'tvisor-stub' };
      for (const [rt, platform] of [[RT, chosen[0]], ['--runtime=tvisor-ptrace', 'ptrace']]) {
        const id = ok(d(['run', '-d', rt, IMG, 'sleep', '30'])).trim();
        try {
          recordSandbox(id);
          const pid = Number(ok(d(['inspect', '-f', '{{.State.Pid}}', id])).trim());
          // The sandbox's stub processes run the platform's stub binary (their exe).
          const exes = new Set<string>();
          for (const p of [pid, ...descendants(pid)]) {
            try {
              const exe = path.basename(fs.readlinkSync(`/proc/${p}/exe`));
              if (/^tvisor-(systrap-)?stub$/.test(exe)) exes.add(exe);
            } catch {
              // gone meanwhile
            }
          }
          expect({ rt, stubs: [...exes] }).toEqual({ rt, stubs: [stubOf[platform]] });
        } finally {
          d(['rm', '-f', id]);
        }
      }
    });

    dockerTest('docker run prints the output and passes the exit status', () => {
      const r = d(['run', '--rm', RT, IMG, 'sh', '-c', 'echo hi; exit 3']);
      expect(r.stdout).toBe('hi\n');
      expect(r.status).toBe(3);
    });

    dockerTest('-e, -w and -u set the environment, the working directory and the user', () => {
      const r = d(['run', '--rm', RT, '-e', 'FOO=bar baz', '-w', '/tmp', '-u', String(IMAGE_USER.uid), IMG,
        'sh', '-c', 'echo "$FOO|$(pwd)|$(id -u)|$(id -un)|$(id -g)"']);
      expect(ok(r)).toBe(`bar baz|/tmp|${IMAGE_USER.uid}|${IMAGE_USER.name}|${IMAGE_USER.gid}\n`);
    });

    dockerTest('-i pipes the standard input into the container', () => {
      expect(ok(d(['run', '--rm', '-i', RT, IMG, 'cat'], { input: 'data\n' }))).toBe('data\n');
      const big = 'x'.repeat(99_999) + '\n';
      expect(ok(d(['run', '--rm', '-i', RT, IMG, 'wc', '-c'], { input: big })).trim()).toBe(String(big.length));
    });

    dockerTest('--read-only refuses writes to the root, a --tmpfs mount takes them', () => {
      const r = d(['run', '--rm', RT, '--read-only', IMG, 'sh', '-c', 'echo x > /f; echo "rc=$?"; ls /f']);
      expect(r.stdout).toBe('rc=1\n');
      expect(r.stderr).toMatch(/Read-only file system/);
      expect(r.status).not.toBe(0);
      const t = d(['run', '--rm', RT, '--read-only', '--tmpfs', '/tmp', IMG, 'sh', '-c', 'echo x > /tmp/f && cat /tmp/f']);
      expect(ok(t)).toBe('x\n');
    });

    dockerTest('-v binds a host directory, read-write and :ro', () => {
      const host = path.join(dockerd.dir, 'hostdir');
      fs.mkdirSync(host);
      fs.writeFileSync(path.join(host, 'in.txt'), 'from the host\n');
      const rw = d(['run', '--rm', RT, '-v', `${host}:/data`, IMG, 'sh', '-c', 'cat /data/in.txt; echo from the container > /data/out.txt']);
      expect(ok(rw)).toBe('from the host\n');
      expect(fs.readFileSync(path.join(host, 'out.txt'), 'utf8')).toBe('from the container\n');
      const ro = d(['run', '--rm', RT, '-v', `${host}:/data:ro`, IMG, 'sh', '-c', 'cat /data/in.txt; echo no > /data/ro.txt; echo "rc=$?"']);
      expect(ro.stdout).toBe('from the host\nrc=1\n');
      expect(ro.stderr).toMatch(/Read-only file system/);
      expect(fs.existsSync(path.join(host, 'ro.txt'))).toBe(false);
    });

    dockerTest('run -d, logs, kill -s USR1, stop (SIGTERM handled), rm', async () => {
      const script = 'trap "echo got-usr1" USR1; trap "echo got-term; exit 7" TERM; echo started; while true; do sleep 0.1; done';
      const id = ok(d(['run', '-d', RT, '--stop-timeout', '1', IMG, 'sh', '-c', script])).trim();
      const logs = () => d(['logs', id]).stdout;
      expect(await waitFor(() => logs().includes('started'))).toBe(true);
      expect(ok(d(['inspect', '-f', '{{.State.Running}}', id])).trim()).toBe('true');
      recordSandbox(id);
      ok(d(['kill', '-s', 'USR1', id]));
      expect(await waitFor(() => logs().includes('got-usr1'))).toBe(true);
      ok(d(['stop', '-t', '1', id]));
      expect(ok(d(['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', id])).trim()).toBe('false 7');
      expect(logs()).toBe('started\ngot-usr1\ngot-term\n');
      ok(d(['rm', id]));
      expect(d(['inspect', id]).status).not.toBe(0);
    });

    dockerTest('docker stop kills with SIGKILL a container that ignores SIGTERM', async () => {
      const id = ok(d(['run', '-d', RT, IMG, 'sh', '-c', 'trap "" TERM; echo started; while true; do sleep 0.1; done'])).trim();
      expect(await waitFor(() => d(['logs', id]).stdout.includes('started'))).toBe(true);
      recordSandbox(id);
      ok(d(['stop', '-t', '1', id]));
      expect(ok(d(['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', id])).trim()).toBe('false 137');
      ok(d(['rm', id]));
    });

    dockerTest('docker rm -f removes a running container', async () => {
      const id = ok(d(['run', '-d', RT, IMG, 'sleep', '1000'])).trim();
      expect(await waitFor(() => d(['inspect', '-f', '{{.State.Running}}', id]).stdout.trim() === 'true')).toBe(true);
      recordSandbox(id);
      ok(d(['rm', '-f', id]));
      expect(d(['inspect', id]).status).not.toBe(0);
    });

    dockerTest('docker exec runs a process in a running container', async () => {
      const id = ok(d(['run', '-d', RT, IMG, 'sleep', '1000'])).trim();
      try {
        recordSandbox(id);
        const t = { timeoutMs: 20_000 };
        const r = d(['exec', '-e', 'FOO=bar', id, 'sh', '-c', 'echo "in-exec $FOO"; exit 4'], t);
        expect(r.stdout).toBe('in-exec bar\n');
        expect(r.status).toBe(4);
        expect(ok(d(['exec', '-i', id, 'cat'], { ...t, input: 'exec-data\n' }))).toBe('exec-data\n');
        expect(ok(d(['exec', '-u', String(IMAGE_USER.uid), '-w', '/tmp', id, 'sh', '-c', 'echo "$(id -u) $(pwd)"'], t))).toBe(`${IMAGE_USER.uid} /tmp\n`);
      } finally {
        d(['rm', '-f', id]);
      }
    });

    // The pty master goes to containerd's shim over the console socket; the shim reads
    // `create`'s output to its end before `start`, so the sandbox must not keep it.
    dockerTest('docker run -t gives the container a terminal, as runc does', () => {
      const script = 'tty; test -t 0 && echo stdin-tty; test -t 1 && echo stdout-tty; test -t 2 && echo stderr-tty; exit 2';
      const peer = d(['run', '--rm', '-t', PEER, IMG, 'sh', '-c', script]);
      expect(peer.status).toBe(2);
      const r = d(['run', '--rm', '-t', RT, IMG, 'sh', '-c', script]);
      expect(r.stdout).toBe(peer.stdout);
      expect(r.stdout).toMatch(/^\/dev\/pts\/\d+\r\nstdin-tty\r\nstdout-tty\r\nstderr-tty\r\n$/);
      expect(r.status).toBe(2);
    });

    dockerTest('docker run -it carries what is typed to the container and back, as runc does', async () => {
      const script = 'echo ready; read -r line; echo "got:$line"; exit 5';
      const peer = await dockerd.dockerInTerminal(['run', '--rm', '-it', PEER, IMG, 'sh', '-c', script], 'ready', 'hello tty\n');
      expect(peer.status).toBe(5);
      const r = await dockerd.dockerInTerminal(['run', '--rm', '-it', RT, IMG, 'sh', '-c', script], 'ready', 'hello tty\n');
      expect(r.stdout).toBe(peer.stdout);
      expect(r.stdout).toContain('got:hello tty\r\n');
      expect(r.status).toBe(5);
    });

    // Docker's shim runs `exec --detach --console-socket`: the sandbox opens a new pty for
    // the process, whose master reaches the shim; the exit status comes through the
    // detached tvisor exec the shim waits for.
    dockerTest('docker exec -t gives the process a terminal, as runc does', async () => {
      const script = 'tty; test -t 0 && echo stdin-tty; test -t 1 && echo stdout-tty; exit 3';
      const t = { timeoutMs: 20_000 };
      const outputs: string[] = [];
      for (const rt of [PEER, RT]) {
        const id = ok(d(['run', '-d', rt, IMG, 'sleep', '1000'])).trim();
        try {
          if (rt === RT) recordSandbox(id);
          const r = d(['exec', '-t', id, 'sh', '-c', script], t);
          expect(r.status).toBe(3);
          outputs.push(r.stdout);
        } finally {
          d(['rm', '-f', id]);
        }
      }
      expect(outputs[1]).toBe(outputs[0]);
      expect(outputs[1]).toMatch(/^\/dev\/pts\/\d+\r\nstdin-tty\r\nstdout-tty\r\n$/);
    });

    dockerTest('docker exec -it carries what is typed to the process and back, as runc does', async () => {
      const script = 'echo ready; read -r line; echo "got:$line"; exit 5';
      const outputs: string[] = [];
      for (const rt of [PEER, RT]) {
        const id = ok(d(['run', '-d', rt, IMG, 'sleep', '1000'])).trim();
        try {
          if (rt === RT) recordSandbox(id);
          const r = await dockerd.dockerInTerminal(['exec', '-it', id, 'sh', '-c', script], 'ready', 'hello tty\n');
          expect(r.status).toBe(5);
          outputs.push(r.stdout);
        } finally {
          d(['rm', '-f', id]);
        }
      }
      expect(outputs[1]).toBe(outputs[0]);
      expect(outputs[1]).toContain('got:hello tty\r\n');
    });

    dockerTest('docker run --init: docker-init (tini) as pid 1 runs the command, passes its status, forwards SIGTERM', async () => {
      // docker-init is the host's /usr/bin/docker-init (tini-static), bound at /sbin/docker-init.
      const script = 'echo "pid1=$(cat /proc/1/comm)"; echo hi; exit 3';
      const [runc, tvisor] = [PEER, RT].map((rt) => d(['run', '--rm', '--init', rt, IMG, 'sh', '-c', script]));
      expect({ stdout: runc.stdout, status: runc.status }).toEqual({ stdout: 'pid1=docker-init\nhi\n', status: 3 });
      expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status })
        .toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
      const loop = 'trap "echo got-term; exit 7" TERM; echo started; while true; do sleep 0.1; done';
      const id = ok(d(['run', '-d', '--init', RT, IMG, 'sh', '-c', loop])).trim();
      expect(await waitFor(() => d(['logs', id]).stdout.includes('started'))).toBe(true);
      recordSandbox(id);
      ok(d(['stop', '-t', '5', id]));
      expect(ok(d(['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', id])).trim()).toBe('false 7');
      expect(d(['logs', id]).stdout).toBe('started\ngot-term\n');
      ok(d(['rm', id]));
    });

    dockerTest('capabilities: the default set, --cap-drop, --cap-add, -u and no-new-privileges as under runc', () => {
      const script = 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status; touch /tmp/f; chown 1 /tmp/f; echo chown $?; hostname x; echo hostname $?';
      const variants = [[], ['--cap-drop', 'CHOWN'], ['--cap-add', 'SYS_ADMIN'], ['--cap-drop', 'ALL', '--cap-add', 'CHOWN'],
        ['-u', String(IMAGE_USER.uid)], ['--security-opt', 'no-new-privileges']];
      for (const v of variants) {
        const [runc, tvisor] = [PEER, RT].map((rt) => d(['run', '--rm', rt, ...v, IMG, 'sh', '-c', script]));
        expect({ flags: v, stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status })
          .toEqual({ flags: v, stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
      }
    });

    dockerTest('resource and identity flags as under runc: --pids-limit, --cpus/--cpuset-cpus, --memory, --ulimit, --shm-size, --sysctl, --device, --hostname, --add-host, --entrypoint, -u with --group-add', () => {
      const runs: Array<[string[], string]> = [
        [['--pids-limit', '20', '--cpus', '1', '--cpuset-cpus', '0', '--memory', '64m'],
          '(for i in $(seq 40); do sleep 2 & done) 2>/dev/null; echo "40 forks under a limit of 20: $?"; nproc; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; wait'],
        [['--ulimit', 'nofile=100:200', '--shm-size', '16m', '--sysctl', 'net.ipv4.ip_forward=1', '--device', '/dev/null:/dev/mynull'],
          'ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1 | awk "{print \\$2}"; cat /proc/sys/net/ipv4/ip_forward; ls -l /dev/mynull | cut -c1; echo x > /dev/mynull && echo wrote'],
        [['--hostname', 'box1', '--add-host', 'foo:10.1.2.3', '-u', '1000:1000', '--group-add', '10', '--entrypoint', '/bin/sh'],
          'hostname; cat /etc/hostname; grep foo /etc/hosts; id'],
      ];
      for (const [flags, script] of runs) {
        const cmd = flags.includes('--entrypoint') ? ['-c', script] : ['sh', '-c', script];
        const [runc, tvisor] = [PEER, RT].map((rt) => d(['run', '--rm', rt, ...flags, IMG, ...cmd]));
        expect({ flags, status: runc.status, stderr: runc.stderr }).toEqual({ flags, status: 0, stderr: '' });
        expect({ flags, stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status })
          .toEqual({ flags, stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
      }
    }, 120_000);

    dockerTest('pause, unpause, stats, top, cp both ways, restart and update as under runc', async () => {
      const seen: Record<string, string[]> = {};
      for (const rt of [PEER, RT]) {
        const lines: string[] = [];
        const id = ok(d(['run', '-d', rt, IMG, 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /root/c; sleep 0.1; done'])).trim();
        expect(await waitFor(() => d(['exec', id, 'cat', '/root/c']).stdout.trim() !== '')).toBe(true);
        if (rt === RT) recordSandbox(id);
        const step = (what: string, args: string[]) => {
          const r = d(args);
          lines.push(`${what}: ${r.status} ${r.stderr.trim()}`);
          return r;
        };
        step('pause', ['pause', id]);
        lines.push(`state ${d(['inspect', '-f', '{{.State.Status}}', id]).stdout.trim()}`);
        const before = d(['exec', id, 'cat', '/root/c']);
        lines.push(`exec while paused refused: ${before.status !== 0}`);
        step('unpause', ['unpause', id]);
        lines.push(`stats shows memory: ${/B \//.test(step('stats', ['stats', '--no-stream', '--format', '{{.MemUsage}}', id]).stdout)}`);
        lines.push(`top shows the shell: ${step('top', ['top', id]).stdout.includes('sh -c')}`);
        const out = path.join(dockerd.dir, `cp-out-${rt.slice(10)}`);
        step('cp out', ['cp', `${id}:/root/c`, out]);
        lines.push(`copied a count: ${/^\d+\n$/.test(fs.readFileSync(out, 'utf8'))}`);
        step('cp in', ['cp', out, `${id}:/root/h`]);
        lines.push(`the container reads it: ${/^\d+\n$/.test(d(['exec', id, 'cat', '/root/h']).stdout)}`);
        step('restart', ['restart', '-t', '1', id]);
        expect(await waitFor(() => d(['inspect', '-f', '{{.State.Running}}', id]).stdout.trim() === 'true')).toBe(true);
        if (rt === RT) recordSandbox(id);
        step('update', ['update', '--memory', '128m', '--memory-swap', '128m', id]);
        ok(d(['rm', '-f', id]));
        seen[rt] = lines;
      }
      expect(seen[RT]).toEqual(seen[PEER]);
    }, 120_000);

    dockerTest('nothing is left behind: containers, tvisor processes, mounts, state directories', async () => {
      expect(await waitFor(() => d(['ps', '-aq']).stdout.trim() === '')).toBe(true);
      expect(await waitFor(() => tvisorProcessesUsing(dockerd.dir).length === 0)).toBe(true);
      expect(tvisorProcessesUsing(dockerd.dir)).toEqual([]);
      expect(sandboxPids.size).toBeGreaterThan(0);
      expect([...sandboxPids].filter(alive)).toEqual([]);
      expect(mountsUnder(dockerd.dir)).toEqual(baselineMounts);
      const roots = dockerd.runtimeRoots().filter((r) => fs.existsSync(r));
      expect(roots.length).toBeGreaterThan(0);
      for (const r of roots) expect(fs.readdirSync(r)).toEqual([]);
    });
  });
}
