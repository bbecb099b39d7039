/**
 * /proc/sys: the sandbox's sysctls. Each entry shows what the sentry really does (the
 * limits it enforces, its identity) or a value stored per sandbox that a program or
 * config.json's linux.sysctl sets and the sentry's subsystems read (sysctlValue). The
 * sandbox is its own kernel: writing one changes this sandbox only, never the host.
 *
 * Writable entries follow Linux's sysctl permission (test_perm): root's write bits,
 * here 0644, so only euid 0 may write; the others are 0444 and refuse every writer with
 * EACCES. A value Linux would not parse is EINVAL.
 */
import { randomUUID } from '../../../native/random';
import { invalidSysctlKey, sysctlPath } from '../../../oci/sysctl-key';
import { CAP_LAST_CAP } from '../../kernel/capabilities';
import type { Credentials } from '../../kernel/credentials';
import { Errno, fail, LinuxError } from '../../kernel/errors';
import { PID_MAX, UTS_RELEASE, UTS_VERSION, type Kernel } from '../../kernel/kernel';
import { NR_OPEN } from '../../vfs/fd-table';
import { MAX_QUEUED_EVENTS } from '../anon/inotify';
import type { Inode } from '../../vfs/inode';
import { ProcDir, ProcFile, ProcWritableFile, type ProcFs } from './nodes';
import { procViewOf } from './sandbox-view';
import { sandboxIpcNamespace, type IpcLimits } from '../../kernel/ipc/namespace';
import { utsNamespaceOf } from '../../kernel/namespaces';
import { NAMESPACE_SYSCTLS, namespaceSysctl } from '../../net/netlink/host-proc-net';

/** Sysctl is one entry: how to show it and, when writable, how to set it from the text
 * written (without its trailing newline). */
interface Sysctl {
  get(k: Kernel): string;
  set?(k: Kernel, value: string): void;
}

/** NEW_UTS_LEN bounds a host or domain name, as uname(2)'s fields. */
const NEW_UTS_LEN = 64;

/** stored values by sandbox: path -> text. */
const storedBy = new WeakMap<Kernel, Map<string, string>>();

function storedOf(k: Kernel): Map<string, string> {
  let m = storedBy.get(k);
  if (!m) storedBy.set(k, (m = new Map()));
  return m;
}

/** fixed is a read-only entry. */
function fixed(value: (k: Kernel) => string | number): Sysctl {
  return { get: (k) => String(value(k)) };
}

/** ints parses `count` integers (whitespace-separated, as proc_dointvec) in [min, max],
 * shown tab-separated as Linux shows vectors; EINVAL otherwise. */
function parseInts(value: string, count: number, min: bigint, max: bigint): string {
  const parts = value.trim().split(/\s+/);
  if (parts.length !== count || parts.some((p) => !/^-?\d+$/.test(p))) fail(Errno.EINVAL);
  const ns = parts.map((p) => BigInt(p));
  if (ns.some((n) => n < min || n > max)) fail(Errno.EINVAL);
  return ns.join('\t');
}

/** stored is a writable entry kept per sandbox: `count` integers in [min, max]. */
function stored(path: string, initial: string, count = 1, min = -(2n ** 31n), max = 2n ** 31n - 1n): Sysctl {
  return {
    get: (k) => storedOf(k).get(path) ?? initial,
    set: (k, v) => void storedOf(k).set(path, parseInts(v, count, min, max)),
  };
}

/**
 * ipcLimits is a System V IPC or POSIX message queue limit (several for kernel.sem) of
 * the sandbox's IPC namespace (kernel/ipc): what shmget, semget, msgsnd and mq_open
 * enforce, shown and set here.
 */
function ipcLimits(fields: (keyof IpcLimits)[], min: bigint, max: bigint): Sysctl {
  return {
    get: (k) => fields.map((f) => String(sandboxIpcNamespace(k).limits[f])).join('\t'),
    set: (k, v) => {
      const values = parseInts(v, fields.length, min, max).split('\t');
      const l = sandboxIpcNamespace(k).limits as unknown as Record<string, number | bigint>;
      fields.forEach((f, i) => { l[f] = typeof l[f] === 'bigint' ? BigInt(values[i]) : Number(values[i]); });
    },
  };
}

