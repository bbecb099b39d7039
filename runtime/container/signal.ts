/**
 * signal.ts parses the signal argument of `kill` as runc does: a name with or without the
 * SIG prefix in any case (`TERM`, `sigkill`), a number, or RTMIN+n / RTMAX-n.
 */
import { constants } from 'node:os';

const SIGRTMIN = 34;
const SIGRTMAX = 64;

/**
 * parseSignal returns the signal number named by `s`; it throws on an unknown signal. 0 is
 * accepted as runc accepts it: `kill ID 0` checks that the container's init exists.
 */
export function parseSignal(s: string): number {
  const text = s.trim();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 0 && n <= SIGRTMAX) return n;
    throw new Error(`invalid signal "${s}": must be between 0 and ${SIGRTMAX}`);
  }
  const name = text.toUpperCase().replace(/^SIG/, '');
  const rt = /^RT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const n = base + (rt[2] === '-' ? -1 : 1) * Number(rt[3] ?? 0);
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
    throw new Error(`invalid signal "${s}": outside SIGRTMIN..SIGRTMAX`);
  }
  const n = (constants.signals as Record<string, number>)[`SIG${name}`];
  if (n === undefined) throw new Error(`unknown signal "${s}"`);
  return n;
}
