/**
 * validateSysctl checks config.json's linux.sysctl at create with runc's rules (its
 * libcontainer/configs/validate sysctl check) and runc's error texts, before anything
 * exists: System V IPC keys and fs.mqueue.* need an IPC namespace, net.* a network
 * namespace other than the runtime's, kernel.domainname a UTS namespace (kernel.hostname
 * conflicts with the OCI hostname field), user.* a user namespace; every other key is
 * refused. A key with an empty, "." or ".." component is refused too (runc would write
 * outside the entry it names). The sentry then applies the values (sentry/fsimpl/proc/sysctl.ts).
 */
import * as fs from 'node:fs';
import type { Spec } from '../../oci/config';
import { invalidSysctlKey, sysctlDotted, sysctlPath } from '../../oci/sysctl-key';
import { ContainerError } from './errors';

/** IPC_SYSCTLS are the System V IPC keys runc allows with an IPC namespace. */
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

/** isHostNetns tells whether the network namespace at `nsPath` is this process's own. */
function isHostNetns(nsPath: string): boolean {
  try {
    const a = fs.statSync(nsPath), b = fs.statSync('/proc/self/ns/net');
    return a.dev === b.dev && a.ino === b.ino;
  } catch (e) {
    throw new ContainerError(`invalid netns path: ${(e as Error).message}`, { cause: e });
  }
}

/** validateSysctl throws runc's one-line error for the first key runc would refuse. */
export function validateSysctl(spec: Spec): void {
  const namespaces = spec.linux?.namespaces ?? [];
  const has = (type: string) => namespaces.some((n) => n.type === type);
  let hostnet: boolean | undefined;
  for (const key of Object.keys(spec.linux?.sysctl ?? {})) {
    if (sysctlPath(key) === null) throw new ContainerError(invalidSysctlKey(key));
    const s = sysctlDotted(key);
    if (IPC_SYSCTLS.has(s) || s.startsWith('fs.mqueue.')) {
      if (has('ipc')) continue;
      throw new ContainerError(`sysctl ${JSON.stringify(s)} is not allowed in the hosts ipc namespace`);
    }
    if (s.startsWith('net.')) {
      if (hostnet === undefined) {
        const net = namespaces.find((n) => n.type === 'network');
        hostnet = !net ? true : net.path ? isHostNetns(net.path) : false;
      }
      if (hostnet) throw new ContainerError(`sysctl ${JSON.stringify(s)} not allowed in host network namespace`);
      continue;
    }
    if (has('uts')) {
      if (s === 'kernel.domainname') continue;
      if (s === 'kernel.hostname') throw new ContainerError(`sysctl ${JSON.stringify(s)} is not allowed as it conflicts with the OCI "hostname" field`);
    }
    if (s.startsWith('user.')) {
      if (has('user')) continue;
      throw new ContainerError(`setting ucounts without a user namespace not allowed: ${s}`);
    }
    throw new ContainerError(`sysctl ${JSON.stringify(s)} is not in a separate kernel namespace`);
  }
}
