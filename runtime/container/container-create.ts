/**
 * container-create.ts implements `create` (runtime.md "Create" and lifecycle steps 1-5):
 * validate the id and the bundle, reserve the id under --root, spawn the sandbox, run the
 * prestart, createRuntime and createContainer hooks, write the pid file.
 *
 * Failure leaves nothing behind: a config or bundle problem is found before anything is
 * written; after that, every step is undone in reverse (the sandbox is killed and waited
 * for, the container directory removed, the pid file and a --root created by us removed).
 * A failing hook is handled as the spec says: stop the container, destroy it and run the
 * poststop hooks, then report the error.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Spec } from '../../oci/config';
import { OCI_VERSION } from '../../oci/config';
import { parseConfig } from '../../oci/validate';
import { Container, type ContainerEnv } from './container';
import { ContainerError } from './errors';
import { HookError, runHooks } from './hooks';
import { validateID } from './id';
import type { FileLock } from './lock';
import { withOomScoreAdj } from './oom-score';
import { processStartTime } from './proc';
import { validateNamespacePaths } from './namespace-paths';
import { validateSysctl } from './sysctl';
import { validateProcessUser } from './user-mapping';
import type { PodRef, SandboxRef } from './sandbox';
import { podByNamespacePath, podSandboxId, validateMemberNamespaces } from './pod';
import { writeAtomic, type ContainerRecord } from './store';
import { profileMark } from '../../native/startup-profile';

/** CreateOptions are the arguments of `create`. */
export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  /** preserveFds passes this process's fds 3 .. 3+N-1 to the container's init as its fds 3 .. . */
  preserveFds?: number;
  /**
   * startAtOnce (run's shortcut): the sandbox starts init as soon as it is ready, and the
   * container is created `running`, saving start's round trip. Taken only when nothing
   * has to happen between create and start: no hooks, no pid file.
   */
  startAtOnce?: boolean;
  /**
   * processEnv, when given, is init's environment in place of config.json's
   * process.env, handed to the sandbox without being written to any file (`do` passes the
   * caller's environment this way, so that no copy of it lies on disk).
   */
  processEnv?: string[];
}

/** MAX_PRESERVED_FDS bounds --preserve-fds (runc has no bound; a typo should not pass a thousand). */
const MAX_PRESERVED_FDS = 1024;

/**
 * checkPreservedFds validates --preserve-fds N: a count, and fds 3 .. 3+N-1 passed by the
 * caller. Node opens descriptors of its own at start-up at the lowest free numbers, its
 * event loop's epoll first (then pipes and eventfds), and marks every descriptor above 2
 * close-on-exec, inherited ones included: what the caller passed is what lies below
 * Node's first epoll descriptor. A count reaching past it would hand Node's own
 * descriptors to the container.
 */
export function checkPreservedFds(n: number | undefined): number {
  if (n === undefined) return 0;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PRESERVED_FDS) throw new ContainerError(`--preserve-fds: ${n} is not a count of descriptors from 0 to ${MAX_PRESERVED_FDS}`);
  for (let fd = 3; fd < 3 + n; fd++) {
    let link: string;
    try {
      link = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      throw new ContainerError(`--preserve-fds ${n}: descriptor ${fd} is not open`);
    }
    if (link === 'anon_inode:[eventpoll]') throw new ContainerError(`--preserve-fds ${n}: descriptor ${fd} was not passed to tvisor`);
  }
  return n;
}

/** SANDBOX_EXIT_TIMEOUT_MS bounds how long an undo waits for a killed sandbox to exit. */
export const SANDBOX_EXIT_TIMEOUT_MS = 10_000;

/**
 * loadBundle reads and validates `<bundle>/config.json` and checks the root filesystem;
 * `podId` is the pod sandbox a pod's container joins (`podFor`, pod.ts), whose namespace
 * paths are checked against that sandbox at create.
 */
