// Tests of the platforms' self-check (platform/self-check.ts) and of `tvisor platforms`,
// which prints it: what each says about a backend is compared with what the host offers,
// read independently of the platform code (/proc/cpuinfo, /proc/self/status, the built
// stubs), and a backend that cannot start or answers wrongly is reported with its reason.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getPlatformWith, MemoryFile, platformNames, registerPlatform, type Platform } from './index';
import { checkPlatform, checkPlatforms, kernelHasUretprobe, openDefaultPlatform, renderPlatformChecks } from './self-check';
import { StubPlatform } from './ptrace/stub-platform';
import { PtraceAddressSpace } from './ptrace/address-space';
import { newPtraceContext } from './ptrace/ptrace';

const REPO = path.resolve(__dirname, '..');
const TVISOR = path.join(REPO, 'bin', 'tvisor');
if (!fs.existsSync(TVISOR)) throw new Error(`${TVISOR} is missing: run make build`);
/** REGISTERED are the backends platform/index.ts registers (before this file adds its fakes). */
const REGISTERED = platformNames();

/** hostCan says, from the host's own files, whether backend `name` should work here; undefined when the test does not know the backend. */
function hostCan(name: string): boolean | undefined {
  const seccomp = /^Seccomp:/m.test(fs.readFileSync('/proc/self/status', 'utf8'));
  const built = (stub: string): boolean => fs.existsSync(path.join(REPO, 'build', 'native', stub));
  // As root with no Yama restriction to stop us, a parent may trace its child.
  const yama = fs.existsSync('/proc/sys/kernel/yama/ptrace_scope') ? fs.readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim() : '0';
  if (name === 'ptrace') return seccomp && yama !== '3' && built('tvisor-stub');
  if (name === 'systrap') return seccomp && yama !== '3' && built('tvisor-systrap-stub');
  return undefined;
}

describe('the platforms\' self-check', () => {
  test('each registered backend is checked, and ptrace and systrap work exactly where the host offers what they need', () => {
    const checks = checkPlatforms();
    expect(checks.map((c) => c.name)).toEqual(REGISTERED);
    expect(checks.map((c) => c.name)).toEqual(expect.arrayContaining(['ptrace', 'systrap']));
    for (const c of checks) {
      const want = hostCan(c.name);
      if (want !== undefined) expect({ name: c.name, works: c.works }).toEqual({ name: c.name, works: want });
      // A backend that does not work says why, in one line.
      if (!c.works) expect(c.reason).toMatch(/^[^\n]+$/);
      else expect(c.reason).toBeUndefined();
    }
  });

  test('uprobe and uretprobe must trap: ptrace stops them; where systrap lets one reach the host, it works but is not the default', () => {
    expect(checkPlatform('ptrace').passesThrough).toBeUndefined();
    const systrap = checkPlatform('systrap');
    if (systrap.passesThrough) {
      // Linux 6.11+ (uretprobe) and 6.16+ (uprobe): seccomp does not ask the filter.
      expect(systrap.passesThrough).toMatch(/^(uprobe \(336\)|uretprobe \(335\)) reached the host without a trap/);
      expect(systrap.works).toBe(true);
      expect(renderPlatformChecks([{ name: 'ptrace', works: true }, systrap], 'table')).toMatch(/^ptrace   works \(default\)\nsystrap  works, not the default: u(ret)?probe/);
    }
    const [major, minor] = os.release().split('.').map(Number);
    if (major < 6 || (major === 6 && minor < 11)) expect(systrap.passesThrough).toBeUndefined();
  });

  test('a backend that cannot start is reported with its reason', () => {
    const name = `broken-${process.pid}`;
    registerPlatform(name, () => {
      throw new Error('no such host feature\nsecond line');
    });
    expect(checkPlatform(name)).toEqual({ name, works: false, reason: 'no such host feature' });
  });

  test('a backend whose round trip does not reach the check fails it', () => {
    // ptrace's stubs with a context that answers every switch as an exit: the check's
    // getpid never reaches it.
    class Silent extends StubPlatform<PtraceAddressSpace, ReturnType<typeof newPtraceContext>> {
      readonly name = 'silent';
      protected readonly stubName = 'tvisor-stub';
      protected spawnSpace(started?: number): PtraceAddressSpace {
        return PtraceAddressSpace.spawn(this.memoryFile, 'tvisor-stub', started);
      }
      protected controlTid(as: PtraceAddressSpace): number {
        return as.controlThread.tid;
      }
      newContext(): ReturnType<typeof newPtraceContext> {
        const ctx = newPtraceContext();
        ctx.switch = () => ({ kind: 'exited', signal: 9 });
        return ctx;
      }
    }
    const name = `silent-${process.pid}`;
    registerPlatform(name, (mf: MemoryFile): Platform => new Silent(mf));
    expect(checkPlatform(name)).toEqual({ name, works: false, reason: 'the round trip for uprobe gave {"kind":"exited","signal":9}, not uprobe' });
  });

  test('the table has one line per backend, the JSON the same checks; the default is marked in both', () => {
    const checks = [{ name: 'ptrace', works: true }, { name: 'systrap', works: false, reason: 'no seccomp' }];
    expect(renderPlatformChecks(checks, 'table')).toBe('ptrace   works (default)\nsystrap  does not work: no seccomp\n');
    expect(JSON.parse(renderPlatformChecks(checks, 'json'))).toEqual([{ ...checks[0], default: true }, checks[1]]);
    const both = [{ name: 'ptrace', works: true }, { name: 'systrap', works: true }];
    expect(renderPlatformChecks(both, 'table', '6.1.0')).toBe('ptrace   works\nsystrap  works (default)\n');
    expect(JSON.parse(renderPlatformChecks(both, 'json', '6.1.0'))).toEqual([both[0], { ...both[1], default: true }]);
  });
});

