/**
 * remove.ts deletes files and directory trees of the runtime's own state (a container's
 * directory, the sandbox's sockets) with unlink and rmdir. fs.rmSync does the same
 * through Node 20's JavaScript rimraf, a module loaded and compiled on first use: 1-2 ms
 * of CPU in every run and delete here.
 */
// Named imports: a namespace import costs esbuild's __toESM a copy of every export of node:fs.
import { lstatSync, readdirSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';

/** removeFile removes a file, socket or symbolic link; one that does not exist is fine (rmSync's force). */
export function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * removeTree removes `target` and, when it is a directory, everything under it, without
 * following symbolic links; one that does not exist is fine (rmSync's recursive and force).
 */
export function removeTree(target: string): void {
  let st: Stats;
  try {
    st = lstatSync(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  // A file, a socket or a symbolic link (to a directory too) is unlinked, never followed.
  if (!st.isDirectory()) return removeFile(target);
  for (const e of readdirSync(target, { withFileTypes: true })) {
    const p = `${target}/${e.name}`;
    if (e.isDirectory()) removeTree(p);
    else removeFile(p);
  }
  rmdirSync(target);
}
