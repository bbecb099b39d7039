/**
 * hooks.ts runs OCI lifecycle hooks (config.md "POSIX-platform Hooks", runtime.md
 * "Lifecycle"). Each hook is executed with exactly its `args` (args[0] is argv[0]) and
 * `env` (empty when absent), the container's state JSON on stdin, and is killed with
 * SIGKILL once its `timeout` (seconds) has passed.
 *
 * What a failure does is the spec's: a failing prestart, createRuntime, createContainer or
 * startContainer hook is an error of the operation (the caller stops and destroys the
 * container); a failing poststart or poststop hook is logged as a warning and the rest of
 * the hooks and the lifecycle go on. Hooks run one after another, in order.
 *
 * In tvisor every hook runs on the host, in the runtime's namespaces: the "container
 * namespace" of createContainer and startContainer is the sentry's, which has no host
 * executables in it.
 */
import type { Hook, HookName, Hooks } from '../../oci/config';
import type { State } from '../../oci/state';
import type { Logger } from '../log';

/** HookError is a hook that could not run, exited non-zero, died or timed out. */
export class HookError extends Error {
  constructor(readonly hook: string, problem: string) {
    super(`${hook} ${problem}`);
    this.name = 'HookError';
  }
}

/** WARN_ONLY lists the hooks whose failure is only a warning. */
const WARN_ONLY: ReadonlySet<HookName> = new Set<HookName>(['poststart', 'poststop']);

const OUTPUT_LIMIT = 4096;

/** runHook runs one hook to completion; it rejects with HookError when the hook fails. */
export async function runHook(hook: Hook, state: State, label: string): Promise<void> {
  const name = `hook ${label} (${hook.path})`;
  // Loaded here: most containers have no hooks, and child_process costs every command ~2 ms.
  // A require, not import(): bin/tvisor runs the bundle through vm.Script, which has no
  // loader for a dynamic import of a module left outside the bundle.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  return new Promise<void>((resolve, reject) => {
    const args = hook.args ?? [hook.path];
    const child = spawn(hook.path, args.slice(1), {
      argv0: args[0] ?? hook.path,
      env: Object.fromEntries((hook.env ?? []).map((e) => {
        const i = e.indexOf('=');
        return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
      })),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      if (output.length < OUTPUT_LIMIT) output += chunk.toString('utf8');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // A hook need not read its stdin: EPIPE on it is not the hook's failure.
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(state));
    let timedOut = false;
    const timer = hook.timeout ? setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, hook.timeout * 1000) : undefined;
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new HookError(name, `cannot be run: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const out = output.trim().slice(0, OUTPUT_LIMIT).replace(/\s*\n\s*/g, '; ');
      const suffix = out ? `: ${out}` : '';
      if (timedOut) reject(new HookError(name, `timed out after ${hook.timeout}s${suffix}`));
      else if (signal) reject(new HookError(name, `was killed by ${signal}${suffix}`));
      else if (code !== 0) reject(new HookError(name, `failed with exit status ${code}${suffix}`));
      else resolve();
    });
  });
}

/**
 * runHooks runs the `name` hooks of `hooks` in order. For poststart and poststop a failure
 * is logged as a warning and the next hook runs; for the others the first failure rejects.
 */
export async function runHooks(hooks: Hooks | undefined, name: HookName, state: State, log: Logger): Promise<void> {
  const list = hooks?.[name] ?? [];
  for (let i = 0; i < list.length; i++) {
    const label = `hooks.${name}[${i}]`;
    log.debug('running hook', { hook: label, path: list[i].path });
    try {
      await runHook(list[i], state, label);
    } catch (err) {
      if (!WARN_ONLY.has(name)) throw err;
      log.warn((err as Error).message);
    }
  }
}
