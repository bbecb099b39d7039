/**
 * pod.ts: which containers make a pod (several containers in one sandbox, as runsc runs a
 * Kubernetes pod; the sandbox's side is runtime/sandbox/pod-member.ts and
 * sentry/kernel/containers.ts).
 *
 * config.json's annotations, CRI's or CRI-O's names, say it:
 * `io.kubernetes.cri.container-type` (`io.kubernetes.cri-o.ContainerType`) `sandbox` starts
 * a sandbox as any container does; `container`, with `io.kubernetes.cri.sandbox-id`
 * (`io.kubernetes.cri-o.SandboxID`) naming a tvisor container under the same --root,
 * makes this container a member of that container's sandbox.
 *
 * Without those annotations, a config.json that names another tvisor container's
 * namespace (/proc/<its sandbox pid>/ns/{net,ipc,pid,uts}: Docker's `--network
 * container:X`, `--ipc container:X`, `--pid container:X`) joins that container's sandbox
 * the same way (podByNamespacePath): the sentry is the only place where X's localhost,
 * IPC and processes are.
 */
import type { Spec } from '../../oci/config';
import { ContainerError } from './errors';
import type { PodRef } from './sandbox';
import type { StateStore } from './store';

/** CONTAINER_TYPE and SANDBOX_ID are the annotations (CRI's, then CRI-O's) that make a pod. */
const CONTAINER_TYPE = ['io.kubernetes.cri.container-type', 'io.kubernetes.cri-o.ContainerType'];
const SANDBOX_ID = ['io.kubernetes.cri.sandbox-id', 'io.kubernetes.cri-o.SandboxID'];

/** podSandboxId returns the id of the container whose sandbox `spec`'s container joins, or undefined for a container of its own. */
export function podSandboxId(spec: Spec): string | undefined {
  const a = spec.annotations ?? {};
  const type = CONTAINER_TYPE.map((k) => a[k]).find((v) => v !== undefined);
  if (type !== 'container') return undefined;
  const id = SANDBOX_ID.map((k) => a[k]).find((v) => v !== undefined);
  if (!id) throw new ContainerError(`config.json: annotation ${CONTAINER_TYPE[0]} is "container" but no ${SANDBOX_ID[0]} names its sandbox`);
  return id;
}

/**
 * validateMemberNamespaces checks a member's namespace paths: a network namespace may be
 * any (the pod's, which the sentry already serves), the others must be the pod's sandbox
 * process's (/proc/<pid>/ns/<type>, as containerd writes them), which the member then shares.
 */
export function validateMemberNamespaces(spec: Spec, pod: PodRef): void {
  (spec.linux?.namespaces ?? []).forEach((n, i) => {
    if (n.path === undefined || n.type === 'network') return;
    const m = /^\/proc\/(\d+)\/ns\/[a-z_]+$/.exec(n.path);
    if (!m || Number(m[1]) !== pod.pid) {
      throw new ContainerError(`config.json: linux.namespaces[${i}]: cannot join the ${n.type} namespace at ${n.path}: a container of pod "${pod.id}" joins only its sandbox's (/proc/${pod.pid}/ns/...)`);
    }
  });
}


/** NS_PATH_RE matches a namespace path of a process, as Docker and containerd write them. */
const NS_PATH_RE = /^\/proc\/(\d+)\/ns\/(net|ipc|pid|uts)$/;

/**
 * podByNamespacePath returns the id of the tvisor container (under the same --root) whose
 * sandbox process a namespace path of `spec` names, or undefined when none does (a path
 * of any other process is joined as before). A pod's container's pid is its waiter
 * (sandbox/pod-member.ts): its pod's sandbox container is named.
 */
export function podByNamespacePath(store: StateStore, spec: Spec): string | undefined {
  const pids = new Set<number>();
  for (const n of spec.linux?.namespaces ?? []) {
    const m = n.path === undefined ? null : NS_PATH_RE.exec(n.path);
    if (m) pids.add(Number(m[1]));
  }
  if (pids.size === 0) return undefined;
  for (const id of store.list()) {
    try {
      const r = store.read(id);
      if (r.pid !== undefined && pids.has(r.pid)) return typeof r.sandbox?.pod === 'string' ? r.sandbox.pod : id;
    } catch {
      // a container being created or deleted meanwhile
    }
  }
  return undefined;
}
