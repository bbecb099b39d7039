/**
 * Real network programs on host sockets (sentry/net/host/): Python's http.server answers
 * curl over the IPv4 and IPv6 addresses of a veth interface and over loopback, and
 * Python's socket module resolves and connects, in the Debian image, compared with runc
 * in the same network namespace (spec-tests/behaviour/netns.ts).
 */
import { makeTestNetns, type TestNetns } from '../behaviour/netns';
import { expectSameAsRunc } from './image';

let ns: TestNetns;
beforeAll(() => { ns = makeTestNetns('tvdeb'); });
afterAll(() => ns?.remove());

/** SERVE starts http.server on bind:port, fetches a file and a missing one with curl from url, and stops it. */
const SERVE = (bind: string, port: number, url: string) => `
python3 -m http.server ${port} --bind ${bind} -d /etc >/dev/null 2>&1 &
server=$!
for i in $(seq 100); do curl -s -o /dev/null ${url}:${port}/hostname && break; sleep 0.1; done
echo "GET debian_version: $(curl -s ${url}:${port}/debian_version)"
curl -s -o /dev/null -w '%{http_code} %{content_type}\\n' ${url}:${port}/nope
kill $server; wait
`;

test('http.server answers curl over the veth\'s IPv4 address', () => {
  expectSameAsRunc(SERVE(ns.ip4, 8080, `http://${ns.ip4}`), { editSpec: (s) => ns.join(s), timeoutMs: 120_000 });
}, 300_000);

test('http.server on :: answers curl over IPv6 and over 127.0.0.1', () => {
  expectSameAsRunc(`${SERVE('::', 8081, `-g http://[${ns.ip6}]`)}${SERVE('::', 8082, 'http://127.0.0.1')}`, { editSpec: (s) => ns.join(s), timeoutMs: 120_000 });
}, 300_000);

test('Python sockets: a numeric getaddrinfo, a UDP exchange, socket options, a refused connect', () => {
  const py = `
import socket
print(socket.getaddrinfo('${ns.ip6}', 80, type=socket.SOCK_STREAM)[0][4][:2])
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(('${ns.ip4}', 0))
w = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); w.sendto(b'udp-hello', r.getsockname())
data, frm = r.recvfrom(100); print(data, frm[0], frm[1] == w.getsockname()[1])
t = socket.socket(); t.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print(t.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), t.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE))
t.settimeout(0.2)
try:
    t.connect(('${ns.ip4}', 1))
except OSError as e:
    print('connect to a closed port:', type(e).__name__)
`;
  expectSameAsRunc(`python3 -c "${py.replace(/"/g, '\\"')}"`, { editSpec: (s) => ns.join(s), timeoutMs: 120_000 });
}, 300_000);
