/**
 * Docker's networks with tvisor (issue 12's acceptance): one private dockerd (harness.ts)
 * with a default bridge network of its own (iptables off: `-p` goes through docker-proxy),
 * the busybox image, and each case run under tvisor and under runc in the same daemon,
 * their outputs compared: a published port answers the host, a client container reaches
 * a server container by IP on the bridge and by name on a user-defined network (Docker's
 * embedded DNS), a UDP echo, an ICMP echo between containers through a ping socket
 * (programs/netpeer.c, compiled here: Debian's busybox has no `nc -u`) and busybox's ping,
 * which opens only a raw ICMP socket (tvisor serves it through a ping socket:
 * sentry/net/host/raw-icmp.ts),
 * `--network none`, `--network host`, `--dns` and `--add-host`. The Debian bookworm rootfs
 * (build/debian/rootfs, `make debian-image`; missing, the cases fail naming it) is imported
 * whole as an image for a Python http.server reached from the host through `-p` and from a
 * curl container by name. afterAll removes the containers, the image and the network; the
 * last test checks that nothing is left behind. A second daemon runs in a network namespace
 * of its own with iptables on and no userland proxy, so that `-p` is an iptables DNAT rule
 * (of that namespace only), as for clients of a stock Docker on other hosts.
 *
 * TVISOR_DOCKER_TESTS=0 skips the suite, saying so; a missing prerequisite fails it.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Dockerd, REPO, mountsUnder, run, sleep, tvisorProcessesUsing, writeBusyboxTar, type Result } from './harness';
import { missingPrerequisite, optedOut } from './probes';

const IMG = 'tvisor-test:busybox';
/** RUNTIMES are the runtime under test and the one it is compared with, in that order. */
const RUNTIMES = ['tvisor', 'runc'] as const;
type Runtime = (typeof RUNTIMES)[number];

const prereq = optedOut() ? undefined : missingPrerequisite();

