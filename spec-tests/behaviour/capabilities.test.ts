/**
 * Capabilities, users and no_new_privs: busybox commands run as a container's init under
 * runc and under tvisor with different process.user, process.capabilities and
 * process.noNewPrivileges, and tvisor must print the same bytes (stdout, and stderr
 * without the runtimes' own log lines) and end the same way. runc's capability lines are also checked against the masks the
 * config asks for (capability numbers from the OCI names' order in capability.h).
 *
 * Files a non-root user must not read come from a fresh host directory bind-mounted at
 * /secret for each run (owned by root, mode 0600), so no run sees another's writes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CAPABILITIES } from '../../oci/features';
import { RunResult, runUnder, runtimeSkipReason } from './runner';

/** mask is the hex of a capability set as /proc/<pid>/status prints it. */
function mask(names: string[]): string {
  let m = 0n;
  for (const n of names) m |= 1n << BigInt(CAPABILITIES.indexOf(n));
  return m.toString(16).padStart(16, '0');
}

interface CapCase {
  title: string;
  script: string;
  /** process is merged into config.json's process. */
  process: Record<string, unknown>;
  /** runcLines must appear, in order, in runc's stdout. */
  runcLines: string[];
}

const STATUS = 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status';
const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
const sets = (names: string[], extra: Record<string, string[]> = {}) =>
  ({ bounding: names, effective: names, permitted: names, ...extra });

const CASES: CapCase[] = [
  {
    title: 'runc spec default: root with three capabilities, no_new_privs',
    script: `${STATUS}; touch /tmp/f; chown 1 /tmp/f; echo chown $?; hostname x; echo hostname $?; mknod /tmp/c c 1 3; echo mknod $?`,
    process: {},
    runcLines: [`CapPrm:\t${mask(DEFAULT_CAPS)}`, `CapEff:\t${mask(DEFAULT_CAPS)}`, 'NoNewPrivs:\t1', 'chown 1', 'hostname 1', 'mknod 1'],
  },
  {
    title: 'runc spec default: root owns /dev/null, may chmod it to 01 and is then refused opening it; a descriptor opened before still writes',
    script: 'exec 3<>/dev/null; chmod 1 /dev/null; echo chmod $?; stat -c %a /dev/null; echo x > /dev/null; echo open $?; echo y >&3; echo old-fd $?; chmod 666 /dev/null; echo x > /dev/null; echo reopen $?',
    process: {},
    runcLines: ['chmod 0', '1', 'open 1', 'old-fd 0', 'reopen 0'],
  },
  {
    title: 'no process.capabilities: runc gives root no capability at all',
    script: `${STATUS}; touch /tmp/f; chown 1 /tmp/f; echo chown $?; hostname x; hostname`,
    process: { capabilities: undefined, noNewPrivileges: false },
    runcLines: [`CapBnd:\t${mask([])}`, 'chown 1', 'behaviour'],
  },
  {
    title: 'CAP_CHOWN and CAP_SYS_ADMIN granted, CAP_FOWNER not: chmod of another user\'s file fails',
    script: `${STATUS}; touch /tmp/f; chown 5 /tmp/f; echo chown $?; chmod 600 /tmp/f; echo chmod $?; hostname y; hostname`,
    process: { capabilities: sets(['CAP_CHOWN', 'CAP_SYS_ADMIN']) },
    runcLines: ['chown 0', 'chmod 1', 'y'],
  },
  {
    title: 'root, permitted smaller than bounding, no_new_privs: execve gains nothing',
    script: `${STATUS}; touch /tmp/f; chown 1 /tmp/f; echo chown $?`,
    process: { noNewPrivileges: true, capabilities: { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] } },
    runcLines: [`CapPrm:\t${mask(['CAP_KILL'])}`, 'chown 1'],
  },
  {
    title: 'root, permitted smaller than bounding, without no_new_privs: execve regains the bounding set',
    script: `${STATUS}; touch /tmp/f; chown 1 /tmp/f; echo chown $?`,
    process: { noNewPrivileges: false, capabilities: { bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] } },
    runcLines: [`CapPrm:\t${mask(['CAP_CHOWN', 'CAP_KILL'])}`, 'chown 0'],
  },
  {
    title: 'user 1000 with CAP_DAC_OVERRIDE ambient: reads and writes a root 0600 file',
    script: `id; ${STATUS}; cat /secret/f; echo more >> /secret/f; echo write $?; cat /secret/f`,
    process: {
      user: { uid: 1000, gid: 1000 }, noNewPrivileges: false,
      capabilities: sets(['CAP_DAC_OVERRIDE', 'CAP_KILL'], { inheritable: ['CAP_DAC_OVERRIDE', 'CAP_KILL'], ambient: ['CAP_DAC_OVERRIDE'] }),
    },
    runcLines: [`CapEff:\t${mask(['CAP_DAC_OVERRIDE'])}`, `CapAmb:\t${mask(['CAP_DAC_OVERRIDE'])}`, 'secret', 'write 0', 'secret', 'more'],
  },
  {
    title: 'user 1000 with CAP_DAC_READ_SEARCH ambient: reads, cannot write',
    script: `${STATUS}; cat /secret/f; echo more >> /secret/f; echo write $?`,
    process: {
      user: { uid: 1000, gid: 1000 },
      capabilities: sets(['CAP_DAC_READ_SEARCH'], { inheritable: ['CAP_DAC_READ_SEARCH'], ambient: ['CAP_DAC_READ_SEARCH'] }),
    },
    runcLines: ['secret', 'write 1'],
  },
  {
    title: 'user 1000 without ambient capabilities: holds none, cannot read',
    script: `${STATUS}; cat /secret/f; echo read $?; kill -0 1; echo kill-self $?`,
    process: { user: { uid: 1000, gid: 1000, additionalGids: [5] }, capabilities: sets(['CAP_DAC_OVERRIDE', 'CAP_CHOWN']) },
    runcLines: [`CapEff:\t${mask([])}`, `CapBnd:\t${mask(['CAP_CHOWN', 'CAP_DAC_OVERRIDE'])}`, 'read 1', 'kill-self 0'],
  },
  {
    title: 'su to nobody: leaving uid 0 clears permitted and effective, keeps inheritable',
    script: 'su -s /bin/sh nobody -c "id; grep -E ^Cap /proc/self/status"; echo $?; setpriv --inh-caps +kill --ambient-caps +kill grep -E ^Cap /proc/self/status',
    process: { capabilities: sets(['CAP_KILL', 'CAP_SETUID', 'CAP_SETGID'], { inheritable: ['CAP_SETUID'] }) },
    runcLines: [`CapInh:\t${mask(['CAP_SETUID'])}`, `CapPrm:\t${mask([])}`, `CapAmb:\t${mask(['CAP_KILL'])}`],
  },
  {
    title: 'without CAP_SETUID: su fails',
    script: 'su -s /bin/sh nobody -c id; echo $?',
    process: { capabilities: sets(['CAP_SETGID']) },
    runcLines: ['1'],
  },
];

