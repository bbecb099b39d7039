/**
 * The names of config.json's linux.sysctl keys, read as runc and sysctl(8) read them;
 * shared by the runtime (validation at create) and the sentry (applying them at boot).
 */

/** sysctlDotted is runc's convertSysctlVariableToDotsSeparator: a key whose first
 * separator is '/' ("net/ipv4/conf/eth0.1/rp_filter") has its '/' and '.' swapped. */
export function sysctlDotted(key: string): string {
  const first = key.search(/[./]/);
  if (first < 0 || key[first] === '.') return key;
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/** sysctlPath is a key's path under /proc/sys ("net.ipv4.ip_forward" gives
 * "net/ipv4/ip_forward"), or null for a key with an empty, "." or ".." component. */
export function sysctlPath(key: string): string | null {
  const parts = sysctlDotted(key).split('.').map((p) => p.replace(/\//g, '.'));
  return parts.some((p) => p === '' || p === '.' || p === '..') ? null : parts.join('/');
}

/** invalidSysctlKey is the one-line error for a key sysctlPath refuses. */
export function invalidSysctlKey(key: string): string {
  return `sysctl ${JSON.stringify(key)}: not a valid name (an empty, "." or ".." component)`;
}
