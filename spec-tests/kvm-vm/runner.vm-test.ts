/**
 * The test VM's runner (scripts/kvm-vm/run) gives back what the guest command did: its
 * stdout, stderr and exit status, the same as the command run natively, in the caller's
 * directory with the caller's TVISOR_* variables, with /dev/kvm present in the guest, and
 * a directory shared with --rw takes the guest's writes. When
 * the VM cannot run the command (no kernel, no QEMU, a guest without KVM) it exits 125
 * with one line naming the reason.
 *
 * Run by `make test-kvm` (scripts/kvm-vm/test-kvm.sh builds the VM first), not by
 * `make test`: the `.vm-test.ts` suffix keeps it out of the main suite, as each case boots
 * the VM under TCG (about 15 s).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..');
const RUN = path.join(REPO, 'scripts', 'kvm-vm', 'run');
const VM_DIR = path.join(REPO, 'build', 'kvm-vm');

/** RETRY is the runner's line for a stalled TCG boot it started again (at most one). */
const RETRY = /^kvm-vm: the guest did not boot within \d+s \(a stalled TCG boot\): starting it again\n/;

/** KILLED is the runner's line for a VM its time limit ended. */
const KILLED = /(^|\n)kvm-vm: the VM was killed after \d+s \(TVISOR_KVM_VM_TIMEOUT\)\n$/;

/**
 * run runs the runner; a boot it had to start again is taken out of stderr (and counted
 * once at most). A booted TCG guest hangs now and then on these hosts (seen in CI: a plain
 * `true` stuck for minutes, where a run takes 15-40 s), so each run has a limit of 180 s
 * (TVISOR_KVM_VM_TIMEOUT, unless the caller's environment sets it) and a run that limit
 * ended is made again, up to three runs, saying so on the test's output.
 */
function run(args: string[], env: Record<string, string> = {}, cwd = REPO): SpawnSyncReturns<string> {
  const limit = process.env.TVISOR_KVM_VM_TIMEOUT ?? '180';
  let r!: SpawnSyncReturns<string>;
  for (let attempt = 1; attempt <= 3; attempt++) {
    r = spawnSync(RUN, args, { cwd, encoding: 'utf8', env: { ...process.env, TVISOR_KVM_VM_TIMEOUT: limit, ...env }, timeout: 900_000 });
    if (typeof r.stderr === 'string' && RETRY.test(r.stderr)) {
      r.stderr = r.stderr.replace(RETRY, '');
      expect(RETRY.test(r.stderr)).toBe(false);
    }
    if (!(r.status === 125 && KILLED.test(r.stderr))) break;
    process.stderr.write(`runner test: the VM hung in run ${attempt} of ${args.join(' ')} (killed after ${limit} s)${attempt < 3 ? ': running it again' : ''}\n`);
  }
  return r;
}

function native(args: string[], env: Record<string, string> = {}, cwd = REPO): SpawnSyncReturns<string> {
  return spawnSync(args[0], args.slice(1), { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
}

describe('scripts/kvm-vm/run', () => {
  test('prerequisites: root, QEMU and the built VM (make kvm-vm)', () => {
    expect(process.getuid?.()).toBe(0);
    const qemu = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
    expect(qemu.status === 0 ? 'qemu' : `qemu-system-x86_64 is missing: ${qemu.error?.message ?? qemu.stderr}`).toBe('qemu');
    for (const f of ['vmlinuz', 'initramfs.cpio.gz']) {
      const p = path.join(VM_DIR, f);
      expect(fs.existsSync(p) ? p : `${p} is missing: run make kvm-vm`).toBe(p);
    }
  });

  test('a command with output on both streams and status 3: the same as natively, from the same directory, writing to a --rw directory', () => {
    // The directory holds a file only the host wrote: the guest sees the host's tree at the same path.
    const dir = fs.mkdtempSync(path.join(REPO, 'build', 'kvm-vm-test-'));
    try {
      fs.writeFileSync(path.join(dir, 'marker'), 'from the host\n');
      const script = (kvm: string) => `pwd; cat marker; echo "$TVISOR_KVM_VM_TEST"; ${kvm}; echo written > written; echo to stderr >&2; exit 3`;
      const env = { TVISOR_KVM_VM_TEST: 'an environment variable' };
      const vm = run(['--rw', dir, 'sh', '-c', script('ls /dev/kvm')], env, dir);
      expect(fs.readFileSync(path.join(dir, 'written'), 'utf8')).toBe('written\n');
      fs.rmSync(path.join(dir, 'written'));
      const host = native(['sh', '-c', script('echo /dev/kvm')], env, dir);
      expect({ status: vm.status, stdout: vm.stdout, stderr: vm.stderr }).toEqual({ status: 3, stdout: host.stdout, stderr: host.stderr });
      expect(vm.stdout).toBe(`${dir}\nfrom the host\nan environment variable\n/dev/kvm\n`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('true: status 0 and no output', () => {
    const vm = run(['true']);
    expect({ status: vm.status, stdout: vm.stdout, stderr: vm.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  test('a guest CPU without SVM: 125 and one line saying the guest has no /dev/kvm', () => {
    const vm = run(['true'], { TVISOR_KVM_VM_CPU: 'qemu64,-svm' });
    expect(vm.status).toBe(125);
    expect(vm.stdout).toBe('');
    expect(vm.stderr).toMatch(/^kvm-vm: the guest has no \/dev\/kvm \(.*kvm_amd.*\)\n$/);
  });

  test('a guest that does not boot in time is started once more, with one line saying so', () => {
    // A boot limit no guest can meet (1 s; a boot takes 9 s or more): both attempts stall,
    // the second is waited out until its own limit (TVISOR_KVM_VM_TIMEOUT) ends it.
    const vm = spawnSync(RUN, ['true'], { cwd: REPO, encoding: 'utf8', env: { ...process.env, TVISOR_KVM_VM_BOOT_TIMEOUT: '1', TVISOR_KVM_VM_TIMEOUT: '4' }, timeout: 120_000 });
    expect(vm.stderr).toMatch(RETRY);
    expect(vm.stderr.replace(RETRY, '')).toBe('kvm-vm: the VM was killed after 4s (TVISOR_KVM_VM_TIMEOUT)\n');
    expect(vm.status).toBe(125);
  });

  test('no kernel, no QEMU, no command: 125 and one line each, before any VM starts', () => {
    const noKernel = run(['true'], { TVISOR_KVM_VM_DIR: path.join(os.tmpdir(), 'kvm-vm-test-none') });
    expect([noKernel.status, noKernel.stderr]).toEqual([125, `kvm-vm: ${path.join(os.tmpdir(), 'kvm-vm-test-none')}/vmlinuz is missing: run make kvm-vm\n`]);
    const noQemu = run(['true'], { TVISOR_KVM_VM_QEMU: 'qemu-system-none' });
    expect([noQemu.status, noQemu.stderr]).toEqual([125, 'kvm-vm: qemu-system-none is missing: apt-get install qemu-system-x86 (make setup installs it)\n']);
    const noCommand = run([]);
    expect(noCommand.status).toBe(125);
    expect(noCommand.stderr).toMatch(/^usage: scripts\/kvm-vm\/run /);
  });
});
