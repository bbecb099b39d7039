/**
 * differences.ts reads DIFFERENCES.md, the one list of the known, reasoned differences
 * between what the conformance checker prints under runc and under tvisor, and matches
 * a checker output's differences against it.
 *
 * An entry is a level-3 heading `### <bundle> <key>` (each may use `*` as a wildcard)
 * followed by three list items:
 *
 *     - runc: <value>
 *     - tvisor: <value>
 *     - reason: <text>
 *
 * where <value> is `` `text` `` (exactly that line's value), `` ~`regex` `` (a regular
 * expression the whole value must match), `(absent)` (no such line) or `(any)`.
 */
import * as fs from 'node:fs';

/** Value is one side of an entry: what the line's value must be for the entry to apply. */
export type Value = { kind: 'exact'; text: string } | { kind: 'regex'; re: RegExp } | { kind: 'absent' } | { kind: 'any' };

/** Difference is one entry of DIFFERENCES.md. */
export interface Difference {
  bundle: RegExp;
  key: RegExp;
  runc: Value;
  tvisor: Value;
  reason: string;
  /** heading is the entry's heading text, for reports. */
  heading: string;
}

function glob(s: string): RegExp {
  return new RegExp(`^${s.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

function parseValue(text: string, where: string): Value {
  const t = text.trim();
  if (t === '(absent)') return { kind: 'absent' };
  if (t === '(any)') return { kind: 'any' };
  let m = /^~`(.*)`$/.exec(t);
  if (m) return { kind: 'regex', re: new RegExp(`^(?:${m[1]})$`) };
  m = /^`(.*)`$/.exec(t);
  if (m) return { kind: 'exact', text: m[1] };
  throw new Error(`${where}: "${t}" is not \`text\`, ~\`regex\`, (absent) or (any)`);
}

/** parseDifferences reads the entries of a DIFFERENCES.md text; a malformed entry throws. */
export function parseDifferences(text: string, file = 'DIFFERENCES.md'): Difference[] {
  const out: Difference[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const h = /^### (\S+) (\S+)\s*$/.exec(lines[i]);
    if (!h) {
      if (lines[i].startsWith('### ')) throw new Error(`${file}:${i + 1}: a heading must be "### <bundle> <key>"`);
      continue;
    }
    const fields: Record<string, string> = {};
    for (let j = i + 1; j < lines.length && !lines[j].startsWith('#'); j++) {
      const f = /^- (runc|tvisor|reason): (.*)$/.exec(lines[j]);
      if (f) fields[f[1]] = f[2];
    }
    for (const k of ['runc', 'tvisor', 'reason']) {
      if (fields[k] === undefined) throw new Error(`${file}:${i + 1}: entry "${h[1]} ${h[2]}" has no "- ${k}:" line`);
    }
    out.push({
      bundle: glob(h[1]),
      key: glob(h[2]),
      runc: parseValue(fields.runc, `${file}:${i + 1} runc`),
      tvisor: parseValue(fields.tvisor, `${file}:${i + 1} tvisor`),
      reason: fields.reason.trim(),
      heading: `${h[1]} ${h[2]}`,
    });
  }
  return out;
}

/** loadDifferences reads and parses a DIFFERENCES.md file. */
export function loadDifferences(file: string): Difference[] {
  return parseDifferences(fs.readFileSync(file, 'utf8'), file);
}

function matches(v: Value, actual: string | undefined): boolean {
  switch (v.kind) {
    case 'any': return true;
    case 'absent': return actual === undefined;
    case 'exact': return actual === v.text;
    case 'regex': return actual !== undefined && v.re.test(actual);
  }
}

/** parseOutput turns checker output ("key: value" lines) into a map; a repeated key throws. */
export function parseOutput(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const i = line.indexOf(': ');
    const [key, value] = i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 2)];
    if (out.has(key)) throw new Error(`checker printed "${key}" twice`);
    out.set(key, value);
  }
  return out;
}

/** Mismatch is one key whose values differ between the runs. */
export interface Mismatch {
  key: string;
  runc?: string;
  tvisor?: string;
}

/** Comparison is what comparing one bundle's two outputs found. */
export interface Comparison {
  /** unlisted are differences no entry explains: the test fails on them. */
  unlisted: Mismatch[];
  /** explained pairs each listed difference with its entry. */
  explained: { mismatch: Mismatch; entry: Difference }[];
  /** stale are entries for this bundle's keys that no longer differ: reported, not failed. */
  stale: { key: string; entry: Difference }[];
  /** changed are differences whose runc side fits a "not built yet" entry but whose tvisor
   * side no longer does: work on that item has landed in part. Reported, not failed, so
   * that one engineer's progress does not break the test; the entry needs updating. */
  changed: { mismatch: Mismatch; entry: Difference }[];
}

/** NOT_BUILT starts the reason of an entry for something issue 11 has yet to build. */
export const NOT_BUILT = 'not built yet';

const wildcards = (d: Difference) => d.heading.split('*').length - 1;

/** compareOutputs compares two checker outputs key by key against the listed differences. */
export function compareOutputs(bundle: string, runc: Map<string, string>, tvisor: Map<string, string>, list: Difference[]): Comparison {
  const keys = [...new Set([...runc.keys(), ...tvisor.keys()])];
  const result: Comparison = { unlisted: [], explained: [], stale: [], changed: [] };
  for (const key of keys) {
    const [r, t] = [runc.get(key), tvisor.get(key)];
    const candidates = list.filter((d) => d.bundle.test(bundle) && d.key.test(key));
    if (r === t) {
      // Only an entry written for this very key (no wildcard) can go stale.
      for (const entry of candidates) {
        if (!entry.heading.includes('*') && matches(entry.runc, r)) result.stale.push({ key, entry });
      }
      continue;
    }
    // The most specific entry (fewest wildcards) that fits explains the difference.
    const fits = candidates.filter((d) => matches(d.runc, r) && matches(d.tvisor, t));
    const entry = fits.sort((a, b) => wildcards(a) - wildcards(b))[0];
    const mismatch = { key, runc: r, tvisor: t };
    const inProgress = fits.length === 0 && candidates.find((d) => d.reason.startsWith(NOT_BUILT) && matches(d.runc, r));
    if (entry) result.explained.push({ mismatch, entry });
    else if (inProgress) result.changed.push({ mismatch, entry: inProgress });
    else result.unlisted.push(mismatch);
  }
  return result;
}

/** entryFor writes a DIFFERENCES.md entry for a mismatch, for a person to check and reason. */
export function entryFor(bundle: string, m: Mismatch): string {
  const v = (s: string | undefined) => (s === undefined ? '(absent)' : `\`${s}\``);
  return `### ${bundle} ${m.key}\n- runc: ${v(m.runc)}\n- tvisor: ${v(m.tvisor)}\n- reason: ?\n`;
}
