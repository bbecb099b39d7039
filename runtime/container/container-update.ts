/**
 * container-update.ts implements runc's `update` (runc-update(8)): new resource limits for
 * a created, running or paused container, applied to its sandbox's cgroup and recorded in
 * the config kept under --root, so that later commands see the limits in force.
 *
 * Input follows runc: either flags (memory sizes take k, m, g, t or p suffixes, binary
 * multiples, and "-1" for unlimited) or, with `-r FILE` or `-r -`, a JSON object of
 * OCI `linux.resources` fields, in which case the other flags are ignored. As in runc, a
 * zero or empty value means "leave unchanged", and kernel memory is accepted but ignored.
 *
 * Every value is checked before anything is written; a value the kernel refuses makes the
 * sandbox put back what it had already changed (Sandbox.update), so a failed update
 * changes nothing, in the cgroup or in the record.
 */
import type { LinuxResources } from '../../oci/config';
import { mergeResources } from '../../oci/merge-resources';
import type { Container } from './container';
import { ContainerError, StatusError } from './errors';

/** UPDATE_FLAGS are runc's update flags that take a value, in runc's spelling. */
export const UPDATE_FLAGS = ['blkio-weight', 'cpu-period', 'cpu-quota', 'cpu-share', 'cpu-rt-period', 'cpu-rt-runtime', 'cpuset-cpus', 'cpuset-mems',
  'kernel-memory', 'kernel-memory-tcp', 'memory', 'memory-reservation', 'memory-swap', 'pids-limit'] as const;

/** UpdateFlag is one of UPDATE_FLAGS. */
export type UpdateFlag = (typeof UPDATE_FLAGS)[number];

/** UpdateRequest is a parsed update: the resources to apply and what to warn about. */
export interface UpdateRequest {
  resources: LinuxResources;
  warnings: string[];
}

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
const INT64_MAX = 2n ** 63n - 1n;

/**
 * parseSize reads a memory size as runc does (docker's RAMInBytes): a decimal number,
 * an optional space, then an optional unit k, m, g, t or p (binary multiples) with an
 * optional "i" and "b" ("64m", "1.5g", "512KiB", "100"); "-1" is unlimited.
 */
export function parseSize(flag: string, value: string): number {
  if (value === '-1') return -1;
  const m = /^(\d+(?:\.\d+)*) ?([kmgtp])?i?b?$/i.exec(value);
  if (!m || (m[1].match(/\./g) ?? []).length > 1) {
    throw new ContainerError(`invalid value for --${flag}: "${value}" is not a size (bytes, or a number with k, m, g, t or p)`);
  }
  const bytes = Math.trunc(Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]);
  if (!Number.isSafeInteger(bytes)) throw new ContainerError(`invalid value for --${flag}: "${value}" is too large`);
  return bytes;
}

/** parseInteger reads a decimal integer flag; `unsigned` refuses a sign. */
export function parseInteger(flag: string, value: string, unsigned: boolean): number {
  if (!(unsigned ? /^\+?\d+$/ : /^[-+]?\d+$/).test(value)) {
    throw new ContainerError(`invalid value for --${flag}: "${value}" is not ${unsigned ? 'a non-negative' : 'an'} integer`);
  }
  const big = BigInt(value);
  if (big > INT64_MAX || big < -INT64_MAX - 1n) throw new ContainerError(`invalid value for --${flag}: "${value}" is out of range`);
  if (!Number.isSafeInteger(Number(value))) throw new ContainerError(`invalid value for --${flag}: "${value}" is too large`);
  return Number(value);
}

/** CPU_LIST is the cpuset list syntax: "0-3,8,10-11". */
const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

function cpuList(where: string, value: string): string {
  if (!CPU_LIST.test(value)) throw new ContainerError(`invalid value for ${where}: "${value}" is not a list such as 0-3,8`);
  return value;
}

/** parseUpdateFlags turns runc's update flags (as given, unparsed) into an UpdateRequest. */
export function parseUpdateFlags(flags: Partial<Record<UpdateFlag, string>>): UpdateRequest {
  const get = (f: UpdateFlag) => (flags[f] === undefined || flags[f] === '' ? undefined : String(flags[f]));
  const size = (f: UpdateFlag) => (get(f) === undefined ? undefined : parseSize(f, get(f)!));
  const int = (f: UpdateFlag, unsigned: boolean) => (get(f) === undefined ? undefined : parseInteger(f, get(f)!, unsigned));
  const r: LinuxResources = {
    memory: { limit: size('memory'), reservation: size('memory-reservation'), swap: size('memory-swap'), kernel: size('kernel-memory') },
    cpu: {
      shares: int('cpu-share', true), quota: int('cpu-quota', false), period: int('cpu-period', true),
      realtimeRuntime: int('cpu-rt-runtime', false), realtimePeriod: int('cpu-rt-period', true),
      cpus: get('cpuset-cpus') === undefined ? undefined : cpuList('--cpuset-cpus', get('cpuset-cpus')!),
      mems: get('cpuset-mems') === undefined ? undefined : cpuList('--cpuset-mems', get('cpuset-mems')!),
    },
    pids: { limit: int('pids-limit', false) as number },
    blockIO: { weight: int('blkio-weight', false) },
  };
  const kernelTcp = size('kernel-memory-tcp');
  return finish(r, Boolean(kernelTcp));
}