/** ok asserts a docker command succeeded, showing its output when it did not. */
function ok(r: Result): string {
  if (r.status !== 0) throw new Error(`docker failed (${r.status ?? r.signal}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** httpGet fetches `url` from the host; it retries until `ms` has passed (the server may still be starting). */
async function httpGet(url: string, ms = 15_000): Promise<{ status: number; body: string }> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await new Promise((resolve, reject) => {
        const req = http.get(url, { timeout: 5000 }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => { body += c; });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      });
    } catch (e) {
      if (Date.now() > until) throw e;
      await sleep(200);
    }
  }
}

/** retry makes a shell loop that runs a client command in the container until it succeeds (the server may still be starting), 10 s at most. */
const retry = (cmd: string) => `for i in $(seq 50); do ${cmd} && exit 0; sleep 0.2; done; exit 1`;

if (optedOut()) {
  test.skip('Docker networks with tvisor (skipped: TVISOR_DOCKER_TESTS=0)', () => {});
} else if (prereq) {
  test('Docker networks with tvisor: prerequisites', () => {
    throw new Error(`the Docker tests cannot run: ${prereq}`);
  });
} else {
  describe('Docker networks with tvisor', () => {
    const dockerd = new Dockerd({ bridge: true });
    const d = (args: string[], opts?: { input?: string; timeoutMs?: number }) => dockerd.docker(args, opts);
    const tag = `${process.pid}-${Date.now().toString(36)}`;
    /** NET is the user-defined network; its subnet is a /24 of 10.0.0.0/8 next to the default bridge's. */
    const NET = `tvnet-${tag}`;
    let baselineMounts: string[] = [];
    /** NETPEER mounts the static netpeer program at /netpeer. */
    let NETPEER: string[] = [];
    /** netBridge is NET's host interface (Docker's br-<id>), removed by afterAll even if `network rm` failed. */
    let netBridge = '';

    /** serve starts a detached busybox httpd under `rt` serving "hello from <rt>" and returns its name. */
    function serve(rt: Runtime, extra: string[] = []): string {
      const name = `srv-${rt}-${tag}-${Math.random().toString(36).slice(2, 8)}`;
      ok(d(['run', '-d', `--runtime=${rt}`, '--name', name, ...extra, IMG, 'sh', '-c',
        `mkdir /www && echo hello from ${rt} > /www/index.html && exec httpd -f -p 80 -h /www`]));
      return name;
    }

    /** ipOf is a container's address on `net` (the default bridge when omitted). */
    function ipOf(name: string, net = 'bridge'): string {
      const ip = ok(d(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, name])).trim();
      expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      return ip;
    }

    /** client runs a busybox shell command in a fresh container under `rt`, removed afterwards. */
    function client(rt: Runtime, script: string, extra: string[] = []): Result {
      return d(['run', '--rm', `--runtime=${rt}`, ...extra, IMG, 'sh', '-c', script], { timeoutMs: 30_000 });
    }

    beforeAll(async () => {
      expect(dockerd.install().status).toBe(0);
      await dockerd.start();
      baselineMounts = mountsUnder(dockerd.dir);
      const tarFile = path.join(dockerd.dir, 'rootfs.tar');
      await writeBusyboxTar(tarFile);
      ok(d(['import', tarFile, IMG], { timeoutMs: 60_000 }));
      const b = dockerd.bridge!.subnet.split('.');
      const netpeer = path.join(dockerd.dir, 'netpeer');
      const cc = run('cc', ['-static', '-O2', '-Wall', '-Wextra', '-Werror', '-o', netpeer, path.join(REPO, 'spec-tests/docker/programs/netpeer.c')]);
      if (cc.status !== 0) throw new Error(`cannot compile netpeer.c (cc -static): ${cc.stderr.trim()}`);
      NETPEER = ['-v', `${netpeer}:/netpeer:ro`];
      const id = ok(d(['network', 'create', '--subnet', `${b[0]}.${b[1]}.${(Number(b[2]) + 1) % 256}.0/24`, NET])).trim();
      netBridge = `br-${id.slice(0, 12)}`;
    }, 120_000);

    afterAll(async () => {
      const ids = d(['ps', '-aq']).stdout.trim().split('\n').filter(Boolean);
      if (ids.length > 0) d(['rm', '-f', ...ids], { timeoutMs: 60_000 });
      d(['network', 'rm', NET]);
      await dockerd.stop();
      if (netBridge && fs.existsSync(`/sys/class/net/${netBridge}`)) run('ip', ['link', 'del', netBridge]);
    }, 120_000);

    test('a published port (-p 127.0.0.1:PORT:80) answers the host, as under runc', async () => {
      const got: Record<string, unknown> = {};
      for (const rt of RUNTIMES) {
        const port = 20_000 + Math.floor(Math.random() * 20_000);
        const name = serve(rt, ['-p', `127.0.0.1:${port}:80`]);
        try {
          expect(ok(d(['port', name, '80/tcp'])).trim()).toBe(`127.0.0.1:${port}`);
          got[rt] = await httpGet(`http://127.0.0.1:${port}/`);
        } finally {
          d(['rm', '-f', name]);
        }
      }
      expect(got.tvisor).toEqual({ status: 200, body: 'hello from tvisor\n' });
      expect(got.runc).toEqual({ status: 200, body: 'hello from runc\n' });
    }, 90_000);

    test('a client container reaches a server container by IP on the default bridge, as under runc', () => {
      const got: Record<string, Result> = {};
      for (const rt of RUNTIMES) {
        const name = serve(rt);
        try {
          got[rt] = client(rt, retry(`wget -q -O - http://${ipOf(name)}/`));
        } finally {
          d(['rm', '-f', name]);
        }
      }
      expect(got.tvisor.stdout).toBe('hello from tvisor\n');
      expect(got.tvisor.status).toBe(0);
      expect(got.runc.stdout).toBe('hello from runc\n');
      expect(got.runc.status).toBe(0);
    }, 90_000);

    test('on a user-defined network a client reaches the server by name through the embedded DNS, as under runc', () => {
      const got: Record<string, Result> = {};
      for (const rt of RUNTIMES) {
        const name = serve(rt, ['--network', NET]);
        try {
          got[rt] = client(rt, `grep ^nameserver /etc/resolv.conf && ${retry(`wget -q -O - http://${name}/`)}`, ['--network', NET]);
        } finally {
          d(['rm', '-f', name]);
        }
      }
      for (const rt of RUNTIMES) {
        expect({ rt, status: got[rt].status, stdout: got[rt].stdout }).toEqual({ rt, status: 0, stdout: `nameserver 127.0.0.11\nhello from ${rt}\n` });
      }
    }, 90_000);

    test('a UDP echo between two containers, as under runc', () => {
      const got: Record<string, Result> = {};
      for (const rt of RUNTIMES) {
        const name = `udp-${rt}-${tag}`;
        try {
          ok(d(['run', '-d', `--runtime=${rt}`, '--name', name, ...NETPEER, IMG, '/netpeer', 'udp-echo', '9000']));
          got[rt] = client(rt, `/netpeer udp-send ${ipOf(name)} 9000 hello-${rt}`, NETPEER);
        } finally {
          d(['rm', '-f', name]);
        }
      }
      for (const rt of RUNTIMES) {
        expect({ rt, status: got[rt].status, stdout: got[rt].stdout }).toEqual({ rt, status: 0, stdout: `hello-${rt}\n` });
      }
    }, 90_000);

    test('an ICMP echo between containers through a ping socket and busybox ping (a raw socket, Docker gives CAP_NET_RAW) as under runc', () => {
      const got: Record<string, Result> = {};
      const busybox: Record<string, Result> = {};
      for (const rt of RUNTIMES) {
        const name = `ping-${rt}-${tag}`;
        try {
          ok(d(['run', '-d', `--runtime=${rt}`, '--name', name, IMG, 'sleep', '60']));
          const ip = ipOf(name);
          got[rt] = client(rt, `/netpeer ping ${ip}`, NETPEER);
          busybox[rt] = client(rt, `ping -c1 -W5 ${ip} 2>&1 | grep -o -e '1 packets transmitted, 1 packets received' -e 'permission denied.*'`);
        } finally {
          d(['rm', '-f', name]);
        }
      }
      for (const rt of RUNTIMES) {
        expect({ rt, status: got[rt].status, stdout: got[rt].stdout }).toEqual({ rt, status: 0, stdout: expect.stringMatching(/^echo reply from [\d.]+\n$/) });
      }
      // Root with Docker's default CAP_NET_RAW opens a raw ICMP socket (Debian's busybox
      // 1.35 ping has no ping-socket fallback).
      for (const rt of RUNTIMES) expect({ rt, stdout: busybox[rt].stdout }).toEqual({ rt, stdout: '1 packets transmitted, 1 packets received\n' });
    }, 90_000);

    test('--network none shows only lo, as under runc', () => {
      const script = `ip -o link | awk -F': ' '{print $2}'; awk -F: 'NR>2 {gsub(/ /, "", $1); print $1}' /proc/net/dev`;
      const got = Object.fromEntries(RUNTIMES.map((rt) => [rt, client(rt, script, ['--network', 'none'])]));
      expect(got.runc.stdout).toBe('lo\nlo\n');
      expect(got.tvisor.stdout).toBe(got.runc.stdout);
      expect(got.tvisor.status).toBe(0);
    }, 60_000);

    test("--network host sees the host's interfaces, addresses and hostname, as under runc", () => {
      const script = 'hostname; ip -o link | grep -c ": eth0:"; ip -o link | grep -c ": lo:"; ip -o addr';
      const got = Object.fromEntries(RUNTIMES.map((rt) => [rt, client(rt, script, ['--network', 'host'])]));
      const b = dockerd.bridge!;
      for (const rt of RUNTIMES) {
        const [host, eth0, lo] = got[rt].stdout.split('\n');
        expect({ rt, status: got[rt].status, host, eth0, lo }).toEqual({ rt, status: 0, host: os.hostname(), eth0: '1', lo: '1' });
        // the daemon's bridge is an interface of the host's namespace only.
        expect(got[rt].stdout).toContain(`inet ${b.gateway}/24`);
      }
    }, 60_000);

    test('--dns and --add-host show in /etc/resolv.conf and /etc/hosts, as under runc', () => {
      const extra = ['--dns', '10.1.2.3', '--add-host', 'tvisor-peer:10.9.8.7'];
      const script = 'grep ^nameserver /etc/resolv.conf; grep tvisor-peer /etc/hosts; ping -c1 -W1 tvisor-peer 2>/dev/null | head -1 | cut -d: -f1';
      const got = Object.fromEntries(RUNTIMES.map((rt) => [rt, client(rt, script, extra)]));
      expect(got.runc.stdout).toMatch(/^nameserver 10\.1\.2\.3\n10\.9\.8\.7\s+tvisor-peer\nPING tvisor-peer \(10\.9\.8\.7\)/);
      expect(got.tvisor.stdout).toBe(got.runc.stdout);
    }, 60_000);

    describe('a Python http.server in the Debian image', () => {
      /** DEBIAN_IMG is build/debian/rootfs (make debian-image) imported whole, once. */
      const DEBIAN_IMG = `tvisor-debian:${tag}`;
      const rootfs = path.join(REPO, 'build', 'debian', 'rootfs');
      /** pyServe starts http.server on port 8000 under `rt`, serving /srv/hello.txt ("hello from <rt>"), and returns its name. */
      function pyServe(rt: Runtime, extra: string[] = []): string {
        const name = `py-${rt}-${tag}-${Math.random().toString(36).slice(2, 8)}`;
        ok(d(['run', '-d', `--runtime=${rt}`, '--name', name, ...extra, DEBIAN_IMG, 'bash', '-c',
          `mkdir -p /srv && echo hello from ${rt} > /srv/hello.txt && exec python3 -m http.server 8000 --directory /srv`]));
        return name;
      }

      beforeAll(() => {
        if (!fs.existsSync(path.join(rootfs, 'usr', 'bin', 'python3'))) {
          throw new Error(`the Debian image is missing at ${rootfs}: run make debian-image`);
        }
        dockerd.importTree(rootfs, DEBIAN_IMG);
      }, 300_000);

      afterAll(() => {
        const ids = d(['ps', '-aq', '--filter', `ancestor=${DEBIAN_IMG}`]).stdout.trim().split('\n').filter(Boolean);
        if (ids.length > 0) d(['rm', '-f', ...ids], { timeoutMs: 60_000 });
        d(['rmi', DEBIAN_IMG], { timeoutMs: 60_000 });
      }, 120_000);

      test('it answers the host through -p 127.0.0.1:PORT:8000, as under runc', async () => {
        const got: Record<string, unknown> = {};
        for (const rt of RUNTIMES) {
          const port = 20_000 + Math.floor(Math.random() * 20_000);
          const name = pyServe(rt, ['-p', `127.0.0.1:${port}:8000`]);
          try {
            got[rt] = await httpGet(`http://127.0.0.1:${port}/hello.txt`, 60_000);
          } finally {
            d(['rm', '-f', name]);
          }
        }
        expect(got.tvisor).toEqual({ status: 200, body: 'hello from tvisor\n' });
        expect(got.runc).toEqual({ status: 200, body: 'hello from runc\n' });
      }, 180_000);

      test('a Debian client container curls it by name on the user-defined network, as under runc', () => {
        const got: Record<string, Result> = {};
        for (const rt of RUNTIMES) {
          const name = pyServe(rt, ['--network', NET]);
          try {
            got[rt] = d(['run', '--rm', `--runtime=${rt}`, '--network', NET, DEBIAN_IMG, 'bash', '-c',
              `for i in $(seq 150); do curl -fsS http://${name}:8000/hello.txt && exit 0; sleep 0.2; done; exit 1`], { timeoutMs: 60_000 });
          } finally {
            d(['rm', '-f', name]);
          }
        }
        for (const rt of RUNTIMES) {
          expect({ rt, status: got[rt].status, stdout: got[rt].stdout }).toEqual({ rt, status: 0, stdout: `hello from ${rt}\n` });
        }
      }, 180_000);
    });

    test('nothing is left behind: containers, tvisor processes, mounts, state directories', async () => {
      expect(d(['ps', '-aq']).stdout.trim()).toBe('');
      const until = Date.now() + 10_000;
      while (tvisorProcessesUsing(dockerd.dir).length > 0 && Date.now() < until) await sleep(100);
      expect(tvisorProcessesUsing(dockerd.dir)).toEqual([]);
      // exec/netns/default is dockerd's handle on the host's namespace, made at the first
      // --network host container (under either runtime) and kept for the daemon's life.
      const dockerdOwn = path.join(dockerd.execRoot, 'netns', 'default');
      expect(mountsUnder(dockerd.dir).filter((m) => m !== dockerdOwn)).toEqual(baselineMounts);
      for (const r of dockerd.runtimeRoots().filter((p) => fs.existsSync(p))) expect(fs.readdirSync(r)).toEqual([]);
    });
  });

  describe('published ports through iptables DNAT (a daemon in a network namespace of its own, no userland proxy)', () => {
    const dockerd = new Dockerd({ netns: true });
    const d = (args: string[], opts?: { input?: string; timeoutMs?: number }) => dockerd.docker(args, opts);
    const tag = `${process.pid}-${Date.now().toString(36)}`;

    beforeAll(async () => {
      expect(dockerd.install().status).toBe(0);
      await dockerd.start();
      const tarFile = path.join(dockerd.dir, 'rootfs.tar');
      await writeBusyboxTar(tarFile);
      ok(d(['import', tarFile, IMG], { timeoutMs: 60_000 }));
    }, 120_000);

    afterAll(async () => {
      const ids = d(['ps', '-aq']).stdout.trim().split('\n').filter(Boolean);
      if (ids.length > 0) d(['rm', '-f', ...ids], { timeoutMs: 60_000 });
      await dockerd.stop();
    }, 120_000);

    test('-p PORT:80 is a DNAT rule, and a client of the namespace reaches the server through it, as under runc', () => {
      const gateway = dockerd.bridge!.gateway;
      const got: Record<string, unknown> = {};
      for (const rt of RUNTIMES) {
        const port = 20_000 + Math.floor(Math.random() * 20_000);
        const name = `dnat-${rt}-${tag}`;
        ok(d(['run', '-d', `--runtime=${rt}`, '--name', name, '-p', `${port}:80`, IMG, 'sh', '-c',
          `mkdir /www && echo hello from ${rt} > /www/index.html && exec httpd -f -p 80 -h /www`]));
        try {
          const ip = ok(d(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', name])).trim();
          // The port is published by the namespace's nat table, not by a docker-proxy process.
          const nat = dockerd.inNetns('iptables', ['-t', 'nat', '-S', 'DOCKER']);
          expect(nat.status).toBe(0);
          expect(nat.stdout).toContain(`--dport ${port} -j DNAT --to-destination ${ip}:80`);
          expect(run('pgrep', ['-f', `docker-proxy.*-host-port ${port}`]).stdout).toBe('');
          // A connection to the namespace's own address takes the OUTPUT chain's DNAT.
          // (curl: Debian's static busybox wget crashes on the host.)
          const fetch = dockerd.inNetns('/bin/sh', ['-c', retry(`curl -sS -m 2 http://${gateway}:${port}/`)], { timeoutMs: 30_000 });
          got[rt] = { status: fetch.status, body: fetch.stdout };
        } finally {
          d(['rm', '-f', name]);
        }
      }
      expect(got.runc).toEqual({ status: 0, body: 'hello from runc\n' });
      expect(got.tvisor).toEqual({ status: 0, body: 'hello from tvisor\n' });
    }, 120_000);
  });
}
