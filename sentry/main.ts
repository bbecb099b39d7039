/**
 * `tvisor sentry`: one sandbox. It starts the gofer (the only process that opens host
 * files), boots the kernel from the bundle's config.json with the container's init
 * loaded, reports readiness, and runs init when told to (or at once without a control
 * socket). It exits with init's exit status (128+n for a death by signal n).
 *
 *   tvisor sentry --bundle DIR [--id ID] [--state-dir DIR] [--control SOCKET] [--ready-fd N]
 *                 [--platform ptrace|systrap|kvm]  (none: systrap where its self-check passes, else ptrace)
 *                 [--strace] [--debug] [--log-format text|json]
 *                 [--preserved-fds FIRST:N]   (host fds FIRST.. become init's fds 3..)
 *                 [--start-at-once]           (start init when ready, without {"cmd":"start"})
 *                 [--host-seccomp kill|trap|log]  (the sentry's own filter; trap with --debug or on systrap)
 *                 [--confine]                 (started in namespaces of its own: once ready, pivot into an
 *                                              empty root and become uid 65534 without capabilities)
 *                 [--lifeline-fd N]           (a pipe's read end: at its end, kill init)
 *                 [--network host|none]       (inet sockets: host sockets of its namespace, or loopback in the sentry)
 *                 [--env-fd N]                (a pipe holding init's environment as a JSON
 *                                              array of strings, in place of process.env)
 *
 * --ready-fd: one line, `ok` once init is loaded or `error <why>`; after `ok` the sentry
 * keeps the descriptor open until it exits, so that its end tells the runtime the sandbox
 * is gone the moment it is (no polling), and writes `exit N` when init has exited.
 *
 * Control protocol (one JSON object per line, answered by one line):
 *   {"cmd":"start"}  {"cmd":"signal","signo":N,"all":bool}  {"cmd":"state"}
 */
import { updateResources } from './resources-update';
import { readFileSync, writeSync, closeSync, unlinkSync, openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '../gofer/p9/client';
import { parseConfig } from '../oci/validate';
export { syscallsMain, platformsMain } from './listing-main';
import { boot, type Booted } from './boot';
import { spawnGofer } from './gofer-launch';
import { reap } from '../native/spawn';
import { sendToGroup } from './kernel/signals';
import { sandboxMemory } from './mm/oom';
import { SI_USER } from './kernel/signal-types';
import { lineLog, type SentryLog } from './log';
import { adoptAsStdio, openPty } from './fsimpl/host/tty';
import { sendConsoleFd } from '../native/console-socket';
import { exitCode } from './exit-code';
import { ExecServer } from './exec-server';
import { ControlServer } from './control-server';
import { EPOLLERR, EPOLLHUP, EPOLLIN, EPOLLRDHUP, reactor } from './net/reactor';
import { setNetworkMode } from './net/mode';
import { SYSCALL_COVERAGE } from './syscalls/linux/registry';
import { SYSCALLS } from './syscalls/linux/table/syscalls';
import { prepareSeccomp, SECCOMP_MODES, type SeccompMode } from '../native/confine/seccomp';
import { pivotToEmptyRoot, PRIVATE_PTMX } from '../native/confine/root';
import { openHostRoute } from './net/netlink/host-route';
import { openHostNetFiles } from './net/netlink/host-proc-net';
import { becomeNobody, NOBODY } from '../native/confine/credentials';
import { setStubIds, stubDescriptor } from '../native/ptrace/ptrace-native';
import { usePtmx } from './fsimpl/host/host-pty';
import { vdsoClock } from './kernel/timekeeper';
import { VDSO_CLOCK_ANNOTATION } from './kernel/vdso-clock';
import { profileMark } from '../native/startup-profile';
import { PHASES, phaseAddSplit, phasesDump, phasesStart } from '../native/phases';
import { startMemoryReport } from '../native/memory-report';
import { scheduleIdleGc } from '../native/idle-gc';
import { loadHeapAddon } from '../native/heap/heap-native';
import { snapshotFallback } from '../native/snapshot';
import { sentryNodeFlagSets } from './limits';
import { groupsOf, PodContainers, processList } from './kernel/containers';

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      bundle: { type: 'string' },
      id: { type: 'string', default: 'sandbox' },
      'state-dir': { type: 'string' },
      control: { type: 'string' },
      'ready-fd': { type: 'string' },
      platform: { type: 'string' },
      strace: { type: 'boolean', default: false },
      'syscall-coverage': { type: 'boolean', default: false },
      debug: { type: 'boolean', default: false },
      'log-format': { type: 'string', default: 'text' },
      log: { type: 'string' },
      'debug-log': { type: 'string' },
      'console-socket': { type: 'string' },
      'gofer-fd': { type: 'string' },
      'preserved-fds': { type: 'string' },
      'start-at-once': { type: 'boolean', default: false },
      'host-seccomp': { type: 'string' },
      confine: { type: 'boolean', default: false },
      'lifeline-fd': { type: 'string' },
      'env-fd': { type: 'string' },
      network: { type: 'string', default: 'none' },
    },
    strict: true,
  }).values;
}