export function loadBundle(bundle: string, podFor: (spec: Spec) => string | undefined = podSandboxId): { spec: Spec; rootfs: string; podId?: string } {
  let text: string;
  try {
    text = fs.readFileSync(path.join(bundle, 'config.json'), 'utf8');
  } catch (err) {
    throw new ContainerError(`bundle ${bundle}: cannot read config.json: ${(err as NodeJS.ErrnoException).code ?? err}`, { cause: err });
  }
  const spec = parseConfig(text);
  const podId = podFor(spec);
  if (podId === undefined) validateNamespacePaths(spec);
  validateProcessUser(spec);
  validateSysctl(spec);
  const rootfs = path.resolve(bundle, spec.root!.path);
  let isDir = false;
  try {
    isDir = fs.statSync(rootfs).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new ContainerError(`config.json: root.path: ${rootfs} is not a directory`);
  return { spec, rootfs, podId };
}

/** createContainer creates a container and returns it in status `created`. */
export async function createContainer(env: ContainerEnv, opts: CreateOptions): Promise<Container> {
  const id = validateID(opts.id);
  checkPreservedFds(opts.preserveFds);
  const bundle = path.resolve(opts.bundle);
  const { spec, rootfs, podId } = loadBundle(bundle, (s) => podSandboxId(s) ?? podByNamespacePath(env.store, s));
  const pod = podId === undefined ? undefined : podOf(env, podId, spec);
  profileMark('bundle-validated');
  if (spec.process!.terminal && !opts.consoleSocket) {
    throw new ContainerError('config.json: process.terminal is true but no --console-socket was given');
  }
  if (!spec.process!.terminal && opts.consoleSocket) {
    throw new ContainerError('--console-socket was given but config.json: process.terminal is not true');
  }
  const record: ContainerRecord = {
    ociVersion: spec.ociVersion ?? OCI_VERSION, id, status: 'creating', bundle, rootfs,
    created: new Date().toISOString(), owner: ownerName(), annotations: spec.annotations ?? {},
  };

  const undo: (() => Promise<void> | void)[] = [];
  const createdRoot = env.store.ensureRoot();
  if (createdRoot) undo.push(() => fs.rmdirSync(env.store.root));
  let lock: FileLock | undefined;
  try {
    lock = await env.store.reserve(record, spec);
    profileMark('state-reserved');
    const c = new Container(env, record, lock);
    undo.push(() => env.store.remove(id));
    await spawnAndPrepare(c, spec, rootfs, opts, undo, pod);
    return c;
  } catch (err) {
    // Undo in reverse order, still holding the lock until the directory is gone.
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch (undoErr) {
        env.log.warn(`create ${id}: undo step failed: ${(undoErr as Error).message}`);
      }
    }
    throw err;
  } finally {
    lock?.release();
  }
}

/** podOf finds the running pod sandbox container `podId` that a pod's container joins (pod.ts). */
function podOf(env: ContainerEnv, podId: string, spec: Spec): PodRef {
  let pod: Container;
  try {
    pod = Container.load(env, podId);
  } catch (e) {
    throw new ContainerError(`config.json: the pod's sandbox container "${podId}" does not exist`, { cause: e });
  }
  const status = pod.status();
  if (status !== 'created' && status !== 'running') throw new ContainerError(`the pod's sandbox container "${podId}" is ${status}`);
  if (typeof pod.record.sandbox?.pod === 'string') throw new ContainerError(`container "${podId}" is itself a container of pod "${pod.record.sandbox.pod}", not a pod's sandbox`);
  const ref = pod.sandboxRef();
  const out: PodRef = { id: podId, pid: ref.pid, stateDir: ref.stateDir, cgroup: ref.data?.cgroup };
  validateMemberNamespaces(spec, out);
  return out;
}

async function spawnAndPrepare(c: Container, spec: Spec, rootfs: string, opts: CreateOptions, undo: (() => Promise<void> | void)[], pod?: PodRef): Promise<void> {
  const { env, record } = c;
  const hooks = spec.hooks ?? {};
  const atOnce = Boolean(opts.startAtOnce) && !opts.pidFile && Object.values(hooks).every((h) => !h?.length);
  // The sandbox's host processes inherit process.oomScoreAdj from this one (oom-score.ts).
  const handle = await withOomScoreAdj(spec.process!.oomScoreAdj, () => env.sandbox.spawn({
    id: c.id, bundle: record.bundle, rootfs, spec, stateDir: c.sandboxDir, consoleSocket: opts.consoleSocket, preserveFds: opts.preserveFds, startAtOnce: atOnce, processEnv: opts.processEnv, pod, log: env.log,
  }));
  profileMark('sandbox-ready');
  record.pid = handle.pid;
  record.pidStartTime = processStartTime(handle.pid);
  record.sandbox = handle.data;
  const ref: SandboxRef = c.sandboxRef();
  undo.push(async () => {
    await env.sandbox.signal(ref, 9, true).catch(() => {});
    await env.sandbox.wait(ref, SANDBOX_EXIT_TIMEOUT_MS);
    await env.sandbox.destroy(ref);
  });
  c.save();

  try {
    const state = c.ociState('creating');
    await runHooks(spec.hooks, 'prestart', state, env.log);
    await runHooks(spec.hooks, 'createRuntime', state, env.log);
    await runHooks(spec.hooks, 'createContainer', state, env.log);
  } catch (err) {
    if (err instanceof HookError) {
      // runtime.md: stop the container, continue the lifecycle at delete (undo), then poststop.
      undo.unshift(() => runHooks(spec.hooks, 'poststop', c.ociState('stopped'), env.log));
    }
    throw err;
  }

  if (opts.pidFile) {
    const pidFile = path.resolve(opts.pidFile);
    writeAtomic(pidFile, String(handle.pid), 0o644);
    undo.push(() => fs.rmSync(pidFile, { force: true }));
  }
  record.status = atOnce ? 'running' : 'created';
  c.save();
  profileMark('state-saved');
}

/** ownerName returns the user name runc prints as a container's owner. */
function ownerName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '');
  }
}
