/** exec.ts is `tvisor exec`: run a new process inside a running container. */
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { Process, Spec, User as ProcessUser } from '../../oci/config';
import type { Container } from '../container/container';
import type { Args, Command } from './command';
import type { CommandContext } from './context';
import type { FlagSpec } from '../lean-argv';
import { CAPABILITIES } from '../../oci/features';
import { validateProcessUser } from '../container/user-mapping';
import { endFlagsAfterId } from '../argv-scan';

/** parseUser reads -u uid[:gid]. */
function parseUser(s: string): { uid: number; gid?: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(s);
  if (!m) throw new Error(`--user "${s}": want uid[:gid] (numbers)`);
  return { uid: Number(m[1]), gid: m[2] === undefined ? undefined : Number(m[2]) };
}

/**
 * execUser is the exec'd process's user as runc makes it: the container's process.user
 * with --user's uid (and gid, when given: else the container's stays; its umask is
 * dropped) and --additional-gids appended to the container's.
 */
function execUser(base: ProcessUser, user: { uid: number; gid?: number } | undefined, extraGids: number[] | undefined): ProcessUser {
  if (!user && !extraGids?.length) return base;
  const out: ProcessUser = { ...base };
  if (user) {
    out.uid = user.uid;
    if (user.gid !== undefined) out.gid = user.gid;
    // runc 1.1.5 leaves the container's umask out of a --user exec (its default 0022).
    delete out.umask;
  }
  if (extraGids?.length) out.additionalGids = [...(out.additionalGids ?? []), ...extraGids];
  return out;
}

/** EXEC_VALUE_FLAGS are exec's flags that take a value (for endExecFlags). */
const EXEC_VALUE_FLAGS = new Set(['-p', '--process', '--pid-file', '--console-socket', '--cwd', '-e', '--env', '-u', '--user',
  '-g', '--additional-gids', '-c', '--cap', '--process-label', '--apparmor', '--preserve-fds', '--cgroup']);

/**
 * endExecFlags inserts `--` after exec's container id, so that flags end there as with
 * runc: in `exec ID sh -c 'x'`, -c belongs to sh. `args` starts after the word exec.
 */
export function endExecFlags(args: string[]): string[] {
  return endFlagsAfterId(args, EXEC_VALUE_FLAGS);
}

/** EXEC_FLAGS are runc's exec flags (and the hidden one of a detached exec's re-run). */
const EXEC_FLAGS: Record<string, FlagSpec> = {
  process: { alias: 'p', type: 'string', describe: 'path to the process.json' },
  detach: { alias: 'd', type: 'boolean', describe: 'detach from the container\'s process' },
  'pid-file': { type: 'string', describe: 'file to write the process id to' },
  tty: { alias: 't', type: 'boolean', describe: 'allocate a pseudo-TTY' },
  'console-socket': { type: 'string', describe: 'socket to send the pty master to' },
  cwd: { type: 'string', describe: 'current working directory in the container' },
  env: { alias: 'e', type: 'string', array: true, describe: 'set environment variables' },
  user: { alias: 'u', type: 'string', describe: 'UID (format: <uid>[:<gid>])' },
  'additional-gids': { alias: 'g', type: 'number', array: true, describe: 'additional gids' },
  cap: { alias: 'c', type: 'string', array: true, describe: 'add a capability to the bounding set' },
  'no-new-privs': { type: 'boolean' },
  'process-label': { type: 'string' },
  apparmor: { type: 'string' },
  'preserve-fds': { type: 'number', default: 0 },
  'ignore-paused': { type: 'boolean', describe: 'allow exec in a paused container (the process runs once it is resumed)' },
  cgroup: { type: 'string', array: true, describe: 'run the process in an (existing) sub-cgroup: [<controller>:]<cgroup> (accepted; the sandbox has one cgroup, which the process shares)' },
  'remove-process-file': { type: 'boolean', hidden: true },
};

/** exec is the `exec` command. */
export const exec: Command = {
  command: 'exec <container-id> [command..]',
  describe: 'execute new process inside the container',
  // runc's --no-new-privs is a flag of its own, not the negation of a --new-privs; and a
  // repeatable flag (--cap, -e, -g) takes one value each time, not the container id after it.
  builder: (y) => y
    .parserConfiguration({ 'boolean-negation': false, 'greedy-arrays': false })
    .positional('command', { type: 'string', array: true })
    .options(EXEC_FLAGS),
  flags: EXEC_FLAGS,
  lean: true,
  async run(ctx, args) {
    try {
      return await execCommand(ctx, args);
    } catch (e) {
      // runc exits 255 when an exec fails, whatever the reason (its fatalWithCode).
      throw Object.assign(e instanceof Error ? e : new Error(String(e)), { exitStatus: 255 });
    }
  },
};

