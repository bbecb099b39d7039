/**
 * context.ts holds what every command handler receives: the global flags and lazily
 * built services (logger, container environment), so a command pays only for what it uses.
 */
import type { ContainerEnv } from '../container/container';
import type { Logger } from '../log';

/** GlobalOptions are tvisor's global flags (runc's plus runsc's sandbox choices). */
export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  debugLog?: string;
  systemdCgroup: boolean;
  /** platform is --platform; undefined: the sentry's default (systrap where its self-check passes, else ptrace). */
  platform?: 'ptrace' | 'systrap' | 'kvm';
  /** network is --network when given (see runtime/sandbox/netns.ts and sentry/net/mode.ts). */
  network?: 'none' | 'host';
  strace: boolean;
  /** syscallCoverage makes the sentry log which implemented syscalls the container made. */
  syscallCoverage: boolean;
}

/** CommandContext is passed to every command handler. */
export interface CommandContext {
  opts: GlobalOptions;
  log: Logger;
  /**
   * env returns the container environment (state store under --root and the sandbox);
   * network is the command's default network mode when --network is not given (host).
   */
  env(opts?: { foreground?: boolean; network?: 'none' | 'host' }): Promise<ContainerEnv>;
  /** out writes to stdout. */
  out(text: string): void;
}

/** CommandResult is an exit status; handlers that return nothing exit 0. */
export type CommandResult = number | void;