export { exitCode };

/** snapshotFlagSets names the Node flag sets the sentry is started with: `make snapshots` builds a start-up snapshot for each (scripts/build-snapshot.mjs). */
export function snapshotFlagSets(): string[] {
  return sentryNodeFlagSets().map((flags) => flags.join(' '));
}

/** startGofer starts the sandbox's gofer when the sentry runs alone (no --gofer-fd). */
function startGofer(launcher: string, rootfs: string, spec: ReturnType<typeof parseConfig>, debug: boolean): { fd: number; stop: () => void } {
  const { pid, fd } = spawnGofer(launcher, rootfs, spec, { debug });
  // A gofer that dies early shows as EIO on the sentry's 9P calls; at the end it is killed
  // (and reaped, unless it has not gone yet: then it is reparented when the sentry exits).
  return {
    fd,
    stop: () => {
      try {
        process.kill(pid, 'SIGKILL');
        reap(pid);
      } catch {
        // gone
      }
    },
  };
}

/** preservedFds parses --preserved-fds FIRST:N into the host descriptors FIRST..FIRST+N-1. */
function preservedFds(arg: string | undefined): number[] {
  if (arg === undefined) return [];
  const m = /^(\d+):(\d+)$/.exec(arg);
  if (!m || Number(m[1]) < 3 || Number(m[2]) > 1024) throw new Error(`--preserved-fds: "${arg}" is not FIRST:N (FIRST >= 3, N <= 1024)`);
  return Array.from({ length: Number(m[2]) }, (_, i) => Number(m[1]) + i);
}

