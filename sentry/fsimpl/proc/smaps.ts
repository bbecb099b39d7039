/**
 * /proc/<pid>/smaps and smaps_rollup (fs/proc/task_mmu.c): smaps shows, per VMA in Linux
 * 6.1's layout, its /proc/<pid>/maps line and what it has resident
 * (MemoryManager.usageOf), and smaps_rollup the sums of those (MemoryManager.rollup), so
 * the two always agree (the rollup keeps the KSM row it had, which later kernels print). The sandbox has no swap, huge pages, KSM or lazy free; every
 * resident page counts as referenced.
 */
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../../platform';
import type { Task } from '../../kernel/task';
import { emptyUsage, mapsLine, type MemoryUsage } from '../../mm/mm';
import { PAGE, VSYSCALL_MAPS_LINE, type Vma } from '../../mm/vma';

/** USAGE_ROWS are the figures both files show, in Linux's order: name, source, and whether smaps (per VMA) shows it too. */
const USAGE_ROWS: [string, (u: MemoryUsage) => number, boolean][] = [
  ['Rss', (u) => u.rss, true], ['Pss', (u) => u.pss, true], ['Pss_Dirty', (u) => u.pssDirty, true],
  ['Pss_Anon', (u) => u.pssAnon, false], ['Pss_File', (u) => u.pssFile, false], ['Pss_Shmem', (u) => u.pssShmem, false],
  ['Shared_Clean', (u) => u.sharedClean, true], ['Shared_Dirty', (u) => u.sharedDirty, true],
  ['Private_Clean', (u) => u.privateClean, true], ['Private_Dirty', (u) => u.privateDirty, true],
  ['Referenced', (u) => u.rss, true], ['Anonymous', (u) => u.anon, true], ['KSM', () => 0, false], ['LazyFree', () => 0, true],
  ['AnonHugePages', () => 0, true], ['ShmemPmdMapped', () => 0, true], ['FilePmdMapped', () => 0, true],
  ['Shared_Hugetlb', () => 0, true], ['Private_Hugetlb', () => 0, true], ['Swap', () => 0, true], ['SwapPss', () => 0, true],
  ['Locked', (u) => u.locked, true],
];

/** row is one `Name:   value kB` line (Linux's "%-16s%8lu kB"; `unit` false: a bare number). */
function row(name: string, value: number, unit = true): string {
  return `${`${name}:`.padEnd(16)}${String(value).padStart(8)}${unit ? ' kB' : ''}`;
}

/** usageRows renders the figures of u that the file shows (smaps: per VMA), in kB. */
function usageRows(u: MemoryUsage, perVma: boolean): string[] {
  return USAGE_ROWS.filter(([, , inSmaps]) => inSmaps || !perVma).map(([name, get]) => row(name, Math.floor(get(u) / 1024)));
}

/**
 * vmFlags is smaps' VmFlags line for v, the mnemonics of Linux's VM_* bits in bit order:
 * rd wr ex (protection), sh (a shared mapping that may be written) ms (any shared one),
 * mr mw me (what mprotect may give: no mw for a file that may never be written, no me on a
 * noexec mount), gd (the stack), pf io de dd ([vvar]), de ([vdso]), lo (mlocked), dc
 * (MADV_DONTFORK), ac (accounted private writable memory), nr (MAP_NORESERVE).
 */
export function vmFlags(v: Vma): string {
  const f: string[] = [];
  const vvar = v.special && !(v.prot & PROT_EXEC);
  if (v.prot & PROT_READ) f.push('rd');
  if (v.prot & PROT_WRITE) f.push('wr');
  if (v.prot & PROT_EXEC) f.push('ex');
  if (v.shared && !v.special && !v.noWrite) f.push('sh');
  f.push('mr');
  if (!v.noWrite && !vvar) f.push('mw');
  if (!v.noExec && !vvar) f.push('me');
  if (v.shared && !v.special) f.push('ms');
  if (v.name === '[stack]') f.push('gd');
  if (vvar) f.push('pf');
  if (v.locked) f.push('lo');
  if (vvar) f.push('io');
  if (v.dontFork) f.push('dc');
  if (v.special) f.push('de');
  if (!v.shared && !v.special && !v.noreserve && v.prot & PROT_WRITE) f.push('ac');
  if (v.noreserve) f.push('nr');
  if (vvar) f.push('dd');
  return `VmFlags: ${f.map((x) => `${x} `).join('')}`;
}

/** smapsText is /proc/<pid>/smaps: each VMA's maps line, size and resident figures, then the vsyscall page's. */
export function smapsText(t: Task | undefined): string {
  if (!t || t.state === 'exited' || t.mm.vmas.length === 0) return '';
  const entry = (head: string, size: number, u: MemoryUsage, flags: string) =>
    [head, row('Size', size / 1024), row('KernelPageSize', PAGE / 1024), row('MMUPageSize', PAGE / 1024), ...usageRows(u, true),
      row('THPeligible', 0, false), flags].join('\n');
  const out = t.mm.vmas.map((v) => entry(mapsLine(v), v.end - v.start, t.mm.usageOf(v), vmFlags(v)));
  out.push(entry(VSYSCALL_MAPS_LINE, PAGE, emptyUsage(), 'VmFlags: ex ')); // emulated: nothing resident (kernel/vsyscall.ts)
  return out.join('\n') + '\n';
}

/** smapsRollup is /proc/<pid>/smaps_rollup: the span of the address space and the sums of smaps' figures (MemoryManager.rollup). */
export function smapsRollup(t: Task | undefined): string {
  if (!t || t.state === 'exited' || t.mm.vmas.length === 0) return '';
  const vmas = t.mm.vmas;
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const head = `${hex(vmas[0].start)}-${hex(vmas[vmas.length - 1].end)} ---p 00000000 00:00 0 `.padEnd(73) + '[rollup]';
  return [head, ...usageRows(t.mm.rollup(), false)].join('\n') + '\n';
}
