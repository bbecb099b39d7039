/**
 * sandbox-memory.ts: the host processes of a sandbox and their resident memory, shared
 * by `make bench-start` (its idle-sandbox figure) and `make profile-memory` (where that
 * memory goes). Read from /proc: the process table, smaps_rollup (RSS, PSS, USS) and
 * pagemap (each physical page once, which needs root).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** ProcMemory is one host process of a sandbox and its resident memory. */
export interface ProcMemory {
  pid: number;
  ppid: number;
  state: string;
  how: string;
  cmd: string;
  kb: Record<'rss' | 'pss' | 'uss', number | undefined>;
}


/** processTable reads pid -> {ppid, state} for every host process. */
export function processTable(): Map<number, { ppid: number; state: string }> {
  const table = new Map<number, { ppid: number; state: string }>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(e), { ppid: Number(ppid), state });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/** cmdlineOf is a process's command line with spaces between its arguments ('[comm]' for a kernel thread, '?' once gone). */
export function cmdlineOf(pid: number): string {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replaceAll('\0', ' ');
    if (raw) return raw;
    return `[${fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}]`;
  } catch {
    return '?';
  }
}

/** smapsRollup is whether this kernel has /proc/PID/smaps_rollup (PSS and USS). */
export const smapsRollup = fs.existsSync('/proc/self/smaps_rollup');

