/**
 * The network as real programs see it, on the Debian image under runc and tvisor in one
 * network namespace (spec-tests/behaviour/netns.ts): iproute2's `ip` (the host's binary
 * and the libraries the image lacks, bind-mounted read-only at /mnt), `hostname -I`,
 * Python's if_nameindex, and /proc/net's files (their deterministic columns: names,
 * addresses, routes, counts of fields; never traffic counters, which the kernel's own
 * IPv6 traffic on the veth changes between runs).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeTestNetns, type TestNetns } from '../behaviour/netns';
import { runDebian, type DebianRunOptions } from './image';

let ns: TestNetns;
let tools: string;

/** IP_LIBS are the libraries of the host's ip(8) that the image does not have. */
const IP_LIBS = ['libbpf.so.1', 'libelf.so.1', 'libmnl.so.0', 'libbsd.so.0', 'libmd.so.0'];

beforeAll(() => {
  ns = makeTestNetns('netview');
  tools = fs.mkdtempSync(path.join(os.tmpdir(), 'net-view-tools-'));
  fs.copyFileSync('/usr/sbin/ip', path.join(tools, 'ip'));
  fs.chmodSync(path.join(tools, 'ip'), 0o755);
  const ldd = execFileSync('ldd', ['/usr/sbin/ip'], { encoding: 'utf8' });
  for (const lib of IP_LIBS) {
    const m = new RegExp(`${lib.replaceAll('.', '\\.')} => (\\S+)`).exec(ldd);
    if (!m) throw new Error(`ldd /usr/sbin/ip names no ${lib}`);
    fs.copyFileSync(m[1], path.join(tools, lib));
  }
});
afterAll(() => {
  ns?.remove();
  if (tools) fs.rmSync(tools, { recursive: true, force: true });
});

/** opts runs in the test namespace with the tools at /mnt, as `uid` (default root). */
function opts(uid = 0): DebianRunOptions {
  return {
    timeoutMs: 60_000, mounts: [{ source: tools, destination: '/mnt' }],
    editSpec: (s) => { ns.editSpec(s); if (uid !== 0) s.process.user = { uid, gid: uid }; },
  };
}

/** compare runs a script under runc and tvisor in the namespace and expects the same output and status. */
function compare(script: string, expected: string[], uid = 0): void {
  const runc = runDebian('runc', script, opts(uid));
  expect({ status: runc.status, stderr: runc.stderr }).toEqual({ status: 0, stderr: '' });
  for (const line of expected) expect(runc.stdout.split('\n')).toContain(line);
  const tvisor = runDebian('tvisor', script, opts(uid));
  expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status }).toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
}

const IP = 'LD_LIBRARY_PATH=/mnt /mnt/ip';

test('ip -o addr, ip route, ip -6 route, ip link, ip neigh, ip route get, hostname -I and if_nameindex', () => {
  compare([
    `${IP} -o addr | sed 's/\\\\ *valid_lft.*//'`,
    `${IP} route`,
    `${IP} -6 route | sed 's/ expires .*//'`,
    `${IP} -o link | sed 's/\\\\ *link\\/\\(ether\\|loopback\\)/ link\\/\\1/'`,
    `${IP} -o -4 addr show dev veth0`,
    `${IP} neigh`,
    `${IP} neigh get 10.77.0.1 dev veth0`,
    `${IP} neigh get 10.77.0.9 dev veth0 2>&1 || true`,
    `${IP} route get 10.88.1.1`,
    `${IP} route get fd77::5 | sed 's/ expires .*//'`,
    `${IP} route get 192.0.2.200 2>&1 || true`,
    'hostname -I',
    'python3 -c "import socket; print(socket.if_nameindex())"',
  ].join('\n'), [
    '3: veth0    inet 10.77.0.2/24 scope global veth0',
    '10.77.0.0/24 dev veth0 proto kernel scope link src 10.77.0.2 ',
    '10.88.0.0/16 via 10.77.0.1 dev veth0 ',
    '10.77.0.1 dev veth0 lladdr 02:00:00:77:00:01 PERMANENT ',
    '10.88.1.1 via 10.77.0.1 dev veth0 src 10.77.0.2 uid 0 ',
    'RTNETLINK answers: Network is unreachable',
    "[(1, 'lo'), (2, 'veth1'), (3, 'veth0')]",
  ]);
});

