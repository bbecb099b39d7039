/**
 * The /proc entries about hardware and kernel internals that the sandbox has none of, as
 * Linux shows a machine without them: empty directories for its buses (bus), file systems
 * with /proc state (fs), interrupts (irq) and ACPI (acpi); an empty keys list (the sandbox
 * has no keyrings: add_key and keyctl are not implemented); timer_list's header with the
 * sandbox's monotonic clock and no timers (the sentry's timers are not per-CPU hrtimers).
 * They exist so that runc's default maskedPaths and readonlyPaths (/proc/acpi, keys,
 * timer_list masked; bus, fs, irq read-only) apply to them as under runc, where each is
 * present on every host.
 */
import { CLOCK_MONOTONIC, nowNs } from '../../kernel/timekeeper';
import type { Inode } from '../../vfs/inode';
import { ProcDir, ProcFile, type ProcFs } from './nodes';

/** timerListText is /proc/timer_list's header in the format of the kernel release the
 * sandbox reports (UTS_RELEASE 4.4: version v0.8, four clock bases; kernel/time/timer_list.c). */
function timerListText(): string {
  return `Timer List Version: v0.8\nHRTIMER_MAX_CLOCK_BASES: 4\nnow at ${nowNs(CLOCK_MONOTONIC)} nsecs\n\n`;
}

/** hardwareEntries adds /proc's acpi, bus, fs, irq, keys and timer_list to a listing of /proc. */
export function hardwareEntries(pfs: ProcFs, m: Map<string, () => Inode>): void {
  const empty = () => new Map<string, () => Inode>();
  for (const name of ['acpi', 'bus', 'fs', 'irq']) m.set(name, () => new ProcDir(pfs, `/${name}`, empty));
  m.set('keys', () => new ProcFile(pfs, '/keys', () => ''));
  // Linux makes timer_list readable by root only.
  m.set('timer_list', () => new ProcFile(pfs, '/timer_list', timerListText, undefined, 0o400));
}
