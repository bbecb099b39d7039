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

/**
 * A user namespace gives a user every capability inside it and nothing over the sandbox:
 * as uid 1000 under `unshare -r`, root's files stay closed, root's processes stay out of
 * reach (signals, ptrace through /proc/<pid>/mem), devices cannot be made, the sandbox's
 * host name and clock cannot be set, and the sandbox's user namespace cannot be joined
 * back (its /proc/1/ns/user is root's: not even opened). Compared with runc, and the host's name checked unchanged.
 */
const USERNS_ESCAPES = `printf 'secret\\n' > secret && chmod 600 secret; sleep 30 & root_pid=$!
chmod 777 . && setpriv --reuid 1000 --regid 1000 --clear-groups unshare -r sh -c '
  cat secret 2>&1 | sed "s/^cat: //"
  echo x >> secret 2>&1 || echo "write refused"
  chown 0 secret 2>&1 | sed "s/^chown: //"
  kill -0 '$root_pid' 2>&1 | sed "s/^.*kill: //"
  head -c1 /proc/'$root_pid'/mem 2>&1 | sed "s/^head: //; s|/proc/[0-9]*/|/proc/PID/|"
  mknod nul c 1 3 2>&1 | sed "s/^mknod: //"
  hostname evil 2>&1 | sed "s/^hostname: //"
  date -s 2001-01-01 >/dev/null 2>&1 || echo "date refused"
  nsenter --user=/proc/1/ns/user true 2>&1 | sed "s/^nsenter: //"
  id -u'
kill $root_pid; hostname`;

test('a user namespace gives nothing over the sandbox (unshare -r as uid 1000): as runc', () => {
  const hostName = os.hostname();
  const opts = { timeoutMs: 60_000, editSpec: withCapabilities(['CAP_SETUID', 'CAP_SETGID']) };
  const runc = runDebian('runc', USERNS_ESCAPES, opts);
  expect(runc.stdout).toMatch(/Permission denied/);
  expect(runc.stdout).toMatch(/^write refused$/m);
  expect(runc.stdout).toMatch(/^date refused$/m);
  const tvisor = runDebian('tvisor', USERNS_ESCAPES, opts);
  expect({ stdout: tvisor.stdout, status: tvisor.status }).toEqual({ stdout: runc.stdout, status: runc.status });
  expect(os.hostname()).toBe(hostName);
});