/** readEnv reads init's environment from the runtime's pipe (--env-fd): a JSON array of strings. */
function readEnv(fd: number): string[] {
  let env: unknown;
  try {
    env = JSON.parse(readFileSync(fd, 'utf8'));
  } catch (e) {
    throw new Error(`--env-fd: cannot read the environment: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
  if (!Array.isArray(env) || !env.every((v) => typeof v === 'string')) throw new Error('--env-fd: the environment is not an array of strings');
  return env;
}

/** main runs the sandbox; it resolves to the exit status (init's). */
export async function main(argv: string[]): Promise<number> {
  profileMark('main');
  phasesStart('sentry');
  let o: ReturnType<typeof parse>;
  try {
    o = parse(argv);
    if (!o.bundle) throw new Error('--bundle is required');
    if (o.network !== 'host' && o.network !== 'none') throw new Error(`--network: "${o.network}" is not host or none`);
    setNetworkMode(o.network);
  } catch (e) {
    process.stderr.write(`tvisor sentry: ${(e as Error).message}\n`);
    return 2;
  }
  const openLog = (f: string | undefined) => (f ? openSync(f, 'a', 0o600) : -1);
  let log: SentryLog;
  let seccompFd: number;
  try {
    // Given: checked now. Its default depends on the platform, known once booted (below).
    const mode = o['host-seccomp'];
    if (mode !== undefined && !SECCOMP_MODES.includes(mode as SeccompMode)) throw new Error(`--host-seccomp: "${mode}" is not one of ${SECCOMP_MODES.join(', ')}`);
    const logFd = openLog(o.log);
    const debugFd = openLog(o['debug-log']);
    // Started by the runtime (a ready pipe), the sandbox's stderr is the container's: logs go to files only.
    log = lineLog({ fd: logFd >= 0 ? logFd : o['ready-fd'] ? -1 : 2, debugFd, json: o['log-format'] === 'json', debug: o.debug });
    seccompFd = debugFd >= 0 ? debugFd : logFd >= 0 ? logFd : 2;
    const fallback = snapshotFallback();
    if (fallback) log.debug(`sentry: ${fallback}`);
  } catch (e) {
    process.stderr.write(`tvisor sentry: ${(e as Error).message}\n`);
    return 2;
  }
  const readyFd = o['ready-fd'] ? Number(o['ready-fd']) : -1;
  const report = (line: string) => {
    if (readyFd < 0) return;
    try {
      writeSync(readyFd, `${line}\n`);
      if (line !== 'ok') closeSync(readyFd);
    } catch {
      // the caller went away
    }
  };
  const bundle = path.resolve(o.bundle);
  // Stubs start as the unprivileged uid the sentry takes once confined (from the first one).
  if (o.confine) setStubIds(NOBODY);
  let booted: Booted;
  let spec: ReturnType<typeof parseConfig>; // kept: `tvisor update` changes its resources
  let terminal = false;
  let gofer: { fd: number; stop: () => void } | null = null;
  try {
    spec = parseConfig(readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    profileMark('config-parsed');
    if (!spec.process?.args?.length) throw new Error('config.json: process.args: must be a non-empty array');
    // The vDSO's clock takes its first TSC sample now, to be calibrated by the first exec.
    vdsoClock.start(spec.annotations?.[VDSO_CLOCK_ANNOTATION] !== 'syscall');
    if (o['env-fd']) spec.process.env = readEnv(Number(o['env-fd']));
    const rootfs = path.resolve(bundle, spec.root?.path ?? 'rootfs');
    const launcher = process.argv[1];
    let ttySlave: number | undefined;
    terminal = spec.process.terminal === true;
    if (terminal) {
      if (!o['console-socket']) throw new Error('config.json: process.terminal is true but no --console-socket was given');
      const size = spec.process.consoleSize;
      const [master, slave] = openPty(size?.height ?? 0, size?.width ?? 0);
      sendConsoleFd(o['console-socket'], master);
      closeSync(master);
      adoptAsStdio(slave);
      ttySlave = slave;
    }
    // The runtime starts the gofer beside the sentry (--gofer-fd); alone, the sentry starts it.
    gofer = o['gofer-fd'] ? { fd: Number(o['gofer-fd']), stop: () => undefined } : startGofer(launcher, rootfs, spec, o.debug);
    const client = Client.overFd(gofer.fd);
    profileMark('boot-begin');
    booted = boot({ spec, id: o.id, client, platform: o.platform, log, stdio: [0, 1, 2], strace: o.strace, ttySlave, preserved: preservedFds(o['preserved-fds']) });
  } catch (e) {
    gofer?.stop();
    const msg = (e as Error).message;
    if (readyFd >= 0) report(`error ${msg}`);
    else process.stderr.write(`tvisor sentry: ${msg}\n`);
    return 1;
  }
  profileMark('booted');
  const { kernel, init } = booted;
  if (o['syscall-coverage']) kernel.syscallCoverage = new Set();
  const stateDir = o['state-dir'];
  // The exit status file is opened (empty) now: once confined, the sentry has no path to
  // the state directory. An empty file means "not yet" to the runtime.
  let exitFd = -1;
  if (stateDir) {
    try {
      exitFd = openSync(path.join(stateDir, 'exit-status'), 'w', 0o644);
    } catch (e) {
      log.warn(`cannot open the exit status file: ${(e as Error).message}`);
    }
  }
  const done = new Promise<number>((resolve) => {
    kernel.onInitExit = (status) => {
      profileMark('init-exit');
      if (PHASES.syscalls) phaseAddSplit(kernel.platform.name, kernel.platform.debugStamps?.(false));
      phasesDump(); // before the runtime hears of the end: it may kill this process next
      const code = exitCode(status);
      if (kernel.syscallCoverage) log.info(`${SYSCALL_COVERAGE} ${[...kernel.syscallCoverage].sort((a, b) => a - b).join(',')}`);
      if (exitFd >= 0) {
        try {
          writeSync(exitFd, `${code}\n`);
        } catch (e) {
          log.warn(`cannot record the exit status: ${(e as Error).message}`);
        }
      }
      // The runtime of a foreground run need not wait for this process's teardown.
      if (readyFd >= 0) {
        try {
          writeSync(readyFd, `exit ${code}\n`);
        } catch {
          // nobody reads it (create's runtime has gone)
        }
      }
      resolve(code);
    };
  });
  // Init starts once: at the runtime's start, or at once (no control socket, or --start-at-once).
  let started = false;
  const start = () => {
    if (started) throw new Error('the container has already started');
    started = true;
    profileMark('init-start');
    kernel.sched.wake(init);
    scheduleIdleGc((m) => log.debug(m)); // the boot's garbage, once idle (native/idle-gc.ts)
  };
  // Signals sent to the sandbox process go to the container's init, as with runc run;
  // those a terminal sends (^C, ^\\, ^Z, resizes) go to its foreground process group.
  const ttySignals = new Set(['SIGINT', 'SIGQUIT', 'SIGTSTP', 'SIGWINCH']);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGTSTP'] as const) {
    process.on(sig, () => {
      const info = { signo: osConstants.signals[sig], code: SI_USER, pid: 0, uid: 0 };
      if (terminal && ttySignals.has(sig)) {
        // Like the kernel's own tty signals: init takes them only with a handler.
        const fg = kernel.ttyForeground || init.tg.pgid;
        for (const g of [...kernel.groups.values()]) if (g.pgid === fg) sendToGroup(g, info);
      } else sendToGroup(init.tg, info, true);
    });
  }
  let server: ControlServer | null = null;
  let execServer: ExecServer | null = null;
  // The pod's other containers (kernel/containers.ts): requests that name one go there.
  const pods = new PodContainers(kernel, log);
  try {
    if (o.control) {
      server = new ControlServer(o.control, (req) => {
        // Answered when done (a delete waits for the container's processes to go).
        if (req.container !== undefined) {
          const answer = pods.control(req as Parameters<PodContainers['control']>[0]);
          // A member's create and start leave garbage as the boot does: collected once idle again.
          if (req.cmd === 'start') void answer.then(() => scheduleIdleGc((m) => log.debug(m)), () => undefined);
          return answer;
        }
        if (req.cmd === 'start') {
          start();
          return { ok: true };
        } else if (req.cmd === 'signal') {
          const signo = Number(req.signo);
          if (!Number.isInteger(signo) || signo < 1 || signo > 64) throw new Error(`invalid signal ${req.signo}`);
          const groups = req.all ? groupsOf(kernel, null) : [init.tg];
          for (const g of groups) sendToGroup(g, { signo, code: SI_USER, pid: 0, uid: 0 }, true);
          return { ok: true };
        } else if (req.cmd === 'state') {
          return { ok: true, pids: [...kernel.groups.keys()] };
        } else if (req.cmd === 'pause' || req.cmd === 'resume') {
          kernel.sched.setPaused(req.cmd === 'pause');
          return { ok: true };
        } else if (req.cmd === 'update') {
          updateResources(spec, (req.resources ?? {}) as Parameters<typeof updateResources>[1]); // tvisor update (resources-update.ts)
          return { ok: true };
        } else if (req.cmd === 'oom') {
          return { ok: true, kills: sandboxMemory.oomKills }; // the OOM killer's kills (mm/oom.ts), for `tvisor events`
        } else if (req.cmd === 'ps') {
          return { ok: true, processes: processList(kernel, null) };
        }
        throw new Error(`unknown command ${req.cmd}`);
      });
    }
    if (o.control) execServer = new ExecServer(`${o.control}.exec`, kernel, log, pods);
    profileMark('control-listening');
  } catch (e) {
    const msg = `cannot serve the sandbox's control sockets: ${(e as Error).message}`;
    if (readyFd >= 0) report(`error ${msg}`);
    else process.stderr.write(`tvisor sentry: ${msg}\n`);
    gofer?.stop();
    process.exit(1);
  }
  // The sentry's NETLINK_ROUTE socket and its /proc/net/snmp and netstat, through which
  // the sandbox sees its network namespace (sentry/net/netlink/), open before confinement.
  openHostRoute();
  openHostNetFiles();
  profileMark('host-net-open');
  // Everything the sandbox needs from the host is open: from here on the sentry sees
  // none of the host's files (an empty root, when the runtime gave it a mount namespace
  // of its own) and keeps to its allowlist of host syscalls (native/confine/).
  try {
    reactor(); // its addon and epoll fd are opened here: no path and no epoll_create1 once confined
    loadHeapAddon(); // the idle collection's (native/idle-gc.ts): a host path, opened before confinement
    // Under systrap, application syscalls meet the filter stubs inherit from the sentry:
    // trap (skip the call, SIGSYS) rather than kill, so that they reach the stub's handler.
    const systrap = kernel.platform.name === 'systrap';
    const seccompMode = (o['host-seccomp'] ?? (o.debug || systrap ? 'trap' : 'kill')) as SeccompMode;
    const seccomp = prepareSeccomp('sentry', { mode: seccompMode, debugFd: seccompFd, names: SYSCALLS.map((s) => s?.name), values: { stubFd: stubDescriptor(systrap ? 'tvisor-systrap-stub' : 'tvisor-stub') } });
    profileMark('seccomp-prepared');
    if (o.confine) {
      pivotToEmptyRoot({ pts: true });
      usePtmx(PRIVATE_PTMX);
      profileMark('root-pivoted');
      becomeNobody();
      setStubIds(-1);
      profileMark('credentials-dropped');
    }
    seccomp();
    profileMark('confined');
    startMemoryReport(); // make profile-memory's debug switch (native/memory-report.ts)
  } catch (e) {
    const msg = `cannot confine the sentry: ${(e as Error).message}`;
    if (readyFd >= 0) report(`error ${msg}`);
    else process.stderr.write(`tvisor sentry: ${msg}\n`);
    gofer?.stop();
    process.exit(1);
  }
  report('ok');
  if (!o.control || o['start-at-once']) start();
  // A foreground runtime holds the lifeline's other end: when it is gone (even SIGKILLed),
  // the container ends as if killed, so that the sandbox never outlives its caller.
  // The lifeline is a pipe's read end that no one writes to: its hang-up is the runtime's
  // end. The host-I/O reactor watches it (node:net would load net and its streams at
  // every start for this one descriptor).
  if (o['lifeline-fd']) {
    const lifeline = Number(o['lifeline-fd']);
    reactor().watch(lifeline, EPOLLIN | EPOLLRDHUP, (ev) => {
      if (!(ev & (EPOLLHUP | EPOLLRDHUP | EPOLLERR))) return;
      reactor().unwatch(lifeline);
      log.warn('the runtime that ran this sandbox in the foreground is gone: killing the container');
      sendToGroup(init.tg, { signo: osConstants.signals.SIGKILL, code: SI_USER, pid: 0, uid: 0 }, true);
    });
  }
  // Tasks may all be asleep with nothing in Node's loop to wake them (a deadlock in the
  // container): the sandbox still lives until its init exits or it is killed.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const code = await done;
  clearInterval(keepAlive);
  server?.close();
  execServer?.close();
  for (const f of o.control ? [o.control, `${o.control}.exec`] : []) {
    try {
      unlinkSync(f);
    } catch {
      // already gone
    }
  }
  gofer?.stop();
  try {
    kernel.platform.release();
  } catch (e) {
    log.warn(`releasing the platform: ${(e as Error).message}`);
  }
  // Pending host reads (stdin) would keep Node alive: the sandbox ends with its init.
  process.exit(code);
}
