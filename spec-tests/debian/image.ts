/**
 * image.ts runs real programs of a Debian bookworm image (built by `make debian-image`
 * with debootstrap into build/debian/rootfs, once per machine and shared read-only by
 * every test) under runc and tvisor, so that a test compares what Debian's own binaries
 * do under both. The container gets a tmpfs at /tmp and, with `work`, a fresh host
 * directory at /work served by the gofer (a bind mount, as a user's volume is).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, runUnder, type RunOptions, type RunResult, type Runtime } from '../behaviour/runner';

/** DEBIAN_ROOTFS is the image's root directory, symlinks resolved (runc refuses a rootfs
 * reached through one, and a worktree may link build/debian to a shared build). */
export const DEBIAN_ROOTFS = realpath(path.join(REPO, 'build', 'debian', 'rootfs'));

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p; // not built yet: debianImageMissing says so
  }
}

/** debianImageMissing returns why the image cannot be used (not built), or undefined.
 * A test that needs the image fails with this reason: it is never skipped. */
export function debianImageMissing(): string | undefined {
  if (!fs.existsSync(path.join(DEBIAN_ROOTFS, '.packages'))) {
    return `${path.relative(REPO, DEBIAN_ROOTFS)} is missing: run \`make debian-image\``;
  }
  return undefined;
}

/** DebianRunOptions tunes one run in the image. */
export interface DebianRunOptions extends Omit<RunOptions, 'rootfs' | 'scratchMount'> {
  /** work bind-mounts a fresh host directory at /work (default true). */
  work?: boolean;
}

/** runDebian runs `bash -c script` as the init of a container on the Debian image under
 * the given runtime, in /work (or / without it). */
export function runDebian(runtime: Runtime, script: string, opts: DebianRunOptions = {}): RunResult {
  const missing = debianImageMissing();
  if (missing) throw new Error(missing);
  const work = opts.work ?? true;
  const cd = work ? 'cd /work && ' : '';
  return runUnder(runtime, undefined, ['/bin/bash', '-c', `${cd}${script}`], {
    ...opts,
    rootfs: DEBIAN_ROOTFS,
    scratchMount: work ? '/work' : undefined,
    editSpec: (spec) => {
      spec.process.env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8'];
      opts.editSpec?.(spec);
    },
  });
}

/** expectSameAsRunc runs `script` under runc (which must succeed) and then tvisor, and
 * asserts that tvisor printed the same on stdout and stderr and ended the same. */
export function expectSameAsRunc(script: string, opts: DebianRunOptions = {}): void {
  const runc = runDebian('runc', script, opts);
  expect(runc.status).toBe(0);
  const tvisor = runDebian('tvisor', script, opts);
  expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status }).toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
}
