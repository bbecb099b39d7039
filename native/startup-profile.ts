/**
 * startup-profile.ts: the steps of a process's start-up, for `make profile-start`
 * (spec-tests/bench/profile-start.ts). bin/tvisor (scripts/tvisor-launcher.js) opens the
 * profile when TVISOR_PROFILE names a file and stores its mark function at
 * Symbol.for('tvisor.profile'); without it, profileMark costs one property read.
 *
 * A leaf module, imported by the CLI, the sentry and the gofer alike.
 */

/** PROFILE_ENV is the variable naming the profile file; the runtime passes it on to the sandbox's processes. */
export const PROFILE_ENV = 'TVISOR_PROFILE';

import { phasesEnv } from './phases';

const KEY = Symbol.for('tvisor.profile');

/** profileMark records that this process has reached `step` (one word: no spaces). */
export function profileMark(step: string): void {
  const mark = (globalThis as Record<symbol, ((s: string) => void) | undefined>)[KEY];
  if (mark) mark(step);
}

/** profileEnv is the profile variable to hand to a child process (empty when profiling is
 * off), with the phase sums' switch when it is on (phases.ts). */
export function profileEnv(): NodeJS.ProcessEnv {
  const file = process.env[PROFILE_ENV];
  return { ...(file ? { [PROFILE_ENV]: file } : {}), ...phasesEnv() };
}
