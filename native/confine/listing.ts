/**
 * listing.ts renders the host-syscall table for `tvisor host-syscalls`: per process, each
 * allowed syscall with its argument constraint and reason, and a count.
 */
import { HOST_PROCESSES, hostSyscallsOf, type HostProcess } from './host-syscalls';

/** renderHostSyscalls prints the allowlists of `who` (all processes when empty) as a table or JSON. */
export function renderHostSyscalls(who: readonly HostProcess[], format: 'table' | 'json'): string {
  const list = who.length ? who : HOST_PROCESSES;
  if (format === 'json') {
    const out = Object.fromEntries(list.map((p) => [p, hostSyscallsOf(p).map((r) => ({
      nr: r.nr, name: r.name, action: r.action ?? 'allow', ...(r.argsText ? { args: r.argsText } : {}), ...(r.gadget ? { gadget: r.gadget } : {}), why: r.why,
    }))]));
    return `${JSON.stringify(out, null, 2)}\n`;
  }
  const lines: string[] = [];
  for (const p of list) {
    const rows = hostSyscallsOf(p);
    const allowed = rows.filter((r) => (r.action ?? 'allow') === 'allow').length;
    lines.push(`${p}: ${allowed} host syscalls allowed${rows.length > allowed ? `, ${rows.length - allowed} answered ENOSYS` : ''}; any other kills the process`);
    for (const r of rows) {
      const cond = r.action === 'enosys' ? 'ENOSYS' : (r.gadget ? `from the ${[r.gadget].flat().join(' or ')} gadget${r.argsText ? `: ${r.argsText}` : ''}` : r.argsText ?? '');
      lines.push(`  ${String(r.nr).padStart(3)}  ${r.name.padEnd(18)} ${cond.padEnd(30)} ${r.why}`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}`;
}