/** utsName is kernel.hostname or kernel.domainname of the UTS namespace of the task
 * reading or writing (the sandbox's at boot): the first line written, cut at NEW_UTS_LEN
 * bytes as proc_dostring does. */
function utsName(field: 'hostname' | 'domainname'): Sysctl {
  const uts = (k: Kernel) => { const t = k.sched?.running; return t ? utsNamespaceOf(t) : k; };
  return {
    get: (k) => uts(k)[field],
    set: (k, v) => {
      uts(k)[field] = Buffer.from(v.split('\n')[0]).subarray(0, NEW_UTS_LEN).toString();
    },
  };
}

const ULONG_MAX = 2n ** 64n - 1n;

/** SYSCTLS lists every entry by its path under /proc/sys. */
const SYSCTLS = new Map<string, Sysctl>([
  ['kernel/hostname', utsName('hostname')],
  ['kernel/domainname', utsName('domainname')],
  ['kernel/ostype', fixed(() => 'Linux')],
  ['kernel/osrelease', fixed(() => UTS_RELEASE)],
  ['kernel/version', fixed(() => UTS_VERSION)],
  ['kernel/pid_max', fixed(() => PID_MAX)],
  ['kernel/ngroups_max', fixed(() => 65536)],
  ['kernel/cap_last_cap', fixed(() => CAP_LAST_CAP)],
  ['kernel/dmesg_restrict', fixed(() => 1)], // syslog(2)'s rule (handlers/syslog.ts)
  ['kernel/overflowuid', fixed(() => 65534)],
  ['kernel/overflowgid', fixed(() => 65534)],
  ['kernel/random/boot_id', fixed((k) => procViewOf(k).bootId)],
  ['kernel/random/uuid', fixed(() => randomUUID())],
  // getrandom's pool is the host's: always fully seeded (Linux 5.18+ shows 256, 256).
  ['kernel/random/entropy_avail', fixed(() => 256)],
  ['kernel/random/poolsize', fixed(() => 256)],
  // System V IPC's limits (Linux's defaults), those the IPC objects enforce (kernel/ipc).
  ['kernel/msgmax', ipcLimits(['msgmax'], 0n, 2n ** 31n - 1n)],
  ['kernel/msgmnb', ipcLimits(['msgmnb'], 0n, 2n ** 31n - 1n)],
  ['kernel/msgmni', ipcLimits(['msgmni'], 0n, 32768n)],
  ['kernel/sem', ipcLimits(['semmsl', 'semmns', 'semopm', 'semmni'], 0n, 2n ** 31n - 1n)],
  ['kernel/shmmax', ipcLimits(['shmmax'], 0n, ULONG_MAX)],
  ['kernel/shmall', ipcLimits(['shmall'], 0n, ULONG_MAX)],
  ['kernel/shmmni', ipcLimits(['shmmni'], 0n, 32768n)],
  ['kernel/shm_rmid_forced', stored('kernel/shm_rmid_forced', '0', 1, 0n, 1n)],
  // The descriptor and pipe limits the sentry enforces (fd-table.ts, fcntl F_SETPIPE_SZ).
  ['fs/nr_open', fixed(() => NR_OPEN)],
  ['fs/pipe-max-size', fixed(() => 1 << 20)],
  ['fs/inotify/max_queued_events', fixed(() => MAX_QUEUED_EVENTS)],
  ['fs/overflowuid', fixed(() => 65534)],
  ['fs/overflowgid', fixed(() => 65534)],
  // POSIX message queues' limits (Linux's defaults), those mq_open enforces.
  ['fs/mqueue/msg_default', ipcLimits(['mqMsgDefault'], 1n, 65536n)],
  ['fs/mqueue/msg_max', ipcLimits(['mqMsgMax'], 1n, 65536n)],
  ['fs/mqueue/msgsize_default', ipcLimits(['mqMsgsizeDefault'], 128n, 16777216n)],
  ['fs/mqueue/msgsize_max', ipcLimits(['mqMsgsizeMax'], 128n, 16777216n)],
  ['fs/mqueue/queues_max', ipcLimits(['mqQueuesMax'], 0n, 2n ** 31n - 1n)],
  // Memory: the lowest mappable address, and overcommit's heuristic mode (mm.ts).
  ['vm/mmap_min_addr', fixed((k) => k.platform.minUserAddress)],
  ['vm/overcommit_memory', fixed(() => 0)],
  // The loopback network: forwarding has no other interface to forward to, whatever the
  // value; the ephemeral ports are those socket/net.ts picks from.
  ['net/ipv4/ip_forward', stored('net/ipv4/ip_forward', '0', 1, 0n, 1n)],
  ['net/ipv4/ip_local_port_range', fixed(() => '32768\t60999')],
  // Stored for the network stack (and Docker, which sets both in every container).
  ['net/ipv4/ip_unprivileged_port_start', stored('net/ipv4/ip_unprivileged_port_start', '1024', 1, 0n, 65535n)],
  ['net/ipv4/ping_group_range', stored('net/ipv4/ping_group_range', '1\t0', 2, 0n, 2n ** 32n - 2n)],
  // The network namespace's own (net/netlink/host-proc-net.ts), read live, read-only.
  ...[...NAMESPACE_SYSCTLS.keys()].map((p): [string, Sysctl] => [p, fixed(() => namespaceSysctl(p))]),
]);

