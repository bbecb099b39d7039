/**
 * cri-client.ts is a small client of the Kubernetes Container Runtime Interface (CRI,
 * runtime.v1) over gRPC: the calls the CRI tests make of containerd's CRI plugin, as a
 * kubelet (or crictl, which Debian does not package) would make them. The messages come
 * from api.proto beside it, loaded at run time by @grpc/proto-loader with the proto's
 * own snake_case field names; int64 fields arrive as decimal strings, enums as their
 * names, bytes as Buffers.
 *
 * Every call has a deadline, and a failed call rejects with an Error naming the method
 * and carrying the gRPC status's details (containerd's own message).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as path from 'node:path';
import { REPO } from '../behaviour/runner';

/** PROTO is the CRI subset the client speaks (found from the repository root, so that a bundle of this module finds it too). */
export const PROTO = path.join(REPO, 'spec-tests', 'cri', 'api.proto');

/** NamespaceMode is the CRI's namespace sharing: POD, CONTAINER, NODE or TARGET. */
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

/** NamespaceOption chooses, per namespace, whom a sandbox or container shares it with. */
export interface NamespaceOption {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
  target_id?: string;
}

/** PodSandboxConfig is the part of runtime.v1's PodSandboxConfig the tests set. */
export interface PodSandboxConfig {
  metadata: { name: string; uid: string; namespace: string; attempt?: number };
  hostname?: string;
  log_directory?: string;
  dns_config?: { servers?: string[]; searches?: string[]; options?: string[] };
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: {
    cgroup_parent?: string;
    security_context?: { namespace_options?: NamespaceOption; privileged?: boolean; readonly_rootfs?: boolean };
    sysctls?: Record<string, string>;
  };
}

/** ContainerConfig is the part of runtime.v1's ContainerConfig the tests set. */
export interface ContainerConfig {
  metadata: { name: string; attempt?: number };
  image: { image: string };
  command?: string[];
  args?: string[];
  working_dir?: string;
  envs?: { key: string; value: string }[];
  mounts?: { container_path: string; host_path: string; readonly?: boolean }[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  log_path?: string;
  linux?: { security_context?: { namespace_options?: NamespaceOption; privileged?: boolean; readonly_rootfs?: boolean } };
}

/** ContainerState is a container's CRI state. */
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

/** ContainerStatus is runtime.v1's ContainerStatus as decoded (int64 as decimal strings). */
export interface ContainerStatus {
  id: string;
  metadata: { name: string; attempt: number } | null;
  state: ContainerState;
  created_at: string;
  started_at: string;
  finished_at: string;
  exit_code: number;
  reason: string;
  message: string;
  log_path: string;
}

/** PodSandboxStatus is runtime.v1's PodSandboxStatus as decoded. */
export interface PodSandboxStatus {
  id: string;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  network: { ip: string } | null;
  runtime_handler: string;
}

/** ExecSyncResult is what ExecSync answers: the command's output and exit code. */
export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exit_code: number;
}

/** ContainerStats is runtime.v1's ContainerStats as decoded (only the fields the tests read). */
export interface ContainerStats {
  attributes: { id: string } | null;
  cpu: { timestamp: string; usage_core_nano_seconds: { value: string } | null } | null;
  memory: { timestamp: string; working_set_bytes: { value: string } | null; usage_bytes: { value: string } | null } | null;
  writable_layer: { timestamp: string; used_bytes: { value: string } | null } | null;
}

/** CriError is a failed CRI call: the method, the gRPC status code and containerd's message. */
export class CriError extends Error {
  constructor(readonly method: string, readonly code: number, readonly details: string) {
    super(`CRI ${method} failed (${grpc.status[code] ?? code}): ${details}`);
    this.name = 'CriError';
  }
}

type Unary = (req: object, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

let packageCache: grpc.GrpcObject | undefined;

/** loadPackage loads api.proto once (field names kept as written, int64 as strings). */
function loadPackage(): grpc.GrpcObject {
  if (!packageCache) {
    const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: String, bytes: Buffer, defaults: true, oneofs: true });
    packageCache = grpc.loadPackageDefinition(def);
  }
  return packageCache;
}

/**
 * CriClient speaks the CRI's RuntimeService and ImageService on a Unix socket (containerd's
 * grpc address). `close` releases the channel.
 */
