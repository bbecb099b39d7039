/**
 * procfs: /proc as the sandbox sees it. Every file is generated from the sentry's own
 * state (its tasks, its memory file, its mounts), never read from the host's /proc.
 */
import { fromKernelId } from '../../kernel/user-namespace';
import { capHex } from '../../kernel/capabilities';
import type { Credentials } from '../../kernel/credentials';
import { UTS_RELEASE, UTS_VERSION, type Kernel } from '../../kernel/kernel';
import type { Task } from '../../kernel/task';
import type { ThreadGroup } from '../../kernel/thread-group';
import { globalIn, nsStatusLines, pidIn, rootPidNamespace, tidIn, type PidNamespace } from '../../kernel/pid-namespace';
import { Errno, fail } from '../../kernel/errors';
import { groupTimes, taskTimes } from '../../kernel/cputime';
import { mountTable } from '../../kernel/mount-namespaces';
import { mayAccess } from '../../kernel/ptrace';
import { isControllingTerminal } from '../../kernel/process-group';
import { isRealtime } from '../../kernel/sched-policy';
import { controllingPtyOf } from '../devpts/devpts';
import { O_CLOEXEC, O_CREAT, O_EXCL, O_LARGEFILE, O_NOCTTY, O_TRUNC, type FileDescription } from '../../vfs/file';
import type { Inode } from '../../vfs/inode';
import { EpollFile } from '../anon/epoll';
import { EventFd } from '../anon/eventfd';
import { SignalFd } from '../anon/signalfd';
import { TimerFd } from '../anon/timerfd';
import { Inotify } from '../anon/inotify';
import { ProcFdLink } from './fd-link';
import { mountinfoText, mountsText } from '../../vfs/mountinfo';
import { ProcDir, ProcFile, ProcFs, ProcLink } from './nodes';
import { sysvipcDir } from './sysvipc';
import { netDir } from './net';
import { procViewOf } from './sandbox-view';
import { sysctlDir } from './sysctl';
import { mountableTypes } from '../mountable';
import { cpuinfoText, loadavgText, meminfoText, statText, uptimeText } from './system-files';
import { affinityStatusLines, memoryStatusLines, taskFiles } from './task-files';
import { seccompStatusLines } from '../../seccomp';
import { hardwareEntries } from './hardware-files';
import { contextSwitchLines } from './sched-files';
import { signalStatFields, signalStatusLines } from './signal-status';
import { vmstatText } from './vmstat';

/** cmdlineText is /proc/cmdline: the sandbox boots no kernel image, so, as gVisor does,
 * it shows a constant naming the sandbox's kernel release (no host detail). */
function cmdlineText(): string {
  return `BOOT_IMAGE=/vmlinuz-${UTS_RELEASE}-tvisor quiet\n`;
}

/** filesystemsText is /proc/filesystems: the types mount(2) accepts in the sandbox (each
 * "nodev": none needs a block device). The rootfs's 9p and the sentry's own devpts and
 * mqueue are left out, as mount(2) refuses them (ENODEV). */
function filesystemsText(): string {
  return mountableTypes().map((t) => `nodev\t${t}\n`).join('');
}

/** CHAR_DRIVERS are the character device drivers the sandbox emulates, by major, in
 * Linux's names (fs/char_dev.c's chrdev_show): the memory devices (null, zero, full,
 * random, urandom: fsimpl/dev/device-ops.ts), /dev/tty and /dev/ptmx (5:0 and 5:2), and
 * the pty slaves (devpts). */
const CHAR_DRIVERS: [number, string][] = [[1, 'mem'], [5, '/dev/tty'], [5, '/dev/ptmx'], [136, 'pts']];

/** devicesText is /proc/devices: the emulated character drivers, and no block device. */
function devicesText(): string {
  return `Character devices:\n${CHAR_DRIVERS.map(([major, name]) => `${String(major).padStart(3)} ${name}\n`).join('')}\nBlock devices:\n`;
}

/**
 * newProcfs builds /proc for kernel k; `self` returns the task asking (for /proc/self).
 * Its processes are those of the pid namespace `ns` (the mounting task's; the sandbox's
 * by default), by their pids there; /proc/self of a task outside it is ENOENT.
 */
