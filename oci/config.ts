/**
 * config.ts holds the types of an OCI bundle's config.json (runtime-spec 1.2, config.md
 * and config-linux.md). There is no OCI types package on npm; these follow the spec's Go
 * bindings (specs-go/config.go) field for field, Linux and POSIX parts only.
 *
 * Every field is optional unless the spec marks it REQUIRED; `validateConfig` (validate.ts)
 * checks a parsed file against these shapes before anything trusts it.
 */

/** OCI_VERSION is the runtime-spec version tvisor implements (and writes in `spec`). */
export const OCI_VERSION = '1.2.0';

/** OCI_VERSION_MIN is the oldest runtime-spec version tvisor accepts in config.json. */
export const OCI_VERSION_MIN = '1.0.0';

/** Spec is the whole config.json. */
export interface Spec {
  ociVersion: string;
  process?: Process;
  root?: Root;
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: Linux;
}

/** Process is the container's init process (`process`). */
export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: User;
  args?: string[];
  commandLine?: string;
  env?: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
  ioPriority?: { class: string; priority: number };
  scheduler?: Record<string, unknown>;
  execCPUAffinity?: { initial?: string; final?: string };
}

/** User is the identity the process runs as (`process.user`). */
export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

/** Capabilities are the capability sets of the process (`process.capabilities`). */
export interface Capabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

/** Rlimit is one resource limit (`process.rlimits[]`). */
export interface Rlimit {
  type: string;
  soft: number;
  hard: number;
}

/** Root is the container's root filesystem (`root`). */
export interface Root {
  path: string;
  readonly?: boolean;
}

/** Mount is one entry of `mounts`. */
export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  uidMappings?: IDMapping[];
  gidMappings?: IDMapping[];
}

/** Hook is one command run at a lifecycle point (`hooks.<name>[]`). */
export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

/** HOOK_NAMES lists the lifecycle hooks in the order the lifecycle reaches them. */
export const HOOK_NAMES = [
  'prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop',
] as const;

/** HookName is one of the lifecycle hook lists. */
export type HookName = (typeof HOOK_NAMES)[number];

/** Hooks are the hook lists of config.json (`hooks`). */
export type Hooks = Partial<Record<HookName, Hook[]>>;

/** IDMapping maps a range of ids between the container and the host. */
export interface IDMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** NAMESPACE_TYPES are the Linux namespace kinds config.json may name. */
export const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;

/** LinuxNamespace is one entry of `linux.namespaces`. */
export interface LinuxNamespace {
  type: (typeof NAMESPACE_TYPES)[number];
  path?: string;
}

/** LinuxDevice is a device node to create in the container (`linux.devices[]`). */
export interface LinuxDevice {
  type: string;
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** LinuxDeviceCgroup is one device cgroup rule (`linux.resources.devices[]`). */
export interface LinuxDeviceCgroup {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

/** LinuxResources are the cgroup limits (`linux.resources`). */
export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: { limit?: number; reservation?: number; swap?: number; kernel?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; realtimeRuntime?: number; realtimePeriod?: number; cpus?: string; mems?: string; idle?: number };
  pids?: { limit: number };
  blockIO?: Record<string, unknown>;
  hugepageLimits?: { pageSize: string; limit: number }[];
  network?: Record<string, unknown>;
  rdma?: Record<string, unknown>;
  unified?: Record<string, string>;
}

/** LinuxSeccompArg is one argument condition of a seccomp rule. */
export interface LinuxSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

/** LinuxSyscall is one seccomp rule (`linux.seccomp.syscalls[]`). */
export interface LinuxSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}

/** LinuxSeccomp is the seccomp filter of the container (`linux.seccomp`). */
export interface LinuxSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: LinuxSyscall[];
}

/** Linux is the Linux-specific part of config.json (`linux`). */
export interface Linux {
  namespaces?: LinuxNamespace[];
  uidMappings?: IDMapping[];
  gidMappings?: IDMapping[];
  timeOffsets?: Record<string, { secs?: number; nanosecs?: number }>;
  devices?: LinuxDevice[];
  cgroupsPath?: string;
  resources?: LinuxResources;
  rootfsPropagation?: string;
  seccomp?: LinuxSeccomp;
  sysctl?: Record<string, string>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  personality?: { domain: string; flags?: string[] };
  intelRdt?: Record<string, unknown>;
}
