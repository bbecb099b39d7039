/**
 * /proc's entries about hardware the sandbox has none of (acpi, bus, fs, irq, keys,
 * timer_list: fsimpl/proc/hardware-files.ts) under tvisor as under runc: with runc's
 * default maskedPaths and readonlyPaths they are masked (acpi an empty read-only tmpfs,
 * keys and timer_list binds of /dev/null) or read-only (bus, fs, irq: a new name there
 * fails ENOENT, as proc's lookup does), with the same mounts in mountinfo; without the
 * masks they are there to read (the contents differ: runc's are the host's).
 */
import { expectSameAsRunc, runDebian } from './image';

const ENTRIES = 'acpi bus fs irq keys timer_list';

describe('/proc hardware entries under tvisor match runc', () => {
  test('masked and read-only as runc\'s defaults make them', () => {
    expectSameAsRunc([
      `for e in ${ENTRIES}; do echo "$e: $(stat -c '%F %a %t:%T' /proc/$e)"; done`,
      'echo "keys: $(wc -c < /proc/keys) bytes, timer_list: $(wc -c < /proc/timer_list) bytes"',
      `grep -E " /proc/(${ENTRIES.replace(/ /g, '|')}) " /proc/self/mountinfo | cut -d" " -f4-`,
      'for d in bus fs irq acpi; do mkdir /proc/$d/probe 2>&1 | sed "s/.*: //"; done',
    ].join('\n'), { work: false });
  });

  test('without masks each is there: directories, a keys list, timer_list\'s header', () => {
    const unmasked = (spec: any) => {
      spec.linux.maskedPaths = [];
      spec.linux.readonlyPaths = [];
    };
    const script = `for e in ${ENTRIES}; do echo "$e: $(stat -c '%F' /proc/$e)"; done; head -1 /proc/timer_list | cut -d: -f1; grep -c "^now at [0-9]* nsecs$" /proc/timer_list`;
    const runc = runDebian('runc', script, { work: false, editSpec: unmasked });
    const tvisor = runDebian('tvisor', script, { work: false, editSpec: unmasked });
    expect({ status: runc.status, stderr: runc.stderr }).toEqual({ status: 0, stderr: '' });
    expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status }).toEqual({ stdout: runc.stdout, stderr: '', status: 0 });
    expect(runc.stdout).toContain('keys: regular empty file');
  });
});
