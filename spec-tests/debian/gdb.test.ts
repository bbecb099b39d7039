/**
 * Debian's gdb (the host's binary and the libraries the image lacks, bind-mounted) debugs
 * a program inside the container under tvisor as under runc: a breakpoint (int3 poked into
 * the text, the SIGTRAP stop, rip moved back, single steps over it), a backtrace and the
 * arguments read from registers and memory, finish and continue to the exit code, and
 * the same warnings but for those about gdb's Python data directory, which is not
 * mounted (under both). The warnings once differed: under tvisor the vDSO's section
 * headers were not mapped, so BFD found no section string table in the image it read from
 * the process. gdb reads and writes the tracee through /proc/<pid>/mem.
 */
import * as fs from 'node:fs';
import { expectSameAsRunc } from './image';
import { hostTool } from './host-tool';

const GDB = '/usr/bin/gdb';

const PROGRAM = String.raw`#include <stdio.h>
int add(int a, int b) { return a + b; }
int main(void) { int x = add(2, 3); printf("x=%d\n", x); return x; }
`;

describe('gdb inside the container under tvisor matches runc', () => {
  let dir = '';
  beforeAll(() => { dir = hostTool(GDB); });
  afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  test('break, backtrace, print, finish, continue', () => {
    expectSameAsRunc(`cat > p.c <<'EOF'
${PROGRAM}EOF
gcc -g -O0 -o p p.c || exit 1
LD_LIBRARY_PATH=/opt/gdb /opt/gdb/gdb -batch -nx -ex 'break add' -ex run -ex bt -ex 'print a+b' -ex 'print $pc == add' -ex finish -ex continue ./p >out.txt 2>&1; echo "gdb: $?"
grep -E '^(Breakpoint 1|#[01] |\\$[0-9]+ = |Value returned|x=|\\[Inferior 1)' out.txt | sed 's/(process [0-9]*)/(process N)/'
grep -i 'warning' out.txt | grep -vi 'python' || echo 'no other warnings'
# What runc shows, checked so that a run where gdb stops nowhere fails too.
grep -q 'Value returned is \\$[0-9]* = 5' out.txt && grep -q 'exited with code 05' out.txt`, { mounts: [{ source: dir, destination: '/opt/gdb' }] });
  });
});
