/**
 * validate.ts checks a parsed config.json against the runtime-spec before tvisor acts on
 * it. The first problem found is thrown as a ConfigError naming its JSON path
 * (`config.json: process.args: must be a non-empty array`); nothing is created before
 * validation passes, so a bad config leaves no trace.
 *
 * Unknown properties are ignored, as config.md requires of runtimes; known properties
 * must have the spec's types, and values the sandbox cannot honour (an unknown namespace
 * or capability, an rlimit the kernel does not have) are rejected rather than dropped.
 */
import { CAPABILITIES, SECCOMP_ACTIONS, SECCOMP_OPERATORS } from './features';
import { HOOK_NAMES, NAMESPACE_TYPES, OCI_VERSION, type Spec } from './config';

/** ConfigError is a config.json that tvisor refuses, with the JSON path of the problem. */
export class ConfigError extends Error {
  constructor(readonly path: string, readonly problem: string) {
    super(`config.json: ${path ? `${path}: ` : ''}${problem}`);
    this.name = 'ConfigError';
  }
}

/** RLIMITS are the rlimit names Linux has (process.rlimits[].type). */
export const RLIMITS = [
  'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS',
  'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS',
  'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
];

type Json = unknown;
const fail = (path: string, problem: string): never => { throw new ConfigError(path, problem); };
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

function object(v: Json, path: string): Record<string, Json> {
  return isObject(v) ? v : fail(path, 'must be an object');
}
function str(v: Json, path: string): string {
  return typeof v === 'string' ? v : fail(path, 'must be a string');
}
function absPath(v: Json, path: string): string {
  const s = str(v, path);
  return s.startsWith('/') ? s : fail(path, `must be an absolute path, not "${s}"`);
}
function bool(v: Json, path: string): void {
  if (typeof v !== 'boolean') fail(path, 'must be true or false');
}
function int(v: Json, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) return fail(path, 'must be an integer');
  return v >= min && v <= max ? v : fail(path, `must be between ${min} and ${max}, not ${v}`);
}
function array(v: Json, path: string, nonEmpty = false): Json[] {
  if (!Array.isArray(v)) return fail(path, nonEmpty ? 'must be a non-empty array' : 'must be an array');
  return nonEmpty && v.length === 0 ? fail(path, 'must be a non-empty array') : v;
}
function strings(v: Json, path: string, nonEmpty = false): string[] {
  return array(v, path, nonEmpty).map((s, i) => str(s, `${path}[${i}]`));
}
function oneOf(v: Json, path: string, allowed: readonly string[], what: string): string {
  const s = str(v, path);
  return allowed.includes(s) ? s : fail(path, `unsupported ${what} "${s}"`);
}
function stringMap(v: Json, path: string): void {
  for (const [k, val] of Object.entries(object(v, path))) str(val, join(path, k));
}
/** optional runs `check` on o[key] when the key is present (null counts as absent, as Go). */
function optional(o: Record<string, Json>, key: string, path: string, check: (v: Json, p: string) => unknown): void {
  if (o[key] !== undefined && o[key] !== null) check(o[key], join(path, key));
}
function required(o: Record<string, Json>, key: string, path: string, check: (v: Json, p: string) => unknown): void {
  if (o[key] === undefined || o[key] === null) fail(join(path, key), 'is required');
  check(o[key], join(path, key));
}

/** checkVersion accepts 1.x versions up to the one tvisor implements (SemVer, pre-release allowed). */
function checkVersion(v: Json, path: string): void {
  const s = str(v, path);
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.exec(s);
  if (!m) fail(path, `"${s}" is not a SemVer version`);
  const [major, minor] = [Number(m![1]), Number(m![2])];
  const [maxMajor, maxMinor] = OCI_VERSION.split('.').map(Number);
  if (major !== maxMajor || minor > maxMinor) fail(path, `unsupported version "${s}" (tvisor implements ${OCI_VERSION})`);
}

function checkUser(v: Json, path: string): void {
  const u = object(v, path);
  required(u, 'uid', path, (x, p) => int(x, p, 0, 0xffffffff));
  required(u, 'gid', path, (x, p) => int(x, p, 0, 0xffffffff));
  optional(u, 'umask', path, (x, p) => int(x, p, 0, 0o777));
  optional(u, 'additionalGids', path, (x, p) => array(x, p).forEach((g, i) => int(g, `${p}[${i}]`, 0, 0xffffffff)));
  optional(u, 'username', path, str);
}

