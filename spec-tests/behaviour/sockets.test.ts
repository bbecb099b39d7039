/**
 * Sockets inside the sandbox: AF_UNIX between processes and loopback TCP/UDP, compared
 * between a native run and runc, runsc and tvisor (see compare.ts).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeProgram, expectLines } from './compare';

describeProgram({
  program: 'unix-sockets',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      "socketpair echo: 'HELLO', child exit 0",
      'path: SO_ACCEPTCONN 1',
      'path: accepted, peer address length 2',
      "path: got 'ping', SO_PEERCRED pid is child yes, uid 0",
      "path: accepted socket's name matches: yes",
      'path: client exit 0',
      'path: stat says socket: yes',
      'bind to an existing path: EADDRINUSE',
      'connect to a path nobody listens on: ECONNREFUSED',
      'connect to a missing path: ENOENT',
      'abstract: SO_ACCEPTCONN 1',
      'abstract: accepted, peer address length 2',
      "abstract: got 'ping', SO_PEERCRED pid is child yes, uid 0",
      "abstract: accepted socket's name matches: yes",
      'abstract: client exit 0',
      'connect to a free abstract name: ECONNREFUSED',
      "dgram: got 3 'one', from a: yes",
      'dgram: short read with MSG_TRUNC returns 4',
      'dgram: empty nonblocking read: EAGAIN',
      "mmsg: sent 3, received 3, lengths 1 2 3, last 'ccc'",
      'seqpacket: message lengths 3 5',
      'seqpacket: truncated recvmsg 4, MSG_TRUNC set',
      'seqpacket: after peer close: 0',
      "SCM_RIGHTS: child wrote 'via-pipe' into the passed pipe, child exit 0",
      'SCM_CREDENTIALS: present yes, pid is mine yes, uid 0',
      'read after peer SHUT_WR: 0',
      'write after own SHUT_WR (MSG_NOSIGNAL): EPIPE',
      'poll after peer SHUT_WR: in 1 out 1 rdhup 1 hup 0',
      'write after peer close: EPIPE',
      'writer to a closed peer (SIGPIPE default): signal PIPE',
      'nonblocking empty read: EAGAIN',
      'poll idle: in 0 out 1',
      'filling the buffer ends with: EAGAIN',
      'buffered more than 64 KiB: yes',
      'poll full: out 0',
      'FIONREAD equals bytes written: yes',
      'poll reader: in 1',
      'fstat: socket yes',
      'SO_TYPE seqpacket: 1',
      'SO_DOMAIN: 1',
      'unknown option: ENOPROTOOPT',
      'listen unbound: EINVAL',
      'accept on an unlistening socket: EINVAL',
      'socket on a pipe: ENOTSOCK',
      'send on a pipe: ENOTSOCK',
      'bad type: EINVAL',
      'socketpair AF_INET: EOPNOTSUPP',
      'recv past SO_RCVTIMEO: EAGAIN',
      'AF_NETLINK not required: ok',
      'done',
    ]);
  },
  // gVisor (2022) differs from Linux: SO_ACCEPTCONN reads 0 on AF_UNIX listeners,
  // SO_PEERCRED's pid is not the peer's, no POLLRDHUP after the peer's SHUT_WR, and
  // socketpair(AF_INET) answers ESOCKTNOSUPPORT (Linux: EOPNOTSUPP); a write to a closed
  // AF_UNIX peer fails without raising SIGPIPE (the child then exits 3).
  runscDeviations: [
    ['path: SO_ACCEPTCONN 1', 'path: SO_ACCEPTCONN 0'],
    ['abstract: SO_ACCEPTCONN 1', 'abstract: SO_ACCEPTCONN 0'],
    ["path: got 'ping', SO_PEERCRED pid is child yes, uid 0", "path: got 'ping', SO_PEERCRED pid is child no, uid 0"],
    ["abstract: got 'ping', SO_PEERCRED pid is child yes, uid 0", "abstract: got 'ping', SO_PEERCRED pid is child no, uid 0"],
    ['poll after peer SHUT_WR: in 1 out 1 rdhup 1 hup 0', 'poll after peer SHUT_WR: in 1 out 1 rdhup 0 hup 0'],
    ['writer to a closed peer (SIGPIPE default): signal PIPE', 'writer to a closed peer (SIGPIPE default): exit 3'],
    ['socketpair AF_INET: EOPNOTSUPP', 'socketpair AF_INET: ESOCKTNOSUPPORT'],
  ],
});

describeProgram({
  program: 'inet-loopback',
  expectNative(r) {
    expect(r.status).toBe(0);
    expectLines(r.stdout, [
      'tcp: ephemeral port nonzero: yes',
      'tcp: peer 127.0.0.1, length 16',
      "tcp: accepted socket's port is the server's: yes",
      'tcp: client exit 0',
      'tcp: read after client exit: 0',
      'tcp: bind to a listening port: EADDRINUSE',
      'tcp: connect to a closed port: ECONNREFUSED',
      'tcp: two SO_REUSEADDR binds, not listening: ok',
      'v6: IPV6_V6ONLY default 0',
      'v6: connect over IPv4 to a :: listener: ok',
      'v6: peer ::ffff:127.0.0.1, family inet6 yes',
      'v6: connect to ::1: ok',
      'v6: peer ::1',
      'v6: IPV6_V6ONLY reads back 1',
      'v6only: connect over IPv4: ECONNREFUSED',
      "udp: got 'one' from 127.0.0.1, sender's port: yes",
      "udp: second datagram 'two'",
      'udp: empty nonblocking read: EAGAIN',
      "udp: connected send 'conn'",
      'udp: bind to a used port: EINVAL',
      'TCP_NODELAY reads back 1',
      'SO_REUSEPORT reads back 1',
      'SO_PROTOCOL 6',
      'getpeername unconnected: ENOTCONN',
      'nonblocking accept: EAGAIN',
      'poll idle listener: 0',
      'poll listener with a pending connection: 1 in 1',
      'accept4 cloexec: yes',
      'bind to a non-local address: EADDRNOTAVAIL',
      'done',
    ]);
  },
});

// A sandbox's network is loopback only: connecting elsewhere fails as it does in a network
// namespace whose only interface is lo (natively: `unshare -n` with lo up).
const TVISOR = path.resolve(__dirname, '..', '..', 'bin', 'tvisor');
const canUnshare = process.getuid?.() === 0 && fs.existsSync(TVISOR) && spawnSync('unshare', ['-n', 'true']).status === 0;
const UNREACHABLE = [
  'import socket, errno',
  "for fam, addr in ((socket.AF_INET, ('192.0.2.1', 80)), (socket.AF_INET6, ('2001:db8::1', 80))):",
  '    for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):',
  '        s = socket.socket(fam, typ)',
  '        try:',
  "            s.connect(addr); print(fam.name, typ.name, 'ok')",
  '        except OSError as e:',
  '            print(fam.name, typ.name, errno.errorcode[e.errno])',
].join('\n');

(canUnshare ? test : test.skip)('connecting outside loopback fails as in a loopback-only network namespace', () => {
  const run = (cmd: string[]) => spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', timeout: 60_000 });
  const native = run(['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec python3 -c "$0"', UNREACHABLE]);
  expect(native.status).toBe(0);
  expect(native.stdout).toContain('AF_INET SOCK_STREAM ENETUNREACH');
  const sandboxed = run([TVISOR, 'do', 'python3', '-c', UNREACHABLE]);
  expect({ stdout: sandboxed.stdout, status: sandboxed.status }).toEqual({ stdout: native.stdout, status: 0 });
});
