/**
 * daemon-json.ts edits Docker's daemon.json for `tvisor install` / `uninstall`: it adds or
 * removes one entry under `runtimes` and keeps every other key as it was. The file is
 * replaced atomically; a file that is not a JSON object is refused, never overwritten.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeAtomic } from '../container/store';

/** DEFAULT_DAEMON_JSON is where dockerd reads its configuration. */
export const DEFAULT_DAEMON_JSON = '/etc/docker/daemon.json';

/** RuntimeEntry is one entry of daemon.json's `runtimes`. */
export interface RuntimeEntry {
  path: string;
  runtimeArgs?: string[];
}

function readDaemonJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  if (text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: invalid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error(`${file}: must hold a JSON object`);
  return doc as Record<string, unknown>;
}

/** installRuntime sets runtimes[name] = entry in `file` (created with its directory if needed). */
export function installRuntime(file: string, name: string, entry: RuntimeEntry): void {
  const doc = readDaemonJson(file);
  const runtimes = doc.runtimes ?? {};
  if (typeof runtimes !== 'object' || runtimes === null || Array.isArray(runtimes)) throw new Error(`${file}: runtimes: must be an object`);
  doc.runtimes = { ...(runtimes as Record<string, unknown>), [name]: entry };
  mkdirSync(path.dirname(file), { recursive: true });
  writeAtomic(file, JSON.stringify(doc, null, 2) + '\n', 0o644);
}

/** uninstallRuntime removes runtimes[name] from `file`; it returns false when it was absent. */
export function uninstallRuntime(file: string, name: string): boolean {
  const doc = readDaemonJson(file);
  const runtimes = doc.runtimes as Record<string, unknown> | undefined;
  if (!runtimes || typeof runtimes !== 'object' || !(name in runtimes)) return false;
  delete runtimes[name];
  if (Object.keys(runtimes).length === 0) delete doc.runtimes;
  writeAtomic(file, JSON.stringify(doc, null, 2) + '\n', 0o644);
  return true;
}
