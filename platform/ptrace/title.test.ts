// The stub title (title.ts) on real stub processes of both stub backends: the host's
// /proc/<pid>/comm and cmdline show what the sentry set, threads cloned afterwards carry
// the name, and the page's layout holds what prctl(PR_SET_MM_MAP) checks.
import { readFileSync, readdirSync } from 'node:fs';
import { nativeUnavailable } from '../../native/ptrace/ptrace-native';
import { systrapUnavailable } from '../../native/systrap/systrap-native';
import { getPlatform, MemoryFile, type AddressSpace, type Platform } from '../index';
import { runTask } from '../testing/run';
import { usePlatform } from '../testing/suite';
import type { PtraceAddressSpace, PtraceContext } from './ptrace';
import { STUB_BASE } from './stub-layout';
import { COMM_MAX, STUB_TITLE, TITLE_ARGS_MAX, TITLE_OFF_ARGS, TITLE_OFF_COMM, titlePage } from './title';

const missing = [nativeUnavailable(), systrapUnavailable()].filter(Boolean);
if (missing.length) throw new Error(`stub title tests cannot run: ${missing.join('; ')} (run make)`);

const hostView = (pid: number) => ({
  comm: readFileSync(`/proc/${pid}/comm`, 'utf8'),
  cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8'),
});

describe('titlePage', () => {
  test('lays out struct prctl_mm_map, the comm and the arguments, cut to their bounds', () => {
    const p = titlePage('a-very-long-program-name', Buffer.from('x'.repeat(TITLE_ARGS_MAX + 10)));
    const u64 = (i: number) => Number(p.readBigUInt64LE(8 * i));
    expect(u64(0)).toBe(STUB_BASE); // start_code
    expect([u64(7), u64(8)]).toEqual([STUB_TITLE + TITLE_OFF_ARGS, STUB_TITLE + TITLE_OFF_ARGS + TITLE_ARGS_MAX]);
    expect([u64(9), u64(10)]).toEqual([u64(8), u64(8)]); // no environment
    expect(p.readUInt32LE(100)).toBe(0xffffffff); // exe_fd -1
    expect(p.subarray(TITLE_OFF_COMM, TITLE_OFF_COMM + 16).toString('latin1')).toBe('a-very-long-pro\0');
    expect(p[p.length - 1]).toBe(0); // a cut argument still ends
    expect(COMM_MAX).toBe(15);
  });
});

describe.each(['ptrace', 'systrap'])('%s stub title', (name) => {
  let mf: MemoryFile;
  let platform: Platform;
  beforeAll(() => {
    mf = MemoryFile.create({ name: `tvisor-test-title-${name}` });
    platform = getPlatform(name, mf);
  });
  afterAll(() => {
    platform.release();
    mf.close();
  });

  test('the host sees the name and the arguments set, again after a change', () => {
    const as = platform.newAddressSpace() as AddressSpace & { pid: number };
    try {
      expect(hostView(as.pid).cmdline).toBe('');
      as.setTitle!('sleep', Buffer.from('sleep\x0030\x00'));
      expect(hostView(as.pid)).toEqual({ comm: 'sleep\n', cmdline: 'sleep\x0030\x00' });
      as.setTitle!('dbus-daemon-launch-helper', Buffer.from('/usr/lib/x\x00--a\x00'));
      expect(hostView(as.pid)).toEqual({ comm: 'dbus-daemon-lau\n', cmdline: '/usr/lib/x\x00--a\x00' });
      as.setTitle!('empty', Buffer.alloc(0));
      expect(hostView(as.pid)).toEqual({ comm: 'empty\n', cmdline: '' });
    } finally {
      as.release();
    }
  });

  test('a thread made afterwards carries the name', () => {
    const as = platform.newAddressSpace() as AddressSpace & { pid: number };
    try {
      as.setTitle!('worker', Buffer.from('worker\x00'));
      const t = (as as unknown as { newThread(): { tid: number } }).newThread();
      const comms = readdirSync(`/proc/${as.pid}/task`).map((tid) => readFileSync(`/proc/${as.pid}/task/${tid}/comm`, 'utf8'));
      expect(comms.length).toBeGreaterThanOrEqual(2);
      expect(new Set(comms)).toEqual(new Set(['worker\n']));
      expect(t.tid).toBeGreaterThan(0);
    } finally {
      as.release();
    }
  });
});

describe('ptrace: a task\'s own stub thread', () => {
  const f = usePlatform<PtraceAddressSpace, PtraceContext>('ptrace');

  test('takes the name the task gives itself, between two syscalls, and the task runs on', () => {
    const { as, ctx, regs } = f.setup('syscall-loop');
    as.setTitle('proc', Buffer.from('proc\x00-x\x00'));
    regs.rdi = 100n;
    let named: string | undefined;
    let calls = 0;
    const out = runTask(ctx, as, regs, (r) => {
      if (++calls === 50) {
        ctx.nameThread(as, 'worker-thread-name');
        named = readFileSync(`/proc/${as.pid}/task/${ctx.threadOf(as)!.tid}/comm`, 'utf8');
      }
      return r.arg(0) + r.arg(1);
    });
    expect(out).toEqual({ kind: 'exit', code: 0, syscalls: 100 });
    expect(named).toBe('worker-thread-n\n'); // 15 bytes, as Linux keeps
    // The process keeps its name and arguments (its leader's).
    expect(hostView(as.pid)).toEqual({ comm: 'proc\n', cmdline: 'proc\x00-x\x00' });
  });
});
