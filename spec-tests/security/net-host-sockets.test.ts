/**
 * Host sockets stay the sentry's (sentry/net/host/): an application whose TCP and UDP
 * sockets are host sockets of its network namespace sees only descriptors it made, and
 * reaches neither a host descriptor nor a host Unix socket through any socket call: an
 * abstract Unix socket a host process listens on in the same namespace (reachable there
 * natively: the positive control), a host socket path outside its root, a Unix address
 * handed to an inet socket, SCM_RIGHTS through a TCP connection; options and ioctls that
 * would change the host side (SO_BINDTODEVICE, SO_MARK, a BPF filter, SIOCSIFFLAGS) are
 * refused, and the sentry keeps running. Nothing of the container is left afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeTestNetns, type TestNetns } from '../behaviour/netns';
import { runUnder, runtimeSkipReason } from '../behaviour/runner';

const ABSTRACT = `tvisor-host-secret-${process.pid}`;
let ns: TestNetns;
let dir: string;
const listeners: ChildProcess[] = [];

/** listen starts socat listening at `address` (in the test namespace when netns) and waits until it is. */
async function listen(address: string, netns: boolean, ready: () => boolean): Promise<void> {
  const argv = ['socat', `${address},fork`, 'SYSTEM:echo host-secret'];
  const p = netns ? spawn('nsenter', [`--net=${ns.path}`, ...argv], { stdio: 'ignore' }) : spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
  listeners.push(p);
  for (let i = 0; i < 200 && !ready(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!ready()) throw new Error(`socat ${address} did not start listening`);
}

function abstractListening(): boolean {
  const r = spawnSync('nsenter', [`--net=${ns.path}`, 'ss', '-Hxl'], { encoding: 'utf8' });
  return r.stdout.includes(`@${ABSTRACT}`);
}

beforeAll(async () => {
  const reason = runtimeSkipReason('tvisor');
  if (reason) throw new Error(reason);
  if (spawnSync('socat', ['-V']).status !== 0) throw new Error('socat is missing (apt-get install socat)');
  ns = makeTestNetns('tvsec');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'net-escape-'));
  await listen(`ABSTRACT-LISTEN:${ABSTRACT}`, true, abstractListening);
  await listen(`UNIX-LISTEN:${path.join(dir, 'sock')}`, false, () => fs.existsSync(path.join(dir, 'sock')));
});

afterAll(() => {
  for (const p of listeners) p.kill('SIGKILL');
  ns?.remove();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the host listeners are reachable natively from the namespace (the positive control)', () => {
  const r = spawnSync('nsenter', [`--net=${ns.path}`, 'socat', '-', `ABSTRACT-CONNECT:${ABSTRACT}`], { encoding: 'utf8', input: '', timeout: 10_000 });
  expect(r.stdout).toBe('host-secret\n');
  const p = spawnSync('socat', ['-', `UNIX-CONNECT:${path.join(dir, 'sock')}`], { encoding: 'utf8', input: '', timeout: 10_000 });
  expect(p.stdout).toBe('host-secret\n');
});

test('an application with host sockets reaches no host descriptor and no host Unix socket', () => {
  const r = runUnder('tvisor', 'net-escape', [ABSTRACT, path.join(dir, 'sock')], { editSpec: (s) => ns.join(s), timeoutMs: 60_000 });
  expect({ stdout: r.stdout, status: r.status }).toEqual({
    stdout: [
      'fds: 0 1 2 3 4 5 6 7', // stdio, the four sockets it made, the directory it reads
      'fd 3 is a socket: yes',
      'connect to the host\'s abstract socket: ECONNREFUSED',
      'sendto the host\'s abstract socket: ECONNREFUSED',
      'connect to the host\'s socket path: ENOENT',
      'inet connect with the abstract address: EAFNOSUPPORT',
      'inet bind with the abstract address: EAFNOSUPPORT',
      'udp sendto the abstract address: EAFNOSUPPORT',
      'sendmsg SCM_RIGHTS over TCP: ok',
      'the peer got 1 byte, control length 0',
      'SO_BINDTODEVICE: ENOPROTOOPT',
      'SO_MARK: ENOPROTOOPT',
      'SO_ATTACH_FILTER: ENOPROTOOPT',
      'SO_SNDBUFFORCE: ENOPROTOOPT',
      'SIOCSIFFLAGS: ENOTTY',
      'SIOCGIFFLAGS of lo: ok',
      'still alive: yes',
      '',
    ].join('\n'),
    status: 0,
  });
  // Nothing of the container stays in the namespace: no socket of it listens or is connected.
  const ss = spawnSync('nsenter', [`--net=${ns.path}`, 'ss', '-Htuanp', 'state', 'listening', 'state', 'established'], { encoding: 'utf8' });
  expect(ss.stdout.trim()).toBe('');
});
