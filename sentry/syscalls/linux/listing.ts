/**
 * listing renders `tvisor syscalls`: every x86-64 syscall with the sentry's support
 * level (full, partial, none) and its note, from the handler registry and the table.
 */
import { HANDLERS } from './registry';
import { SYSCALLS } from './table/syscalls';
import './handlers';

/** SyscallRow is one line of the listing. */
export interface SyscallRow {
  nr: number;
  name: string;
  support: 'full' | 'partial' | 'none';
  note: string;
}

/** syscallRows lists every known syscall number with its support. */
export function syscallRows(): SyscallRow[] {
  const rows: SyscallRow[] = [];
  SYSCALLS.forEach((info, nr) => {
    if (!info) return;
    const h = HANDLERS.get(nr);
    rows.push({ nr, name: info.name, support: h?.support ?? 'none', note: h?.note ?? (h ? '' : 'answers ENOSYS') });
  });
  return rows;
}

/** renderListing prints the rows as a table or JSON. */
export function renderListing(format: 'table' | 'json'): string {
  const rows = syscallRows();
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  const count = (s: string) => rows.filter((r) => r.support === s).length;
  const lines = rows.map((r) => `${String(r.nr).padStart(3)}  ${r.name.padEnd(24)} ${r.support.padEnd(8)} ${r.note}`.trimEnd());
  return `${lines.join('\n')}\n\n${rows.length} syscalls: ${count('full')} full, ${count('partial')} partial, ${count('none')} not implemented\n`;
}