/** execCommand is exec's work; its errors leave with status 255 (exec.run). */
async function execCommand(ctx: CommandContext, args: Args): Promise<number> {
  const id = String(args['container-id']);
  // Refused rather than ignored: the exec'd process would otherwise miss descriptors it expects.
  if (Number(args['preserve-fds'] ?? 0) !== 0) throw new Error('exec --preserve-fds is not supported by tvisor yet (create and run support it)');
  // The exec'd process is a task of the sentry, whose host cgroup is the sandbox's: a
  // sub-cgroup cannot hold it alone. The form is checked as runc checks it, then ignored.
  for (const g of (args.cgroup as string[] | undefined) ?? []) {
    if (g === '' || g.endsWith(':')) throw new Error(`--cgroup "${g}": want [<controller>:]<cgroup>`);
    ctx.log.debug(`exec --cgroup ${g}: the sandbox has one host cgroup; the process stays in it`);
  }
  const [{ Container: ContainerClass }, { execInContainer }] = await Promise.all([import('../container/container'), import('../container/container-exec')]);
  const env = await ctx.env();
  const o = ctx.opts;
  const globals = ['--root', o.root, '--log-format', o.logFormat, ...(o.log ? ['--log', o.log] : []), ...(o.debug ? ['--debug'] : [])];
  // The container is read once, under its lock; the exec itself runs without holding it (a
  // detached exec re-runs tvisor exec, which takes the lock again). With --process it is
  // read after the process file, which --remove-process-file removes whatever happens.
  let container: Container | undefined;
  let spec: Spec | undefined;
  const locked = async (): Promise<Container> => (container ??= await ContainerClass.locked(env, id, async (x) => x));
  const config = async (): Promise<Spec> => (spec ??= (await locked()).config());
  let proc: Process;
  if (args.process) {
    const file = String(args.process);
    try {
      proc = JSON.parse(readFileSync(file, 'utf8')) as Process;
    } catch (e) {
      throw new Error(`--process ${file}: ${(e as Error).message}`);
    } finally {
      if (args['remove-process-file']) rmSync(file, { force: true });
    }
    if (!Array.isArray(proc.args) || proc.args.length === 0) throw new Error(`--process ${file}: args: must be a non-empty array`);
    // As with runc, --tty given beside --process overrides process.terminal.
    if (args.tty !== undefined) proc.terminal = Boolean(args.tty);
  } else {
    // After the `--` that endExecFlags put there, yargs leaves the command in `_` (after "exec").
    const given = (args.command as string[] | undefined) ?? [];
    const command = given.length > 0 ? given : args._.slice(1).map(String);
    if (command.length === 0) throw new Error('exec: a command or --process is required');
    const base = (await config()).process!;
    const user = args.user ? parseUser(String(args.user)) : undefined;
    proc = {
      ...base,
      terminal: Boolean(args.tty),
      args: command,
      env: [...(base.env ?? []), ...((args.env as string[] | undefined) ?? [])],
      cwd: args.cwd ? String(args.cwd) : base.cwd,
      user: execUser(base.user, user, args['additional-gids'] as number[] | undefined),
    };
  }
  // As runc: --cap adds to the bounding, effective and permitted sets (a name the kernel
  // does not know is warned about and ignored); --no-new-privs sets the bit.
  const asked = (args.cap as string[] | undefined) ?? [];
  const add = asked.filter((c) => (CAPABILITIES as readonly string[]).includes(c));
  if (add.length < asked.length) ctx.log.warn(`ignoring unknown or unavailable capabilities: [${asked.filter((c) => !add.includes(c)).join(' ')}]`);
  if (add.length > 0) {
    const caps = { ...(proc.capabilities ?? {}) };
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...new Set([...(caps[set] ?? []), ...add])];
    proc = { ...proc, capabilities: caps };
  }
  if (args['no-new-privs']) proc = { ...proc, noNewPrivileges: true };
  const launcher = path.resolve(__dirname, '..', 'bin', 'tvisor');
  const c = await locked();
  // An id outside the container's user-namespace mappings is refused as runc's exec does.
  validateProcessUser({ ...(await config()), process: proc });
  const consoleSocket = args['console-socket'] as string | undefined;
  return execInContainer(c, proc, { detach: Boolean(args.detach), ignorePaused: Boolean(args['ignore-paused']), pidFile: args['pid-file'] as string | undefined, consoleSocket, launcher, globals });
}