describe('the default platform (a sentry without --platform)', () => {
  test('is systrap where its self-check passes, over the memory file it is given', () => {
    const mf = MemoryFile.create({ name: 'tvisor-default-test' });
    try {
      const { platform, note } = openDefaultPlatform(mf);
      const gated = kernelHasUretprobe(os.release());
      const want = hostCan('systrap') && !checkPlatform('systrap').passesThrough && !gated ? 'systrap' : 'ptrace';
      expect(platform.name).toBe(want);
      expect(platform.memoryFile).toBe(mf);
      expect(note).toMatch(want === 'systrap' ? /^platform systrap: the default \(its self-check passed\)$/
        : gated ? /^platform ptrace: the default here, since systrap would let uretprobe \(335\) reach the host on Linux .+ \(6\.11 and later; tvisor platforms runs the check\)$/
          : /^platform ptrace: the default here, since systrap's self-check failed: .+$/);
      // The check gave its code page back: the memory file holds what one address space,
      // made and released, leaves (the backend's own pages); without a check, nothing.
      const other = MemoryFile.create({ name: 'tvisor-default-test' });
      try {
        const p = getPlatformWith(want, other);
        if (!gated) p.newAddressSpace().release();
        expect(mf.usedBytes).toBe(other.usedBytes);
        p.release();
      } finally {
        other.close();
      }
      platform.release();
    } finally {
      mf.close();
    }
  });

  test('is ptrace without a check on Linux 6.11 and later (uretprobe), systrap\'s check decides before', () => {
    expect(['5.15.0', '6.1.0-27-amd64', '6.10.14', '6.11.0', '6.18.44-fc-v1272', '7.0.1', 'garbage'].map(kernelHasUretprobe))
      .toEqual([false, false, false, true, true, true, false]);
    const mf = MemoryFile.create({ name: 'tvisor-default-test' });
    try {
      const { platform, note } = openDefaultPlatform(mf, 'systrap', 'ptrace', '6.12.3');
      expect(platform.name).toBe('ptrace');
      expect(note).toBe('platform ptrace: the default here, since systrap would let uretprobe (335) reach the host on Linux 6.12.3 (6.11 and later; tvisor platforms runs the check)');
      platform.release();
    } finally {
      mf.close();
    }
    const both = [{ name: 'ptrace', works: true }, { name: 'systrap', works: true }];
    expect(renderPlatformChecks(both, 'table', '6.12.3')).toBe('ptrace   works (default)\nsystrap  works\n');
    expect(renderPlatformChecks(both, 'table', '6.1.0')).toBe('ptrace   works\nsystrap  works (default)\n');
  });

  test('is the fallback, with the preferred backend\'s reason, where that one fails its check', () => {
    const name = `broken-default-${process.pid}`;
    registerPlatform(name, () => {
      throw new Error('no such host feature');
    });
    const mf = MemoryFile.create({ name: 'tvisor-default-test' });
    try {
      const { platform, note } = openDefaultPlatform(mf, name, 'ptrace');
      expect(platform.name).toBe('ptrace');
      expect(note).toBe(`platform ptrace: the default here, since ${name}'s self-check failed: no such host feature`);
      platform.release();
    } finally {
      mf.close();
    }
  });
});

describe('tvisor platforms', () => {
  test('lists every registered backend with what the host can do, as a table and as JSON', () => {
    const json = spawnSync(TVISOR, ['platforms', '--format', 'json'], { encoding: 'utf8' });
    expect(json.stderr).toBe('');
    const listed = JSON.parse(json.stdout) as { name: string; works: boolean; reason?: string; passesThrough?: string }[];
    const chosen = hostCan('systrap') && !listed.find((c) => c.name === 'systrap')?.passesThrough && !kernelHasUretprobe(os.release()) ? 'systrap' : 'ptrace';
    expect(listed.map((c) => c.name)).toEqual(REGISTERED);
    for (const c of listed) {
      const want = hostCan(c.name);
      if (want !== undefined) expect({ name: c.name, works: c.works }).toEqual({ name: c.name, works: want });
    }
    expect(json.status).toBe(listed.some((c) => c.works) ? 0 : 1);

    const table = spawnSync(TVISOR, ['platforms'], { encoding: 'utf8' });
    const lines = table.stdout.trimEnd().split('\n');
    const state = (c: (typeof listed)[number]) => (!c.works ? `does not work: ${c.reason}` : c.passesThrough ? `works, not the default: ${c.passesThrough}` : 'works');
    expect(lines.map((l) => /^(\S+) +(works|works, not the default: .+?|does not work: .+?)( \(default\))?$/.exec(l)?.slice(1, 4))).toEqual(
      listed.map((c) => [c.name, state(c), c.name === chosen ? ' (default)' : undefined]));
    // Exactly one default, the one a sentry without --platform takes.
    expect(listed.filter((c) => (c as { default?: boolean }).default).map((c) => c.name)).toEqual([chosen]);
  });

  test('a wrong --format is one line and status 2', () => {
    const r = spawnSync(TVISOR, ['platforms', '--format', 'yaml'], { encoding: 'utf8' });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 2, stdout: '', stderr: 'tvisor platforms: --format: "yaml" is not table or json\n' });
  });
});