test('/proc/net: dev, if_inet6, route, snmp and netstat show the namespace', () => {
  compare([
    "awk 'NR <= 2 { print } NR > 2 { print $1, NF }' /proc/net/dev",
    "awk '{ print $1, $2, $3, $4, $6 }' /proc/net/if_inet6 | sort",
    'cat /proc/net/route',
    "awk '{ print $1, NF }' /proc/net/snmp /proc/net/netstat",
    'readlink /proc/net; ls /proc/self/net | grep -x -e dev -e route -e tcp -e unix',
  ].join('\n'), [
    'veth0: 17',
    'fd770000000000000000000000000002 03 40 00 veth0',
  ]);
});

test('/proc/net: tcp, udp and unix list the sandbox\'s own sockets with their inodes', () => {
  compare(`python3 - <<'PY'
import os, socket
t = socket.socket(); t.bind(('127.0.0.1', 8123)); t.listen(5)
t6 = socket.socket(socket.AF_INET6); t6.bind(('::1', 8124)); t6.listen(5)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', 8125))
x = socket.socket(socket.AF_UNIX); x.bind('\\0net-view-test'); x.listen(1)
mine = {os.fstat(s.fileno()).st_ino: n for n, s in [('tcp', t), ('tcp6', t6), ('udp', u), ('unix', x)]}
for f in ['tcp', 'tcp6', 'udp', 'udp6']:
    lines = open('/proc/net/' + f).read().splitlines()
    print(f, lines[0].split()[:4])
    for l in lines[1:]:
        c = l.split()
        print(f, c[1], c[2], c[3], mine.get(int(c[9])))
for l in open('/proc/net/unix').read().splitlines()[1:]:
    c = l.split()
    if int(c[6]) in mine:
        print('unix', c[3], c[4], c[5], c[7:], mine[int(c[6])])
PY`, [
    'tcp 0100007F:1FBB 00000000:0000 0A tcp',
    'udp 0100007F:1FBD 00000000:0000 07 udp',
    "unix 00010000 0001 01 ['@net-view-test'] unix",
  ]);
});

test('/proc/net/tcp: a connection\'s two ends (state, peer, unread bytes) and the uid of the process that made each socket', () => {
  compare(`python3 - <<'PY'
import os, select, socket
l = socket.socket(); l.bind(('127.0.0.1', 8126)); l.listen(5)
c = socket.create_connection(('127.0.0.1', 8126))
a, _ = l.accept()
a.sendall(b'abc')
select.select([c], [], [], 5)
mine = {os.fstat(s.fileno()).st_ino: n for n, s in [('listener', l), ('client', c), ('accepted', a)]}
out = []
for line in open('/proc/net/tcp').read().splitlines()[1:]:
    f = line.split()
    n = mine.get(int(f[9]))
    if n:
        local = 'ephemeral' if n == 'client' else f[1]
        remote = 'ephemeral' if n == 'accepted' else f[2]
        out.append(' '.join([n, local, remote, f[3], f[4], f[7]]))
# Linux lists sockets in its hash tables' order, which depends on the ephemeral port: sorted here.
for o in sorted(out): print(o)
# fstat of a socket: the ids of the task that made it (socket or accept), as Linux's socket inode.
print('fstat ids', [(os.fstat(s.fileno()).st_uid, os.fstat(s.fileno()).st_gid) for s in (l, c, a)])
PY`, [
    'listener 0100007F:1FBE 00000000:0000 0A 00000000:00000000 1000',
    'client ephemeral 0100007F:1FBE 01 00000000:00000003 1000',
    'accepted 0100007F:1FBE ephemeral 01 00000000:00000000 1000',
    'fstat ids [(1000, 1000), (1000, 1000), (1000, 1000)]',
  ], 1000);
});

test("/proc/sys/net: the namespace's own values of the sysctls servers read", () => {
  const names = ['net/core/somaxconn', 'net/core/rmem_max', 'net/core/wmem_default', 'net/ipv4/tcp_keepalive_time',
    'net/ipv4/tcp_fin_timeout', 'net/ipv4/tcp_syncookies', 'net/ipv4/tcp_max_syn_backlog', 'net/ipv4/tcp_rmem', 'net/ipv4/tcp_wmem'];
  compare(names.map((n) => `echo ${n} $(cat /proc/sys/${n})`).join('\n'), ['net/core/somaxconn 4096']);
});