export function newProcfs(k: Kernel, self: () => Task | null, ns: PidNamespace = rootPidNamespace(k)): ProcFs {
  const pfs = new ProcFs();
  const selfIds = (): [number, number] => {
    const t = self();
    if (!t) return [1, 1];
    const ids: [number, number] = [pidIn(ns, t.tg), tidIn(ns, t)];
    return ids[0] === 0 ? fail(Errno.ENOENT) : ids;
  };
  const top = (): Map<string, () => Inode> => {
    const m = new Map<string, () => Inode>();
    m.set('self', () => new ProcLink(pfs, '/self', () => String(selfIds()[0])));
    m.set('thread-self', () => new ProcLink(pfs, '/thread-self', () => { const [pid, tid] = selfIds(); return `${pid}/task/${tid}`; }));
    for (const g of ns.groupList()) if (groupVisible(k, g)) m.set(String(pidIn(ns, g)), () => pidDir(pfs, k, self, g, undefined, ns));
    m.set('meminfo', () => new ProcFile(pfs, '/meminfo', () => meminfoText(k)));
    m.set('vmstat', () => new ProcFile(pfs, '/vmstat', () => vmstatText(k)));
    m.set('cpuinfo', () => new ProcFile(pfs, '/cpuinfo', cpuinfoText));
    m.set('uptime', () => new ProcFile(pfs, '/uptime', () => uptimeText(k)));
    m.set('loadavg', () => new ProcFile(pfs, '/loadavg', () => loadavgText(k)));
    m.set('version', () => new ProcFile(pfs, '/version', () => `Linux version ${UTS_RELEASE} ${UTS_VERSION}\n`));
    m.set('filesystems', () => new ProcFile(pfs, '/filesystems', filesystemsText));
    m.set('devices', () => new ProcFile(pfs, '/devices', devicesText));
    m.set('cmdline', () => new ProcFile(pfs, '/cmdline', cmdlineText));
    m.set('mounts', () => new ProcLink(pfs, '/mounts', () => 'self/mounts'));
    m.set('sysvipc', () => sysvipcDir(pfs, k, self));
    m.set('net', () => new ProcLink(pfs, '/net', () => 'self/net'));
    m.set('stat', () => new ProcFile(pfs, '/stat', () => statText(k)));
    m.set('sys', () => sysctlDir(pfs, k));
    m.set('cgroups', () => new ProcFile(pfs, '/cgroups', () => procViewOf(k).cgroups));
    // The sandbox has no swap and no block device.
    m.set('swaps', () => new ProcFile(pfs, '/swaps', () => 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n'));
    m.set('partitions', () => new ProcFile(pfs, '/partitions', () => 'major minor  #blocks  name\n\n'));
    hardwareEntries(pfs, m);
    return m;
  };
  pfs.root = new ProcDir(pfs, '/', top);
  return pfs;
}

/** groupVisible: /proc/<pid> exists while the process does, zombie included, until reaped. */
function groupVisible(k: Kernel, g: ThreadGroup): boolean {
  return k.groups.get(g.tgid) === g && (g.tasks.size > 0 || g.zombie);
}

/** pidDir is /proc/<pid> for process g, or /proc/<pid>/task/<tid> for its thread
 * `thread`; `self` is the task asking. */
function pidDir(pfs: ProcFs, k: Kernel, self: () => Task | null, g: ThreadGroup, thread?: Task, ns = rootPidNamespace(k)): Inode {
  // Pids as the mount's namespace numbers them (kernel ids in the sandbox's).
  const tgid = pidIn(ns, g);
  const base = thread ? `/${tgid}/task/${tidIn(ns, thread)}` : `/${tgid}`;
  const leader = () => thread ?? g.leader ?? [...g.tasks][0];
  const owner = (): [number, number] => { const t = leader(); return t ? [t.creds.euid, t.creds.egid] : [0, 0]; };
  // A task in a ptrace-stop shows 't (tracing stop)' (kernel/ptrace.ts).
  const state = () => (g.zombie ? 'Z (zombie)' : (thread ?? leader())?.traced?.stop ? 't (tracing stop)' : g.stopped ? 'T (stopped)' : leader()?.state === 'blocked' ? 'S (sleeping)' : 'R (running)');
  const id = () => (thread ? tidIn(ns, thread) : tgid);
  // A zombie still counts its leader, as Linux's signal->nr_threads does until the reap.
  const threads = () => (g.zombie ? 1 : g.tasks.size);
  let entries = (): Map<string, () => Inode> => new Map<string, () => Inode>([
    ['cmdline', () => new ProcFile(pfs, `${base}/cmdline`, () => memRange(leader(), 'arg'), owner)],
    ['environ', () => new ProcFile(pfs, `${base}/environ`, () => memRange(leader(), 'env'), owner, 0o400)],
    ['comm', () => new ProcFile(pfs, `${base}/comm`, () => `${leader()?.name ?? ''}\n`, owner, 0o644)],
    ['stat', () => new ProcFile(pfs, `${base}/stat`, (reader) => {
      const t = leader();
      const ppid = pidIn(ns, g.parent);
      const start = Math.floor((g.startTime - k.bootTime) / 10);
      const bytes = g.zombie ? 0 : t?.mm.residentBytes ?? 0;
      const vsize = g.zombie || !t ? 0 : t.mm.vmUsage().total;
      // Times in clock ticks (USER_HZ 100): the thread's own in task/<tid>, else the process's.
      const own = thread ? taskTimes(thread) : groupTimes(g);
      const nice = t?.nice ?? 0;
      // Linux's task_prio: 20 + nice, or -1 - the real-time priority; rt_priority and policy (fields 40, 41) follow.
      const sched = (thread ?? t)?.sched;
      const rt = sched !== undefined && isRealtime(sched.policy);
      const prio = rt ? -1 - sched.priority : 20 + nice;
      const times = `${ticks(own.user)} ${ticks(own.sys)} ${ticks(g.cpu.children.user)} ${ticks(g.cpu.children.sys)} ${prio} ${nice}`;
      // The address space's layout (fields 26-28 and 45-51) only for a reader with ptrace's
      // read access, as Linux's do_task_stat: others read 1 1 0 and zeros.
      const mm = !g.zombie && t ? t.mm : null;
      // (The reader's own credentials object: the process itself, which Linux always permits.)
      const permitted = mm !== null && reader !== undefined && (reader === t!.creds || mayAccess(reader, t!));
      const x = mm?.execLayout;
      const code = mm ? (permitted ? `${x!.startCode} ${x!.endCode} ${x!.startStack}` : '1 1 0') : '0 0 0';
      const data = permitted ? `${x!.startData} ${x!.endData} ${mm!.brkStart} ${mm!.argStart} ${mm!.argEnd} ${mm!.envStart} ${mm!.envEnd}` : '0 0 0 0 0 0 0';
      // The obsolete signal fields (31-34): the thread's in task/<tid>, else the leader's.
      const st = thread ?? t;
      const sigs = st && !g.zombie ? signalStatFields(st) : '0 0 0 0';
      const tty = ttyOf(k, g);
      const ttyNr = tty ? encodeDev(PTS_MAJOR, tty.index) : 0;
      const tpgid = tty ? (tty.foreground ? globalIn(ns, tty.foreground) : 0) : -1;
      return `${id()} (${t?.name ?? ''}) ${state()[0]} ${ppid} ${globalIn(ns, g.pgid)} ${globalIn(ns, g.sid)} ${ttyNr} ${tpgid} 4194304 0 0 0 0 ${times} ${threads()} 0 ${start} ${vsize} ${Math.ceil(bytes / 4096)} 18446744073709551615 ${code} 0 0 ${sigs} 0 0 0 17 0 ${rt ? sched.priority : 0} ${sched?.policy ?? 0} 0 0 0 ${data} 0\n`;
    }, owner)],
    ['status', () => new ProcFile(pfs, `${base}/status`, (reader) => {
      const t = leader();
      const c = t?.creds;
      // Ids as the reader's user namespace sees them.
      const u = (kid: number | undefined) => (kid === undefined ? kid : fromKernelId(reader?.userns ?? null, 'uid', kid));
      const gi = (kid: number | undefined) => (kid === undefined ? kid : fromKernelId(reader?.userns ?? null, 'gid', kid));
      const tracerPid = (u: Task | undefined): number => (u?.traced ? tidIn(ns, u.traced.tracer) : 0);
      // Umask, Ngid (no NUMA balancing), TracerPid (the thread's tracer, kernel/ptrace.ts) and the
      // Groups line's trailing space are Linux's; the signal lines are task_sig's.
      return [`Name:\t${t?.name ?? ''}`, ...(t && !g.zombie ? [`Umask:\t${t.fs.umask.toString(8).padStart(4, '0')}`] : []), `State:\t${state()}`,
        `Tgid:\t${tgid}`, 'Ngid:\t0', `Pid:\t${id()}`, `PPid:\t${pidIn(ns, g.parent)}`, `TracerPid:\t${tracerPid(thread ?? t)}`,
        `Uid:\t${u(c?.uid)}\t${u(c?.euid)}\t${u(c?.suid)}\t${u(c?.euid)}`, `Gid:\t${gi(c?.gid)}\t${gi(c?.egid)}\t${gi(c?.sgid)}\t${gi(c?.egid)}`,
        `Groups:\t${c?.groups.map((x) => gi(x)).join(' ') ?? ''} `, ...nsStatusLines(g, thread, k, ns), ...(g.zombie ? [] : memoryStatusLines(t)), `Threads:\t${threads()}`,
        ...(t ? signalStatusLines(t) : ['SigBlk:\t0000000000000000']),
        ...(c ? capabilityLines(c) : []), ...(c ? seccompStatusLines(k.seccomp) : []), ...(t ? affinityStatusLines(t) : []), ...(t ? contextSwitchLines(t) : []), ''].join('\n');
    }, owner)],
    ['maps', () => new ProcFile(pfs, `${base}/maps`, () => leader()?.mm.describe() ?? '', owner)],
    ['mounts', () => new ProcFile(pfs, `${base}/mounts`, () => mountTable(k, leader(), mountsText), owner)],
    ['mountinfo', () => new ProcFile(pfs, `${base}/mountinfo`, () => mountTable(k, leader(), mountinfoText), owner)],
    ['net', () => netDir(pfs, k, `${base}/net`)],
    ['exe', () => new ProcLink(pfs, `${base}/exe`, () => leader()?.mm.exe ?? '', owner)],
    ['cwd', () => new ProcLink(pfs, `${base}/cwd`, () => { const t = leader(); return t ? k.mounts.pathOf(t.cwd, t.root) : '/'; }, owner)],
    ['root', () => new ProcLink(pfs, `${base}/root`, () => '/', owner)],
    ['fd', () => new ProcDir(pfs, `${base}/fd`, () => {
      const m = new Map<string, () => Inode>();
      const t = leader();
      if (t && t.state !== 'exited') for (const [fd, f] of t.fds.entries()) {
        m.set(String(fd), () => new ProcFdLink(pfs, `${base}/fd/${fd}`, k, t, fd, f, owner, self));
      }
      return m;
    }, owner, 0o500)],
    ['fdinfo', () => new ProcDir(pfs, `${base}/fdinfo`, () => {
      const m = new Map<string, () => Inode>();
      const t = leader();
      if (t && t.state !== 'exited') for (const [fd, f] of t.fds.entries()) {
        m.set(String(fd), () => {
          const info = new ProcFile(pfs, `${base}/fdinfo/${fd}`, () => fdInfo(k, f, t.fds.has(fd) && t.fds.cloexec(fd)), owner, 0o400);
          info.live = () => t.fds.has(fd) && t.fds.get(fd) === f;
          return info;
        });
      }
      return m;
    }, owner, 0o500)],
    ...taskFiles(pfs, k, base, g, leader, owner, thread, self),
  ]);
  if (!thread) {
    const tasks = (): Map<string, () => Inode> => new Map([...g.tasks].sort((a, b) => a.tid - b.tid).map((t) => [String(tidIn(ns, t)), () => pidDir(pfs, k, self, g, t, ns)] as [string, () => Inode]));
    const all = entries;
    entries = () => all().set('task', () => new ProcDir(pfs, `${base}/task`, tasks, owner));
  }
  const dir = new ProcDir(pfs, base, () => entries(), owner);
  dir.live = thread ? () => groupVisible(k, g) && g.tasks.has(thread) : () => groupVisible(k, g);
  return dir;
}

/** fdInfo is /proc/<pid>/fdinfo/N: the position, the flags in octal (O_LARGEFILE for
 * files opened by path, as Linux forces it; O_CLOEXEC from the descriptor), the mount and
 * the inode. */
function fdInfo(k: Kernel, f: FileDescription, cloexec: boolean): string {
  const flags = (f.flags & ~(O_CLOEXEC | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC)) | (cloexec ? O_CLOEXEC : 0) | (f.loc ? O_LARGEFILE : 0);
  const mnt = f.loc ? f.loc.mount.id : 0;
  let ino = 0;
  try {
    ino = f.stat().ino;
  } catch {
    // A file whose attributes cannot be read shows inode 0.
  }
  return `pos:\t${f.offset}\nflags:\t0${flags.toString(8)}\nmnt_id:\t${mnt}\nino:\t${ino}\n${anonFdInfo(f)}`;
}

/** anonFdInfo is what fdinfo adds for an eventfd (its counter), a signalfd (its mask), a
 * timerfd and an inotify descriptor (their own fdinfo) and an epoll file (a tfd line per
 * watched descriptor), in Linux's formats. */
function anonFdInfo(f: FileDescription): string {
  if (f instanceof EventFd) return `eventfd-count: ${f.counter.toString(16).padStart(16)}\n`;
  if (f instanceof SignalFd) return `sigmask:\t${f.mask.toString(16).padStart(16, '0')}\n`;
  if (f instanceof TimerFd || f instanceof Inotify) return f.fdinfo();
  if (f instanceof EpollFile) {
    return [...f.targets()].map((e) => {
      let ino = 0;
      try {
        ino = e.file.stat().ino;
      } catch {
        // a target whose attributes cannot be read shows inode 0
      }
      // epoll_ctl always adds EPOLLERR and EPOLLHUP to what it stores.
      const events = (e.events | 0x18) >>> 0;
      return `tfd: ${String(e.fd).padStart(8)} events: ${events.toString(16).padStart(8)} data: ${BigInt.asUintN(64, e.data).toString(16).padStart(16)}  pos:${e.file.offset} ino:${ino.toString(16)} sdev:0\n`;
    }).join('');
  }
  return '';
}

/** ticks converts nanoseconds to clock ticks (USER_HZ, 100 a second), as /proc counts. */
function ticks(ns: number): number {
  return Math.floor(ns / 1e7);
}

/** capabilityLines are the capability lines of /proc/<pid>/status, in Linux's order. */
function capabilityLines(c: Credentials): string[] {
  const k = c.caps;
  return [`CapInh:\t${capHex(k.inheritable)}`, `CapPrm:\t${capHex(k.permitted)}`, `CapEff:\t${capHex(k.effective)}`,
    `CapBnd:\t${capHex(k.bounding)}`, `CapAmb:\t${capHex(k.ambient)}`, `NoNewPrivs:\t${c.noNewPrivs ? 1 : 0}`];
}

function memRange(t: Task | undefined, which: 'arg' | 'env'): Buffer {
  if (!t || t.state === 'exited') return Buffer.alloc(0);
  const [start, end] = which === 'arg' ? [t.mm.argStart, t.mm.argEnd] : [t.mm.envStart, t.mm.envEnd];
  if (end <= start) return Buffer.alloc(0);
  try {
    return t.mm.read(start, end - start);
  } catch {
    return Buffer.alloc(0);
  }
}

/** PTS_MAJOR is the pseudo-terminal slaves' major device number (/dev/pts/N is 136:N). */
const PTS_MAJOR = 136;

/** encodeDev is Linux's new_encode_dev: a device number as /proc/<pid>/stat's tty_nr shows it. */
function encodeDev(major: number, minor: number): number {
  return (minor & 0xff) + major * 256 + (minor & ~0xff) * 4096;
}

/**
 * ttyOf is process g's controlling terminal, if it has one: the terminal its session
 * controls (a terminal of the runtime's, or a pair made in the sandbox), unless g gave it
 * up (TIOCNOTTY); its index names /dev/pts/N, and its foreground process group is the
 * kernel's pid (0: none).
 */
function ttyOf(k: Kernel, g: ThreadGroup): { index: number; foreground: number } | undefined {
  if (g.zombie || !isControllingTerminal(g, g.sid)) return undefined;
  const term = k.controllingTerminal(g.sid);
  if (term) return { index: term.index, foreground: term.foreground };
  return controllingPtyOf(k, g.sid);
}
