/**
 * Sessions and UTS namespaces with Debian's tools, compared with runc: util-linux's
 * `setsid -w` runs bash as the leader of a new session, whose ps (procps, reading
 * /proc/<pid>/stat) shows its process group and session are its own pid; `unshare -u`
 * gives a shell a new UTS namespace where `hostname` sets a name that uname and
 * /proc/sys/kernel/hostname show there, and that the container's shell never sees. runc
 * needs CAP_SYS_ADMIN for unshare, so both runs get it.
 */
import { withCapabilities } from '../behaviour/compare';
import { expectSameAsRunc, runDebian } from './image';

// ps writes to a file before awk reads it: in a pipe, awk may still be a forked bash when ps reads /proc.
const SETSID = `setsid -w bash -c 'ps -e -o pid=,pgid=,sid=,comm= > /tmp/ps.txt; awk -v me=$$ "{ print (\\$1 == me ? \\"self\\" : \\"other\\"), (\\$2 == me ? \\"pgid=self\\" : \\"pgid=other\\"), (\\$3 == me ? \\"sid=self\\" : \\"sid=other\\"), \\$4 }" /tmp/ps.txt'; echo "status $?"`;

test('setsid -w runs bash as a session leader, as under runc', () => {
  const runc = runDebian('runc', SETSID, { timeoutMs: 60_000 });
  // What runc's container shows: the inner bash leads its group and session (the outer one
  // in neither), and ps in both (no job control in a bash -c).
  expect(runc.stdout).toMatch(/^self pgid=self sid=self bash$/m);
  expect(runc.stdout).toMatch(/^other pgid=other sid=other bash$/m);
  expect(runc.stdout).toMatch(/^other pgid=self sid=self ps$/m);
  expectSameAsRunc(SETSID, { timeoutMs: 60_000 });
});

test('unshare -u: hostname set in the new UTS namespace only, as under runc', () => {
  const script = `before=$(hostname)
unshare -u sh -c 'hostname inner && hostname && cat /proc/sys/kernel/hostname && readlink /proc/self/ns/uts | cut -c1-5'
echo "outside: $([ "$(hostname)" = "$before" ] && echo unchanged || echo changed)"
unshare -u true; echo "unshare status $?"`;
  expectSameAsRunc(script, { timeoutMs: 60_000, editSpec: withCapabilities(['CAP_SYS_ADMIN']) });
});
