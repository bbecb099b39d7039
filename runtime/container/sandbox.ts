/**
 * sandbox.ts is the narrow interface between the OCI lifecycle (Container) and the
 * process that actually runs a container: the sandbox (a sentry plus its gofer). The
 * lifecycle only needs to spawn a sandbox for a bundle and learn its host pid, ask it to
 * start the container's init, signal it, wait for it to exit, and release what it left
 * on the host. Every method but spawn gets a SandboxRef rebuilt from state.json, because
 * each tvisor command is a separate short-lived process.
 *
 * The implementation is runtime/sandbox/sentry-sandbox.ts; unit tests use a fake
 * (testing/fake-sandbox.ts).
 */
import type { ContainerProcess } from '../../oci/process-list';
import type { LinuxResources, Spec } from '../../oci/config';
import type { Logger } from '../log';
import type { ContainerStats } from './stats';

/** SandboxSpawnRequest is everything a sandbox needs to be created for one container. */
export interface SandboxSpawnRequest {
  id: string;
  /** bundle is the absolute bundle directory; rootfs is spec.root.path resolved against it. */
  bundle: string;
  rootfs: string;
  spec: Spec;
  /**
   * stateDir is the container's directory under --root, private to tvisor (mode 0700),
   * possibly through a short alias: a socket path inside it plus 32 bytes fits sun_path.
   */
  stateDir: string;
  /** consoleSocket, when set, receives the pty master (console/console-socket.ts). */
  consoleSocket?: string;
  /** preserveFds: the caller's fds 3 .. 3+N-1 become init's fds 3 .. (runc's --preserve-fds). */
  preserveFds?: number;
  /** startAtOnce: init starts as soon as the sandbox is ready (no separate start). */
  startAtOnce?: boolean;
  /** processEnv replaces spec.process.env, passed over a pipe, never through a file. */
  processEnv?: string[];
  /** pod, for a container of a pod (sandbox/pod-member.ts), is the pod's sandbox it joins. */
  pod?: PodRef;
  log: Logger;
}

/** PodRef is what a pod member's spawn needs of its pod's sandbox container (pod.ts). */
export interface PodRef {
  id: string;
  /** pid is the pod's sandbox process (its sentry); stateDir holds its control sockets. */
  pid: number;
  stateDir: string;
  /** cgroup is the pod's host cgroup record (sandbox/cgroup.ts), which the member's processes join. */
  cgroup?: unknown;
}

/** SandboxHandle is what spawn reports: the host pid and data to persist for later commands. */
export interface SandboxHandle {
  pid: number;
  data?: Record<string, unknown>;
}

/** SandboxRef names a spawned sandbox from a later command (rebuilt from state.json). */
export interface SandboxRef {
  id: string;
  pid: number;
  pidStartTime?: string;
  stateDir: string;
  data?: Record<string, unknown>;
}

/** SandboxProcess is one process of a container, as `ps` shows it (the sentry answers these records). */
export type SandboxProcess = ContainerProcess;

/** SandboxStats is what Sandbox.stats reports. */
export interface SandboxStats {
  data: ContainerStats;
  oomKills?: number;
}

/** Sandbox runs containers. All methods reject with an Error naming what failed. */
export interface Sandbox {
  /**
   * spawn creates the sandbox for a bundle and resolves once the container is created:
   * its init exists but has not run the user program. The pid is the process a shim reaps.
   */
  spawn(req: SandboxSpawnRequest): Promise<SandboxHandle>;
  /** start makes the created container's init run the user program. */
  start(ref: SandboxRef): Promise<void>;
  /** signal delivers `signo` to the container's init, or to all its processes when `all`. */
  signal(ref: SandboxRef, signo: number, all: boolean): Promise<void>;
  /** wait resolves true once the sandbox has exited, false if `timeoutMs` passed first. */
  wait(ref: SandboxRef, timeoutMs: number): Promise<boolean>;
  /**
   * waitInit, where the sandbox tells it, resolves once the container's init has exited
   * and its status is recorded, possibly before the sandbox process itself is gone (a
   * foreground run then deletes at once: delete kills what is left).
   */
  waitInit?(ref: SandboxRef): Promise<void>;
  /**
   * exitStatus returns the exit status of the container's init once the sandbox has
   * exited (128+n for a death by signal n), or undefined when it is unknown.
   */
  exitStatus(ref: SandboxRef): Promise<number | undefined>;
  /** pause stops running the container's processes; resume runs them again. */
  pause?(ref: SandboxRef): Promise<void>;
  resume?(ref: SandboxRef): Promise<void>;
  /** processes lists the container's processes (sandbox pids, and the host pids that run them). */
  processes?(ref: SandboxRef): Promise<SandboxProcess[]>;
  /**
   * stats returns the sandbox's resource figures in runc's `events` shape, and how many
   * OOM kills its memory limit has caused so far (undefined when that is unknown).
   */
  stats?(ref: SandboxRef): Promise<SandboxStats>;
  /** oomKills is the OOM-kill count alone (cheap enough to poll), undefined when unknown. */
  oomKills?(ref: SandboxRef): Promise<number | undefined>;
  /**
   * update applies new resource limits (the fields present) to a live sandbox: all of
   * them or, when one is refused, none. It resolves with the settings this host cannot
   * apply and that were left alone.
   */
  update?(ref: SandboxRef, resources: LinuxResources): Promise<string[]>;
  /** destroy releases what the sandbox left on the host; its processes are already gone. */
  destroy(ref: SandboxRef): Promise<void>;
}