/** runCase runs one case under a runtime, with a fresh /secret holding a root 0600 file. */
function runCase(runtime: 'runc' | 'tvisor', c: CapCase): RunResult {
  const secret = fs.mkdtempSync(path.join(os.tmpdir(), 'caps-secret-'));
  try {
    fs.chmodSync(secret, 0o755);
    fs.writeFileSync(path.join(secret, 'f'), 'secret\n', { mode: 0o600 });
    return runUnder(runtime, undefined, ['sh', '-c', c.script], {
      mounts: [{ source: secret, destination: '/secret' }],
      editSpec: (spec) => {
        for (const [k, v] of Object.entries(c.process)) {
          if (v === undefined) delete spec.process[k];
          else spec.process[k] = v;
        }
      },
    });
  } finally {
    fs.rmSync(secret, { recursive: true, force: true });
  }
}

/** programStderr drops the runtimes' own log lines (logrus/winston `level=...`), which
 * neither program wrote, from a run's stderr. */
function programStderr(stderr: string): string {
  return stderr.split('\n').filter((l) => !/\blevel=\w+/.test(l)).join('\n');
}

const runcReason = runtimeSkipReason('runc');
const tvisorReason = runtimeSkipReason('tvisor');

describe.each(CASES)('capabilities: $title', (c) => {
  if (runcReason) {
    test.skip(`skipped: ${runcReason}`, () => {});
    return;
  }
  let runc: RunResult | undefined;
  const runcRun = (): RunResult => (runc ??= runCase('runc', c));
  test('runc shows what the config asks for', () => {
    const lines = runcRun().stdout.split('\n');
    let at = 0;
    for (const want of c.runcLines) {
      expect(lines.slice(at)).toContain(want);
      at = lines.indexOf(want, at) + 1;
    }
  });
  if (tvisorReason) {
    test.skip(`tvisor: skipped: ${tvisorReason}`, () => {});
    return;
  }
  test('tvisor prints the same and exits the same as runc', () => {
    const t = runCase('tvisor', c);
    const r = runcRun();
    expect({ stdout: t.stdout, stderr: programStderr(t.stderr), status: t.status })
      .toEqual({ stdout: r.stdout, stderr: programStderr(r.stderr), status: r.status });
  });
});
