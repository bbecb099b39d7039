/**
 * hostTool copies a host binary and the shared libraries it loads that the Debian image
 * lacks (ldd's list) into a fresh directory, to bind-mount into a container and run with
 * LD_LIBRARY_PATH pointing there: strace and gdb are not in the image.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { DEBIAN_ROOTFS } from './image';

/** hostTool returns the directory holding `binary` (under its base name) and its missing
 * libraries. A binary missing on the host fails the test that asked: `make setup` installs
 * each (DEBIAN_PACKAGES), so its absence is never a skip. */
export function hostTool(binary: string): string {
  if (!fs.existsSync(binary)) throw new Error(`prerequisite missing: ${binary} (make setup installs it)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${path.basename(binary)}-bin-`));
  fs.copyFileSync(binary, path.join(dir, path.basename(binary)));
  for (const line of execFileSync('ldd', [binary], { encoding: 'utf8' }).split('\n')) {
    const m = /=> (\/\S+)/.exec(line);
    if (!m) continue;
    const name = path.basename(m[1]);
    const inImage = ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu'].some((d) => fs.existsSync(path.join(DEBIAN_ROOTFS, d, name)));
    if (!inImage) fs.copyFileSync(m[1], path.join(dir, name));
  }
  return dir;
}
