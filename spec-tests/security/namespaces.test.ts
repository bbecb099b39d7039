/**
 * Namespaces made inside the sandbox stay inside it (README "unshare(2)"): without
 * CAP_SYS_ADMIN (runc's default capabilities) `unshare -u`/`-i` are refused as runc's
 * container refuses them; with it, a host name set in a new UTS namespace reaches neither
 * the container's other processes nor the host, whose name and UTS namespace the sentry
 * never touches (it has no sethostname or setns in its host allowlist).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { withCapabilities } from '../behaviour/compare';
import { runDebian } from '../debian/image';

const REFUSED = `unshare -u true 2>&1; echo "uts $?"; unshare -i true 2>&1; echo "ipc $?"`;

test('unshare without CAP_SYS_ADMIN is refused as under runc', () => {
  const runc = runDebian('runc', REFUSED, { timeoutMs: 60_000 });
  expect(runc.stdout).toMatch(/^uts 1$/m);
  expect(runc.stdout).toMatch(/Operation not permitted/);
  const tvisor = runDebian('tvisor', REFUSED, { timeoutMs: 60_000 });
  expect({ stdout: tvisor.stdout, status: tvisor.status }).toEqual({ stdout: runc.stdout, status: runc.status });
});

test("a host name set in a new UTS namespace stays in the sandbox's namespace", () => {
  const hostName = os.hostname();
  const hostUts = fs.readlinkSync('/proc/self/ns/uts');
  const script = `before=$(hostname); unshare -u sh -c 'hostname evil-host && hostname'; echo "container: $([ "$(hostname)" = "$before" ] && echo unchanged || echo changed)"`;
  const r = runDebian('tvisor', script, { timeoutMs: 60_000, editSpec: withCapabilities(['CAP_SYS_ADMIN']) });
  expect({ stdout: r.stdout, status: r.status }).toEqual({ stdout: 'evil-host\ncontainer: unchanged\n', status: 0 });
  expect(os.hostname()).toBe(hostName);
  expect(fs.readlinkSync('/proc/self/ns/uts')).toBe(hostUts);
});