function checkProcess(v: Json, path: string): void {
  const p = object(v, path);
  optional(p, 'terminal', path, bool);
  required(p, 'user', path, checkUser);
  required(p, 'args', path, (x, q) => strings(x, q, true));
  required(p, 'cwd', path, absPath);
  optional(p, 'env', path, (x, q) => strings(x, q).forEach((e, i) => {
    if (e.indexOf('=') <= 0) fail(`${q}[${i}]`, `"${e}" is not of the form KEY=value`);
  }));
  optional(p, 'capabilities', path, (x, q) => {
    const caps = object(x, q);
    for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient']) {
      optional(caps, set, q, (list, r) => strings(list, r).forEach((c, i) => oneOf(c, `${r}[${i}]`, CAPABILITIES, 'capability')));
    }
  });
  optional(p, 'rlimits', path, (x, q) => {
    const seen = new Set<string>();
    array(x, q).forEach((r, i) => {
      const rp = `${q}[${i}]`;
      const rl = object(r, rp);
      required(rl, 'type', rp, (t, tp) => oneOf(t, tp, RLIMITS, 'rlimit'));
      if (seen.has(rl.type as string)) fail(join(rp, 'type'), `duplicate rlimit "${rl.type}"`);
      seen.add(rl.type as string);
      required(rl, 'soft', rp, (n, np) => int(n, np, 0));
      required(rl, 'hard', rp, (n, np) => int(n, np, 0));
    });
  });
  optional(p, 'noNewPrivileges', path, bool);
  optional(p, 'oomScoreAdj', path, (x, q) => int(x, q, -1000, 1000));
  optional(p, 'apparmorProfile', path, str);
  optional(p, 'selinuxLabel', path, str);
  optional(p, 'consoleSize', path, (x, q) => {
    const c = object(x, q);
    required(c, 'height', q, (n, np) => int(n, np, 0, 0xffff));
    required(c, 'width', q, (n, np) => int(n, np, 0, 0xffff));
  });
}

function checkHooks(v: Json, path: string): void {
  const hooks = object(v, path);
  for (const name of HOOK_NAMES) {
    optional(hooks, name, path, (list, lp) => array(list, lp).forEach((h, i) => {
      const hp = `${lp}[${i}]`;
      const hook = object(h, hp);
      required(hook, 'path', hp, absPath);
      optional(hook, 'args', hp, strings);
      optional(hook, 'env', hp, strings);
      optional(hook, 'timeout', hp, (t, tp) => int(t, tp, 1));
    }));
  }
}

function checkMount(v: Json, path: string): void {
  const m = object(v, path);
  required(m, 'destination', path, (d, dp) => (str(d, dp) === '' ? fail(dp, 'must not be empty') : absPath(d, dp)));
  optional(m, 'type', path, str);
  optional(m, 'source', path, str);
  optional(m, 'options', path, strings);
  optional(m, 'uidMappings', path, checkIDMappings);
  optional(m, 'gidMappings', path, checkIDMappings);
}

function checkIDMappings(v: Json, path: string): void {
  array(v, path).forEach((m, i) => {
    const mp = `${path}[${i}]`;
    const o = object(m, mp);
    required(o, 'containerID', mp, (x, p) => int(x, p, 0, 0xffffffff));
    required(o, 'hostID', mp, (x, p) => int(x, p, 0, 0xffffffff));
    required(o, 'size', mp, (x, p) => int(x, p, 1, 0xffffffff));
  });
}

function checkSeccomp(v: Json, path: string): void {
  const s = object(v, path);
  required(s, 'defaultAction', path, (a, p) => oneOf(a, p, SECCOMP_ACTIONS, 'seccomp action'));
  optional(s, 'defaultErrnoRet', path, (x, p) => int(x, p, 0, 4095));
  optional(s, 'architectures', path, strings);
  optional(s, 'flags', path, strings);
  optional(s, 'syscalls', path, (list, lp) => array(list, lp).forEach((r, i) => {
    const rp = `${lp}[${i}]`;
    const rule = object(r, rp);
    required(rule, 'names', rp, (n, np) => strings(n, np, true));
    required(rule, 'action', rp, (a, ap) => oneOf(a, ap, SECCOMP_ACTIONS, 'seccomp action'));
    optional(rule, 'errnoRet', rp, (x, p) => int(x, p, 0, 4095));
    optional(rule, 'args', rp, (args, argp) => array(args, argp).forEach((a, j) => {
      const ap = `${argp}[${j}]`;
      const arg = object(a, ap);
      required(arg, 'index', ap, (x, p) => int(x, p, 0, 5));
      required(arg, 'value', ap, (x, p) => int(x, p, 0));
      optional(arg, 'valueTwo', ap, (x, p) => int(x, p, 0));
      required(arg, 'op', ap, (o, op) => oneOf(o, op, SECCOMP_OPERATORS, 'seccomp operator'));
    }));
  }));
}

