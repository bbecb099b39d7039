/**
 * The namespace's protocol counters (/proc/net/snmp and /proc/net/netstat) and a few of
 * its sysctls (/proc/sys/net: NAMESPACE_SYSCTLS), which no netlink request reports: the
 * sentry opens its own /proc files before confinement (it runs in the sandbox's network
 * namespace, so they are that namespace's) and re-reads each from offset 0 with pread
 * when the sandbox reads its copy. A proc file read at offset 0 is generated afresh, so
 * the values are live.
 */
import * as fs from 'node:fs';

/** HOST_NET_FILES are the files kept open, by their name under /proc/net. */
export const HOST_NET_FILES = ['snmp', 'netstat'] as const;

/** HostNetFile names one of them. */
export type HostNetFile = (typeof HOST_NET_FILES)[number];

/**
 * NAMESPACE_SYSCTLS are the network namespace's sysctls the sandbox's /proc/sys shows
 * (fsimpl/proc/sysctl.ts), by path under /proc/sys, each with Linux's default for when
 * the host's cannot be read: what servers and runtimes read (listen backlogs, buffer
 * sizes, keepalive and FIN timers).
 */
export const NAMESPACE_SYSCTLS: ReadonlyMap<string, string> = new Map([
  ['net/core/somaxconn', '4096'], ['net/core/rmem_default', '212992'], ['net/core/rmem_max', '212992'],
  ['net/core/wmem_default', '212992'], ['net/core/wmem_max', '212992'], ['net/ipv4/tcp_keepalive_time', '7200'],
  ['net/ipv4/tcp_keepalive_intvl', '75'], ['net/ipv4/tcp_keepalive_probes', '9'], ['net/ipv4/tcp_fin_timeout', '60'],
  ['net/ipv4/tcp_syncookies', '1'], ['net/ipv4/tcp_timestamps', '1'], ['net/ipv4/tcp_sack', '1'],
  ['net/ipv4/tcp_max_syn_backlog', '128'], ['net/ipv4/tcp_rmem', '4096\t131072\t6291456'],
  ['net/ipv4/tcp_wmem', '4096\t16384\t4194304'],
]);

const fds = new Map<string, number>();

/** openHostNetFiles opens the files; called once at start-up, before confinement. */
export function openHostNetFiles(): void {
  const paths = [...HOST_NET_FILES.map((n) => `/proc/thread-self/net/${n}`), ...[...NAMESPACE_SYSCTLS.keys()].map((p) => `/proc/sys/${p}`)];
  for (const path of paths) {
    if (fds.has(path)) continue;
    try {
      fds.set(path, fs.openSync(path, 'r') /* libuv opens close-on-exec */);
    } catch {
      // Without it the sandbox's file reads empty (a sysctl: Linux's default).
    }
  }
}

const MAX = 64 << 10;

/** hostNetFile returns the current text of the namespace's /proc/net/`name` ('' when unavailable). */
export function hostNetFile(name: HostNetFile): string {
  return readKept(`/proc/thread-self/net/${name}`) ?? '';
}

/** namespaceSysctl returns the namespace's value of sysctl `path` (one of NAMESPACE_SYSCTLS), without its newline. */
export function namespaceSysctl(path: string): string {
  return readKept(`/proc/sys/${path}`)?.replace(/\n$/, '') || (NAMESPACE_SYSCTLS.get(path) ?? '');
}

/** readKept re-reads a kept file from offset 0, or null when it was not opened or fails. */
function readKept(path: string): string | null {
  const fd = fds.get(path);
  if (fd === undefined) return null;
  const buf = Buffer.alloc(MAX);
  let got = 0;
  try {
    // SAFETY: pread64 into a Buffer of MAX bytes at offsets within it; the descriptor is the sentry's own.
    for (;;) {
      const n = fs.readSync(fd, buf, got, MAX - got, got);
      if (n <= 0 || got + n >= MAX) { got += Math.max(n, 0); break; }
      got += n;
    }
  } catch {
    return null;
  }
  return buf.subarray(0, got).toString('latin1');
}
