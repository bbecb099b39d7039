/**
 * probes.ts decides, before the Docker tests are declared, whether they can run here.
 * TVISOR_DOCKER_TESTS=0 leaves the suite out, said as a skip; a missing prerequisite
 * (root, Debian's docker.io, busybox-static, a built tvisor) is a failure naming it. The
 * tvisor features Docker needs (single-file binds, exec, terminals) are no longer probed:
 * they are built, and a regression must fail the suite rather than skip its tests.
 */
import * as fs from 'node:fs';
import { BUSYBOX, DOCKER, DOCKERD, TVISOR } from './harness';

/** optedOut tells whether TVISOR_DOCKER_TESTS=0 asks for the suite to be left out. */
export function optedOut(): boolean {
  return process.env.TVISOR_DOCKER_TESTS === '0';
}

/** missingPrerequisite returns what the Docker suite needs and this machine lacks, or undefined. */
export function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'the Docker tests need root (dockerd)';
  if (!fs.existsSync(DOCKERD) || !fs.existsSync(DOCKER)) return `${DOCKERD} or ${DOCKER} is missing (apt-get install docker.io)`;
  if (!fs.existsSync(BUSYBOX)) return `${BUSYBOX} is missing (apt-get install busybox-static)`;
  if (!fs.existsSync(TVISOR)) return `${TVISOR} is missing (run make)`;
  return undefined;
}
