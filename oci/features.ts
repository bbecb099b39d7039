/**
 * features.ts holds the OCI features document (runtime-spec features.md) and the one
 * tvisor reports through `tvisor features`. It lists what tvisor accepts in config.json;
 * fields it cannot vouch for yet are left out, which the spec reads as "unknown".
 */
import { HOOK_NAMES, NAMESPACE_TYPES, OCI_VERSION, OCI_VERSION_MIN } from './config';

/** Features is the OCI features document. */
export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks?: string[];
  mountOptions?: string[];
  linux?: {
    namespaces?: string[];
    capabilities?: string[];
    cgroup?: { v1?: boolean; v2?: boolean; systemd?: boolean; systemdUser?: boolean; rdma?: boolean };
    seccomp?: { enabled?: boolean; actions?: string[]; operators?: string[]; archs?: string[]; knownFlags?: string[]; supportedFlags?: string[] };
    apparmor?: { enabled?: boolean };
    selinux?: { enabled?: boolean };
    intelRdt?: { enabled?: boolean };
    mountExtensions?: { idmap?: { enabled?: boolean } };
  };
  annotations?: Record<string, string>;
  potentiallyUnsafeConfigAnnotations?: string[];
}

/** MOUNT_OPTIONS are the mount options tvisor understands (the sentry's VFS applies them). */
export const MOUNT_OPTIONS = [
  'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'noatime', 'nodev',
  'nodiratime', 'noexec', 'norelatime', 'nostrictatime', 'nosuid', 'private', 'rbind', 'relatime',
  'remount', 'ro', 'rprivate', 'rshared', 'rslave', 'runbindable', 'rw', 'shared', 'slave',
  'strictatime', 'suid', 'sync', 'unbindable',
];

/** CAPABILITIES are the Linux capability names tvisor accepts (up to CAP_CHECKPOINT_RESTORE). */
export const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** SECCOMP_ACTIONS are the seccomp actions config.json may use. */
export const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG',
];

/** SECCOMP_OPERATORS are the seccomp argument comparisons config.json may use. */
export const SECCOMP_OPERATORS = [
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
];

/** tvisorFeatures returns the features document `tvisor features` prints. */
export function tvisorFeatures(version: string): Features {
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_NAMES],
    mountOptions: [...MOUNT_OPTIONS],
    linux: {
      namespaces: [...NAMESPACE_TYPES].filter((n) => n !== 'time'),
      capabilities: [...CAPABILITIES],
      cgroup: { v1: false, v2: false, systemd: false, systemdUser: false, rdma: false },
      seccomp: { enabled: true, actions: [...SECCOMP_ACTIONS], operators: [...SECCOMP_OPERATORS], archs: ['SCMP_ARCH_X86_64'] },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
    },
    annotations: { 'dev.tvisor.version': version },
  };
}
