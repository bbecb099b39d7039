/**
 * The namespace's protocol counters (/proc/net/snmp and /proc/net/netstat), which no
 * netlink request reports: the sentry opens its own /proc/thread-self/net files before
 * confinement (it runs in the sandbox's network namespace, so they are that namespace's)
 * and re-reads each from offset 0 with pread when the sandbox reads its copy. A seq file
 * read at offset 0 is generated afresh, so the values are live.
 */
import * as fs from 'node:fs';

/** HOST_NET_FILES are the files kept open, by their name under /proc/net. */
export const HOST_NET_FILES = ['snmp', 'netstat'] as const;

/** HostNetFile names one of them. */
export type HostNetFile = (typeof HOST_NET_FILES)[number];

const fds = new Map<HostNetFile, number>();

/** openHostNetFiles opens the files; called once at start-up, before confinement. */
export function openHostNetFiles(): void {
  for (const name of HOST_NET_FILES) {
    if (fds.has(name)) continue;
    try {
      fds.set(name, fs.openSync(`/proc/thread-self/net/${name}`, 'r') /* libuv opens close-on-exec */);
    } catch {
      // Without it the sandbox's file reads empty.
    }
  }
}

const MAX = 64 << 10;

/** hostNetFile returns the current text of the namespace's /proc/net/`name` ('' when unavailable). */
export function hostNetFile(name: HostNetFile): string {
  const fd = fds.get(name);
  if (fd === undefined) return '';
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
    return '';
  }
  return buf.subarray(0, got).toString('latin1');
}