/** kbField reads `Name:   N kB` from a /proc status or smaps text. */
export function kbField(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** memoryOf reads a process's RSS, PSS and USS in KiB (0 for a zombie). */
export function memoryOf(pid: number): ProcMemory['kb'] {
  try {
    if (!smapsRollup) return { rss: kbField(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS') ?? 0, pss: undefined, uss: undefined };
    const t = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return { rss: kbField(t, 'Rss') ?? 0, pss: kbField(t, 'Pss') ?? 0, uss: (kbField(t, 'Private_Clean') ?? 0) + (kbField(t, 'Private_Dirty') ?? 0) };
  } catch {
    return { rss: 0, pss: smapsRollup ? 0 : undefined, uss: smapsRollup ? 0 : undefined };
  }
}

const PAGE = 4096;
const PFN_MASK = (1n << 55n) - 1n;
const PRESENT = 1n << 63n;

/** pagesOf returns the physical page numbers (PFNs) of every present page mapped by the
 * processes, each once: from /proc/PID/pagemap, for every mapping with resident pages
 * (from /proc/PID/smaps). Undefined when the PFNs are hidden (not root) or unreadable. */
export function pagesOf(pids: number[]): Set<bigint> | undefined {
  const pfns = new Set<bigint>();
  let present = 0;
  for (const pid of pids) {
    let smaps: string;
    let fd: number;
    try {
      smaps = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
      fd = fs.openSync(`/proc/${pid}/pagemap`, 'r');
    } catch {
      continue; // a zombie or gone: nothing mapped
    }
    try {
      let range: [number, number] | undefined;
      for (const line of smaps.split('\n')) {
        const vma = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
        if (vma) range = [parseInt(vma[1], 16), parseInt(vma[2], 16)];
        else if (range && line.startsWith('Rss:') && kbField(line, 'Rss')) {
          const pages = (range[1] - range[0]) / PAGE;
          const buf = Buffer.alloc(pages * 8);
          fs.readSync(fd, buf, 0, buf.length, (range[0] / PAGE) * 8);
          for (let i = 0; i < pages; i++) {
            const e = buf.readBigUInt64LE(i * 8);
            if (!(e & PRESENT)) continue;
            present++;
            pfns.add(e & PFN_MASK);
          }
        }
      }
    } catch {
      return undefined;
    } finally {
      fs.closeSync(fd);
    }
  }
  if (present > 0 && pfns.size === 1 && pfns.has(0n)) return undefined; // PFNs hidden
  return pfns;
}

/** uniqueKb counts the physical pages mapped by the processes, each once, in kB (pagesOf). */
export function uniqueKb(pids: number[]): number | undefined {
  const pfns = pagesOf(pids);
  return pfns && (pfns.size * PAGE) / 1024;
}

/** PageSharing splits the pages of several groups of processes (one group per sandbox) by
 * how many groups map each page, in kB. */
export interface PageSharing {
  /** own[i] is what group i alone maps (its processes' private pages and the pages only they share, such as a sandbox's memory file). */
  own: number[];
  /** shared is what two groups or more map, counted once (node's or runsc's text, the libraries). */
  shared: number;
}

/** pageSharing splits the groups' page sets (pagesOf) into each group's own pages and those several groups map. */
export function pageSharing(groups: Set<bigint>[]): PageSharing {
  const owners = new Map<bigint, number>(); // pfn -> the one group that maps it, or -1 for several
  groups.forEach((g, i) => {
    for (const p of g) {
      const o = owners.get(p);
      owners.set(p, o === undefined || o === i ? i : -1);
    }
  });
  const own = groups.map(() => 0);
  let shared = 0;
  for (const o of owners.values()) {
    if (o < 0) shared++;
    else own[o]++;
  }
  return { own: own.map((n) => (n * PAGE) / 1024), shared: (shared * PAGE) / 1024 };
}

/** runscGoferPids reads goferPid from runsc's state files of the id under `root`. */
export function runscGoferPids(root: string, id: string): number[] {
  const pids: number[] = [];
  for (const e of fs.readdirSync(root).filter((f) => f.includes(id) && f.endsWith('.state'))) {
    try {
      const pid = Number(JSON.parse(fs.readFileSync(path.join(root, e), 'utf8')).goferPid);
      if (pid > 0) pids.push(pid);
    } catch {
      // not runsc's state format
    }
  }
  return pids;
}

/** sandboxProcesses finds every host process of the sandbox whose pid-file pid is given:
 * that process, runsc's gofer (its state's goferPid, a sibling reparented to init), any
 * process whose command line names this runtime's root or bundle, and all their
 * descendants. */
export function sandboxProcesses(root: string, bundle: string, id: string, pid: number): ProcMemory[] {
  const table = processTable();
  const how = new Map<number, string>([[pid, 'pid-file']]);
  for (const g of runscGoferPids(root, id)) if (!how.has(g)) how.set(g, 'state goferPid');
  const addDescendants = () => {
    for (let grew = true; grew; ) {
      grew = false;
      for (const [p, { ppid }] of table) {
        if (!how.has(p) && how.has(ppid)) {
          how.set(p, `child of ${ppid}`);
          grew = true;
        }
      }
    }
  };
  addDescendants();
  for (const p of table.keys()) {
    if (p === process.pid || how.has(p)) continue;
    const cmd = cmdlineOf(p);
    if (cmd.includes(root) || cmd.includes(bundle)) how.set(p, 'command line');
  }
  addDescendants();
  return [...how]
    .filter(([p]) => table.has(p))
    .sort(([a], [b]) => a - b)
    .map(([p, h]) => ({ pid: p, ppid: table.get(p)!.ppid, state: table.get(p)!.state, how: h, cmd: cmdlineOf(p), kb: memoryOf(p) }));
}


/** Kb is a resident figure in kB by three counts. */
export interface Kb {
  rss: number;
  pss: number;
  uss: number;
}

/** CATEGORIES are the parts of a process's memory that smapsBreakdown tells apart, in the order printed, each with how it is recognised. */
export const CATEGORIES = {
  'executable text+data': "the process's executable mapped from its file (node's text is shared with every Node process on the host)",
  'executable bss': 'anonymous memory right after the executable, below the malloc heap',
  'shared libraries': 'other file mappings: libc, libstdc++, koffi and tvisor addons, the stub binary',
  'memory file': 'the sandbox memory file (memfd:tvisor-memory), shared by the sentry and its stubs',
  'malloc main heap': '[heap] (brk): glibc malloc\'s main arena',
  'malloc arenas': 'anonymous mappings on a 64 MiB boundary: glibc malloc\'s per-thread arenas',
  'thread stacks': 'anonymous 8 MiB mappings (+[stack], the main thread\'s)',
  'V8 code': 'anonymous executable mappings: V8\'s code range',
  'V8 heap pages': 'anonymous read-write mappings below the shared libraries\' region: V8 places its heap pages at random addresses there',
  'other anon': 'the rest of the anonymous mappings near the libraries: big malloc chunks (a start-up snapshot\'s copy), V8\'s other reservations',
  other: 'anything else (vdso, vvar, ...)',
} as const;

/** Category names one of CATEGORIES. */
export type Category = keyof typeof CATEGORIES;

const ARENA_ALIGN = 64 * 2 ** 20;
const STACK_SIZE = 8 * 2 ** 20;

/**
 * smapsBreakdown splits a process's resident memory (from /proc/PID/smaps) into
 * CATEGORIES. Anonymous mappings carry no name: they are told apart by address, size and
 * protection as CATEGORIES says, a heuristic that holds for Node 20 on x86-64 (no pointer
 * compression: V8's pages lie scattered below mmap's region) and glibc. Empty when the
 * process is gone.
 */
export function smapsBreakdown(pid: number): Map<Category, Kb> {
  const out = new Map<Category, Kb>();
  let text: string;
  let exe = '';
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
    exe = fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return out;
  }
  interface Vma { start: number; end: number; perms: string; name: string; kb: Kb }
  const vmas: Vma[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (m) vmas.push({ start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], name: m[4].trim(), kb: { rss: 0, pss: 0, uss: 0 } });
    else if (vmas.length) {
      const f = /^(\w+):\s+(\d+) kB/.exec(line);
      if (!f) continue;
      const kb = vmas[vmas.length - 1].kb;
      if (f[1] === 'Rss') kb.rss += Number(f[2]);
      else if (f[1] === 'Pss') kb.pss += Number(f[2]);
      else if (f[1] === 'Private_Clean' || f[1] === 'Private_Dirty') kb.uss += Number(f[2]);
    }
  }
  const libs = vmas.filter((v) => v.name.startsWith('/') && v.name !== exe);
  const libLow = libs.length ? Math.min(...libs.map((v) => v.start)) : Infinity;
  // mmap's region: the libraries and what glibc and Node map near them (within 16 GiB below).
  const mmapLow = libLow - 16 * 2 ** 30;
  const heapStart = vmas.find((v) => v.name === '[heap]')?.start ?? Infinity;
  const exeEnd = Math.max(0, ...vmas.filter((v) => v.name === exe).map((v) => v.end));
  const categoryOf = (v: Vma): Category => {
    if (v.name === exe) return 'executable text+data';
    if (v.name.includes('memfd:tvisor-memory')) return 'memory file';
    if (v.name.startsWith('/') || v.name.startsWith('memfd:')) return 'shared libraries';
    if (v.name === '[heap]') return 'malloc main heap';
    if (v.name === '[stack]') return 'thread stacks';
    if (v.name) return 'other';
    if (v.perms.includes('x')) return 'V8 code';
    if (v.start >= exeEnd && v.end <= heapStart && v.start < mmapLow) return 'executable bss';
    if (v.start < mmapLow) return 'V8 heap pages';
    if (v.start % ARENA_ALIGN === 0) return 'malloc arenas';
    if (v.end - v.start === STACK_SIZE) return 'thread stacks';
    return 'other anon';
  };
  for (const v of vmas) {
    if (!v.kb.rss) continue;
    const c = categoryOf(v);
    const acc = out.get(c) ?? { rss: 0, pss: 0, uss: 0 };
    acc.rss += v.kb.rss;
    acc.pss += v.kb.pss;
    acc.uss += v.kb.uss;
    out.set(c, acc);
  }
  return out;
}