export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly image: grpc.Client;

  /** socket is the daemon's gRPC Unix socket path; timeoutMs bounds each call. */
  constructor(readonly socket: string, readonly timeoutMs = 60_000) {
    const v1 = (loadPackage().runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
    const Runtime = v1.RuntimeService as grpc.ServiceClientConstructor;
    const Image = v1.ImageService as grpc.ServiceClientConstructor;
    // Unix sockets carry no TLS; the daemon is ours, on a path only root can reach.
    const creds = grpc.credentials.createInsecure();
    this.runtime = new Runtime(`unix://${socket}`, creds);
    this.image = new Image(`unix://${socket}`, creds);
  }

  /** call makes one unary call of `method` on `client`, bounded by `timeoutMs`. */
  private call<T>(client: grpc.Client, method: string, req: object, timeoutMs = this.timeoutMs): Promise<T> {
    const fn = (client as unknown as Record<string, Unary>)[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`CRI client: no method ${method} in ${PROTO}`));
    return new Promise<T>((resolve, reject) => {
      fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(new CriError(method, err.code, err.details || err.message));
        else resolve(res as T);
      });
    });
  }

  /** version answers the runtime's name and versions (Version). */
  version(): Promise<{ version: string; runtime_name: string; runtime_version: string; runtime_api_version: string }> {
    return this.call(this.runtime, 'Version', { version: 'v1' });
  }

  /** runPodSandbox creates and starts a pod under `handler` and returns its id (RunPodSandbox). */
  async runPodSandbox(config: PodSandboxConfig, handler: string): Promise<string> {
    const r = await this.call<{ pod_sandbox_id: string }>(this.runtime, 'RunPodSandbox', { config, runtime_handler: handler }, 120_000);
    return r.pod_sandbox_id;
  }

  /** stopPodSandbox stops every container of the pod and the sandbox, and tears down its network. */
  async stopPodSandbox(podId: string): Promise<void> {
    await this.call(this.runtime, 'StopPodSandbox', { pod_sandbox_id: podId }, 120_000);
  }

  /** removePodSandbox removes a stopped pod and its containers. */
  async removePodSandbox(podId: string): Promise<void> {
    await this.call(this.runtime, 'RemovePodSandbox', { pod_sandbox_id: podId });
  }

  /** podSandboxStatus answers a pod's status and, verbose, containerd's info (JSON under "info"). */
  podSandboxStatus(podId: string, verbose = false): Promise<{ status: PodSandboxStatus; info: Record<string, string> }> {
    return this.call(this.runtime, 'PodSandboxStatus', { pod_sandbox_id: podId, verbose });
  }

  /** createContainer creates a container in a pod and returns its id. */
  async createContainer(podId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const r = await this.call<{ container_id: string }>(this.runtime, 'CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: sandboxConfig });
    return r.container_id;
  }

  /** startContainer starts a created container. */
  async startContainer(id: string): Promise<void> {
    await this.call(this.runtime, 'StartContainer', { container_id: id });
  }

  /** stopContainer sends the stop signal, then SIGKILL after `timeoutS` seconds. */
  async stopContainer(id: string, timeoutS = 10): Promise<void> {
    await this.call(this.runtime, 'StopContainer', { container_id: id, timeout: timeoutS }, (timeoutS + 60) * 1000);
  }

  /** removeContainer removes a container (stopping it first if it runs). */
  async removeContainer(id: string): Promise<void> {
    await this.call(this.runtime, 'RemoveContainer', { container_id: id });
  }

  /** listContainers lists the containers, of one pod when `podId` is given. */
  async listContainers(podId?: string): Promise<{ id: string; pod_sandbox_id: string; state: ContainerState; metadata: { name: string } | null }[]> {
    const r = await this.call<{ containers: { id: string; pod_sandbox_id: string; state: ContainerState; metadata: { name: string } | null }[] }>(
      this.runtime, 'ListContainers', { filter: podId ? { pod_sandbox_id: podId } : {} });
    return r.containers;
  }

  /** containerStatus answers a container's status and, verbose, containerd's info (the pid, the spec). */
  containerStatus(id: string, verbose = false): Promise<{ status: ContainerStatus; info: Record<string, string> }> {
    return this.call(this.runtime, 'ContainerStatus', { container_id: id, verbose });
  }

  /** execSync runs `cmd` in a running container and waits for it (at most `timeoutS` seconds). */
  execSync(id: string, cmd: string[], timeoutS = 30): Promise<ExecSyncResult> {
    return this.call(this.runtime, 'ExecSync', { container_id: id, cmd, timeout: timeoutS }, (timeoutS + 30) * 1000);
  }

  /** containerStats answers a container's CPU, memory and writable-layer usage. */
  async containerStats(id: string): Promise<ContainerStats> {
    const r = await this.call<{ stats: ContainerStats }>(this.runtime, 'ContainerStats', { container_id: id });
    return r.stats;
  }

  /** listImages lists the images the CRI sees (containerd's k8s.io namespace). */
  async listImages(): Promise<{ id: string; repo_tags: string[]; size: string }[]> {
    const r = await this.call<{ images: { id: string; repo_tags: string[]; size: string }[] }>(this.image, 'ListImages', {});
    return r.images;
  }

  /** imageStatus answers an image's id and tags, or null when the CRI does not know it. */
  async imageStatus(ref: string): Promise<{ id: string; repo_tags: string[] } | null> {
    const r = await this.call<{ image: { id: string; repo_tags: string[] } | null }>(this.image, 'ImageStatus', { image: { image: ref } });
    return r.image;
  }

  /** close closes both channels. */
  close(): void {
    this.runtime.close();
    this.image.close();
  }
}