function checkResources(v: Json, path: string): void {
  const r = object(v, path);
  optional(r, 'devices', path, (list, lp) => array(list, lp).forEach((d, i) => {
    const dp = `${lp}[${i}]`;
    const dev = object(d, dp);
    required(dev, 'allow', dp, bool);
    optional(dev, 'type', dp, (t, tp) => oneOf(t, tp, ['a', 'b', 'c'], 'device type'));
    optional(dev, 'major', dp, (x, p) => int(x, p, -1));
    optional(dev, 'minor', dp, (x, p) => int(x, p, -1));
    optional(dev, 'access', dp, (a, ap) => (/^[rwm]*$/.test(str(a, ap)) ? a : fail(ap, `"${a}" is not made of r, w and m`)));
  }));
  optional(r, 'memory', path, (m, mp) => {
    const mem = object(m, mp);
    for (const k of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP']) optional(mem, k, mp, (x, p) => int(x, p, -1));
    optional(mem, 'swappiness', mp, (x, p) => int(x, p, 0, 100));
  });
  optional(r, 'cpu', path, (c, cp) => {
    const cpu = object(c, cp);
    for (const k of ['shares', 'quota', 'period', 'realtimeRuntime', 'realtimePeriod']) optional(cpu, k, cp, (x, p) => int(x, p, -1));
    optional(cpu, 'cpus', cp, str);
    optional(cpu, 'mems', cp, str);
  });
  optional(r, 'pids', path, (x, p) => required(object(x, p), 'limit', p, (n, np) => int(n, np, -1)));
  optional(r, 'unified', path, stringMap);
}

function checkLinux(v: Json, path: string): void {
  const l = object(v, path);
  optional(l, 'namespaces', path, (list, lp) => {
    const seen = new Set<string>();
    array(list, lp).forEach((n, i) => {
      const np = `${lp}[${i}]`;
      const ns = object(n, np);
      required(ns, 'type', np, (t, tp) => oneOf(t, tp, NAMESPACE_TYPES.filter((x) => x !== 'time'), 'namespace type'));
      if (seen.has(ns.type as string)) fail(join(np, 'type'), `namespace "${ns.type}" is listed twice`);
      seen.add(ns.type as string);
      optional(ns, 'path', np, absPath);
    });
  });
  optional(l, 'uidMappings', path, checkIDMappings);
  optional(l, 'gidMappings', path, checkIDMappings);
  optional(l, 'devices', path, (list, lp) => array(list, lp).forEach((d, i) => {
    const dp = `${lp}[${i}]`;
    const dev = object(d, dp);
    // runc's words (specconv's stringToDeviceRune).
    required(dev, 'type', dp, (t, tp) => ['c', 'b', 'u', 'p'].includes(str(t, tp)) || fail(tp, `invalid device type "${t}"`));
    required(dev, 'path', dp, (x, p) => {
      absPath(x, p);
      // The sandbox makes device nodes in its own /dev only (runc would mknod anywhere in the rootfs).
      const parts = (x as string).split('/').filter(Boolean);
      if (parts[0] !== 'dev' || parts.length < 2 || parts.includes('..')) fail(p, `device path "${x}" must be under /dev, without ".."`);
    });
    for (const k of ['major', 'minor', 'uid', 'gid']) optional(dev, k, dp, (x, p) => int(x, p, 0, 0xffffffff));
    // runc ignores the file type bits of fileMode (docker passes the host node's st_mode).
    optional(dev, 'fileMode', dp, (x, p) => int(x, p, 0, 0o177777));
  }));
  optional(l, 'cgroupsPath', path, str);
  optional(l, 'resources', path, checkResources);
  optional(l, 'rootfsPropagation', path, (x, p) => oneOf(x, p, ['shared', 'slave', 'private', 'unbindable', 'rshared', 'rslave', 'rprivate', 'runbindable'], 'propagation'));
  optional(l, 'seccomp', path, checkSeccomp);
  optional(l, 'sysctl', path, stringMap);
  optional(l, 'maskedPaths', path, (list, lp) => array(list, lp).forEach((p, i) => absPath(p, `${lp}[${i}]`)));
  optional(l, 'readonlyPaths', path, (list, lp) => array(list, lp).forEach((p, i) => absPath(p, `${lp}[${i}]`)));
  optional(l, 'mountLabel', path, str);
}

/**
 * validateConfig checks a parsed config.json and returns it typed; it throws ConfigError
 * naming the first offending JSON path. `process` and `root` are required: tvisor runs
 * Linux containers and `create` always needs the process it will start.
 */
export function validateConfig(doc: unknown): Spec {
  const c = object(doc, '');
  required(c, 'ociVersion', '', checkVersion);
  required(c, 'root', '', (r, rp) => {
    const root = object(r, rp);
    required(root, 'path', rp, (p, pp) => (str(p, pp) === '' ? fail(pp, 'must not be empty') : p));
    optional(root, 'readonly', rp, bool);
  });
  required(c, 'process', '', checkProcess);
  optional(c, 'hostname', '', str);
  optional(c, 'domainname', '', str);
  optional(c, 'mounts', '', (list, lp) => array(list, lp).forEach((m, i) => checkMount(m, `${lp}[${i}]`)));
  optional(c, 'hooks', '', checkHooks);
  optional(c, 'annotations', '', (a, ap) => {
    for (const [k, val] of Object.entries(object(a, ap))) {
      if (k === '') fail(ap, 'keys must not be empty');
      str(val, join(ap, k));
    }
  });
  optional(c, 'linux', '', checkLinux);
  return c as unknown as Spec;
}

/** parseConfig parses config.json text and validates it (see validateConfig). */
export function parseConfig(text: string): Spec {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('', `invalid JSON: ${(err as Error).message}`);
  }
  return validateConfig(doc);
}