/** RESOURCE_FIELDS are the `linux.resources` fields update reads from JSON, with their kinds. */
const RESOURCE_FIELDS: Record<string, Record<string, 'int' | 'uint' | 'list'>> = {
  memory: { limit: 'int', reservation: 'int', swap: 'int', kernel: 'int', kernelTCP: 'int' },
  cpu: { shares: 'uint', quota: 'int', period: 'uint', realtimeRuntime: 'int', realtimePeriod: 'uint', cpus: 'list', mems: 'list' },
  pids: { limit: 'int' },
  blockIO: { weight: 'uint' },
};

/**
 * parseResourcesJson reads `-r`'s JSON (OCI `linux.resources`, the fields runc's update
 * takes); unknown fields are ignored, as runc's decoder does, and a field of the wrong
 * type is an error naming it.
 */
export function parseResourcesJson(text: string, source: string): UpdateRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ContainerError(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ContainerError(`${source}: must be a JSON object`);
  const r: Record<string, Record<string, unknown>> = {};
  for (const [group, fields] of Object.entries(RESOURCE_FIELDS)) {
    const g = (doc as Record<string, unknown>)[group];
    if (g === undefined || g === null) continue;
    if (typeof g !== 'object' || Array.isArray(g)) throw new ContainerError(`${source}: ${group}: must be an object`);
    r[group] = {};
    for (const [field, kind] of Object.entries(fields)) {
      const v = (g as Record<string, unknown>)[field];
      if (v === undefined || v === null) continue;
      const where = `${source}: ${group}.${field}`;
      if (kind === 'list') {
        if (typeof v !== 'string') throw new ContainerError(`${where}: must be a string`);
        if (v !== '') r[group][field] = cpuList(where, v);
      } else {
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ContainerError(`${where}: must be an integer`);
        if (kind === 'uint' && v < 0) throw new ContainerError(`${where}: must not be negative`);
        r[group][field] = v;
      }
    }
  }
  const unified = (doc as Record<string, unknown>).unified;
  const res = r as LinuxResources;
  if (unified && typeof unified === 'object' && Object.keys(unified).length) res.unified = unified as Record<string, string>;
  return finish(res, Boolean(r.memory?.kernelTCP));
}

/** finish drops the unset (zero) values and the kernel-memory ones, and checks ranges. */
function finish(r: LinuxResources, kernelTcp: boolean): UpdateRequest {
  const warnings: string[] = [];
  if (r.memory?.kernel || kernelTcp) warnings.push('kernel memory settings are ignored (obsolete since Linux 5.16)');
  const pick = <T extends object>(o: T | undefined): T | undefined => {
    if (!o) return undefined;
    const kept = Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && v !== 0 && v !== '' && k !== 'kernel' && k !== 'kernelTCP'));
    return Object.keys(kept).length ? (kept as T) : undefined;
  };
  const weight = r.blockIO?.weight as number | undefined;
  if (weight && (weight < 10 || weight > 1000)) throw new ContainerError(`invalid value for blkio weight: ${weight} is not between 10 and 1000`);
  const out: LinuxResources = { memory: pick(r.memory), cpu: pick(r.cpu), pids: pick(r.pids), blockIO: pick(r.blockIO), unified: r.unified };
  for (const k of Object.keys(out) as (keyof LinuxResources)[]) if (out[k] === undefined) delete out[k];
  return { resources: out, warnings };
}

/**
 * updateContainer applies `req` to a created, running or paused container and records
 * it; warnings go to the log. The caller holds the lock.
 */
export async function updateContainer(c: Container, req: UpdateRequest): Promise<void> {
  const status = c.status();
  if (status !== 'created' && status !== 'running' && status !== 'paused') {
    throw new StatusError(`cannot update container "${c.id}": container not running (it is ${status})`, status);
  }
  for (const w of req.warnings) c.env.log.warn(w);
  if (Object.keys(req.resources).length === 0) return;
  const sb = c.env.sandbox;
  if (!sb.update) throw new ContainerError('update is not supported by this sandbox');
  const ignored = await sb.update(c.sandboxRef(), req.resources);
  for (const what of ignored) c.env.log.warn(`not applied on this host: ${what}`);
  const spec = c.config();
  spec.linux = { ...spec.linux, resources: mergeResources(spec.linux?.resources, req.resources) };
  c.env.store.writeConfig(c.id, spec);
}
