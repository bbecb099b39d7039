/**
 * container.ts is the OCI container as tvisor's commands see it: a record under --root
 * (store.ts) plus the sandbox that runs it (sandbox.ts). Each operation lives in its own
 * file (container-create.ts, container-start.ts, ...); this class ties them together and
 * owns the status rules.
 *
 * Status (runtime.md "State"): the recorded status is what the last command wrote; the
 * live status also asks whether the recorded pid still names the sandbox process (same
 * /proc start time, not a zombie). A created or running container whose process is gone
 * is stopped. A `creating` record whose lock nobody holds is a create that died: stopped.
 *
 * Locking: mutating operations run inside `Container.locked`, which holds the container's
 * flock for the whole operation (lock.ts).
 */
import * as path from 'node:path';
import type { Logger } from '../log';
import type { Spec } from '../../oci/config';
import type { State, StateOutput, Status } from '../../oci/state';
import { NotExistError } from './errors';
import { validateID } from './id';
import { isLocked, type FileLock } from './lock';
import { isProcessAlive } from './proc';
import type { Sandbox, SandboxRef } from './sandbox';
import type { ContainerRecord, StateStore } from './store';

/** ContainerEnv is what every container operation works with. */
export interface ContainerEnv {
  store: StateStore;
  sandbox: Sandbox;
  log: Logger;
}

/** Container is one container under --root, loaded from its record. */
export class Container {
  constructor(readonly env: ContainerEnv, public record: ContainerRecord, private lock?: FileLock) {}

  /** Container.load reads container `id` without locking it (for state and list). */
  static load(env: ContainerEnv, id: string): Container {
    validateID(id);
    return new Container(env, env.store.read(id));
  }

  /**
   * Container.locked runs `fn` on container `id` while holding its lock, and releases the
   * lock however `fn` ends. NotExistError when there is no such container.
   */
  static async locked<T>(env: ContainerEnv, id: string, fn: (c: Container) => Promise<T>): Promise<T> {
    validateID(id);
    const lock = await env.store.lock(id);
    try {
      return await fn(new Container(env, env.store.read(id), lock));
    } finally {
      lock.release();
    }
  }

  /** id is the container id. */
  get id(): string {
    return this.record.id;
  }

  /** dir is the container's directory under --root. */
  get dir(): string {
    return this.env.store.dir(this.id);
  }

  /** sandboxDir is the directory handed to the sandbox: `dir` or its short alias (store.ts). */
  get sandboxDir(): string {
    return this.env.store.sandboxDir(this.id);
  }

  /** status returns the live OCI status (see the module comment). */
  status(): Status {
    const r = this.record;
    switch (r.status) {
      case 'creating':
        return !this.lock && isLocked(path.join(this.dir, 'lock')) ? 'creating' : 'stopped';
      case 'created':
      case 'running':
      case 'paused':
        return r.pid !== undefined && isProcessAlive(r.pid, r.pidStartTime) ? r.status : 'stopped';
      default:
        return 'stopped';
    }
  }

  /** ociState returns the OCI state JSON (what hooks read), with `status` overridable. */
  ociState(status: Status = this.status()): State {
    const r = this.record;
    const state: State = { ociVersion: r.ociVersion, id: r.id, status, bundle: r.bundle, annotations: r.annotations ?? {} };
    if (r.pid !== undefined && status !== 'stopped') state.pid = r.pid;
    return state;
  }

  /**
   * startedState is the state poststart hooks read: `running` with the pid, as at the
   * moment start returned, even if the process has already exited since (as runc does).
   */
  startedState(): State {
    const state = this.ociState('running');
    if (this.record.pid !== undefined) state.pid = this.record.pid;
    return state;
  }

  /** stateOutput returns what `tvisor state` prints (runc's fields; pid 0 once stopped). */
  stateOutput(): StateOutput {
    const r = this.record;
    const status = this.status();
    return {
      ociVersion: r.ociVersion, id: r.id, pid: status === 'stopped' ? 0 : r.pid ?? 0, status, bundle: r.bundle,
      rootfs: r.rootfs, created: r.created, owner: r.owner, annotations: r.annotations ?? {},
    };
  }

  /** config returns the config saved when the container was created. */
  config(): Spec {
    return this.env.store.readConfig(this.id);
  }

  /** sandboxRef names this container's sandbox for the Sandbox interface. */
  sandboxRef(): SandboxRef {
    const r = this.record;
    if (r.pid === undefined) throw new NotExistError(r.id);
    // A pod member's sandbox is its pod's (sandbox/pod-member.ts): reached in the pod's directory.
    const podDir = r.sandbox?.podStateDir;
    return { id: r.id, pid: r.pid, pidStartTime: r.pidStartTime, stateDir: typeof podDir === 'string' ? podDir : this.sandboxDir, data: r.sandbox };
  }

  /** save writes the record; the caller holds the lock. */
  save(): void {
    this.env.store.write(this.record);
  }
}