/** sysctlValue is the current text of sysctl `path` (e.g. "kernel/msgmax") in sandbox k. */
export function sysctlValue(k: Kernel, path: string): string {
  const s = SYSCTLS.get(path);
  if (!s) throw new Error(`no sysctl ${path}`);
  return s.get(k);
}

/**
 * applySysctls sets config.json's linux.sysctl in sandbox k at boot, as runc writes each
 * to /proc/sys in the container's init. The runtime has already checked the keys against
 * runc's rules; what is left to fail here fails as runc's write would, in one line.
 */
export function applySysctls(k: Kernel, sysctl: Record<string, string> | undefined): void {
  for (const [key, value] of Object.entries(sysctl ?? {})) {
    const path = sysctlPath(key);
    if (path === null) throw new Error(invalidSysctlKey(key));
    const s = SYSCTLS.get(path);
    if (!s) throw new Error(`open /proc/sys/${path}: no such file or directory`);
    if (!s.set) throw new Error(`open /proc/sys/${path}: permission denied`);
    try {
      s.set(k, value);
    } catch (e) {
      if (e instanceof LinuxError) throw new Error(`write /proc/sys/${path}: invalid argument`);
      throw e;
    }
  }
}

/** mayWriteSysctl is Linux's test_perm for a 0644 root-owned sysctl. */
function mayWriteSysctl(c: Credentials): boolean {
  return c.euid === 0;
}

/** sysctlDir is /proc/sys, or the directory `dir` below it ("" for /proc/sys itself). */
export function sysctlDir(pfs: ProcFs, k: Kernel, dir = ''): ProcDir {
  const prefix = dir ? `${dir}/` : '';
  return new ProcDir(pfs, `/sys${dir ? `/${dir}` : ''}`, () => {
    const m = new Map<string, () => Inode>();
    for (const [path, s] of SYSCTLS) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash >= 0) {
        const sub = rest.slice(0, slash);
        if (!m.has(sub)) m.set(sub, () => sysctlDir(pfs, k, prefix + sub));
        continue;
      }
      const text = () => `${s.get(k)}\n`;
      m.set(rest, () => (s.set
        ? new ProcWritableFile(pfs, `/sys/${path}`, text, (_t, data) => s.set!(k, data.toString()), mayWriteSysctl)
        : new ProcFile(pfs, `/sys/${path}`, text)));
    }
    return m;
  });
}
