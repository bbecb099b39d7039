/**
 * validateNamespacePaths checks config.json's linux.namespaces[].path at create, before
 * anything exists. The sentry is the container's kernel: it keeps its own pid, mount,
 * ipc, uts, user, cgroup and time namespaces whatever the spec says, so the only path it
 * can honour is a network namespace's (its host processes run there: sandbox/netns.ts).
 *   - a path that does not exist: runc's text ("namespace path: lstat P: no such file or
 *     directory");
 *   - a path that is not a namespace of the entry's type (NS_GET_NSTYPE, ioctl_ns(2)):
 *     refused, naming both (runc fails later with an unexplained setns EINVAL);
 *   - a real namespace of another type than network: refused, naming the namespace and
 *     the path, as one the sandbox cannot join.
 */
import * as fs from 'node:fs';
import type { LinuxNamespace, Spec } from '../../oci/config';
import { errnoDescription, libcFunc } from '../../native/libc';
import { ContainerError } from './errors';

/** CLONE_FLAGS are the CLONE_NEW* value NS_GET_NSTYPE answers for each OCI namespace type. */
const CLONE_FLAGS: Record<LinuxNamespace['type'], number> = {
  mount: 0x00020000, cgroup: 0x02000000, uts: 0x04000000, ipc: 0x08000000,
  user: 0x10000000, pid: 0x20000000, network: 0x40000000, time: 0x00000080,
};

/** NS_GET_NSTYPE is _IO(0xb7, 0x3): the CLONE_NEW* type of a namespace file. */
const NS_GET_NSTYPE = 0xb703;

/** nsType returns the CLONE_NEW* type of the namespace file at path, or -1 when the file
 * is no namespace (or cannot be opened). */
function nsType(path: string): number {
  let fd = -1;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    // SAFETY: ioctl on a descriptor this function owns; NS_GET_NSTYPE takes no argument
    // and only returns a value; on a file that is no namespace it fails (ENOTTY/EINVAL).
    const r = libcFunc('int ioctl(int fd, unsigned long request)')(fd, NS_GET_NSTYPE) as number;
    return r < 0 ? -1 : r;
  } catch {
    return -1;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** validateNamespacePaths throws one clear line for the first namespace path the sandbox
 * cannot honour (see the module comment). */
export function validateNamespacePaths(spec: Spec): void {
  (spec.linux?.namespaces ?? []).forEach((n, i) => {
    if (n.path === undefined) return;
    try {
      fs.lstatSync(n.path);
    } catch (e) {
      const errno = Math.abs((e as NodeJS.ErrnoException).errno ?? 0);
      throw new ContainerError(`namespace path: lstat ${n.path}: ${errnoDescription(errno)}`, { cause: e });
    }
    const where = `config.json: linux.namespaces[${i}]`;
    if (nsType(n.path) !== CLONE_FLAGS[n.type]) {
      throw new ContainerError(`${where}.path: ${n.path} is not a namespace of type ${n.type}`);
    }
    if (n.type !== 'network') {
      throw new ContainerError(`${where}: cannot join the ${n.type} namespace at ${n.path}: the sandbox keeps its own ${n.type} namespace (only a network namespace path can be joined)`);
    }
  });
}
