/**
 * oom-score.ts applies config.json `process.oomScoreAdj` to a sandbox. runc writes it to
 * /proc/self/oom_score_adj in its init before exec, so the container inherits it; tvisor
 * does the same one level up: the creating process takes the score just before it
 * spawns the sandbox, so the sentry, the gofer and every stub they start inherit it
 * (fork copies oom_score_adj), and then takes its own score back.
 *
 * Lowering a score needs CAP_SYS_RESOURCE (proc(5)); a refused write fails the create.
 */
import * as fs from 'node:fs';
import { ContainerError } from './errors';

const SELF = '/proc/self/oom_score_adj';

/** withOomScoreAdj runs `spawn` with this process's oom_score_adj set to `score` (unset: as is). */
export async function withOomScoreAdj<T>(score: number | undefined, spawn: () => Promise<T>): Promise<T> {
  if (score === undefined) return spawn();
  const own = fs.readFileSync(SELF, 'utf8').trim();
  try {
    fs.writeFileSync(SELF, String(score));
  } catch (e) {
    throw new ContainerError(`process.oomScoreAdj ${score}: cannot write ${SELF}: ${(e as NodeJS.ErrnoException).code ?? e}`, { cause: e });
  }
  try {
    return await spawn();
  } finally {
    try {
      fs.writeFileSync(SELF, own);
    } catch {
      // Lowering back can be refused without CAP_SYS_RESOURCE; this process exits soon.
    }
  }
}
