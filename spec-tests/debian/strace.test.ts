/**
 * Debian's strace (the host's binary and the libraries it needs, bind-mounted: the image
 * has no strace) runs inside the container under tvisor as under runc: `strace -f`
 * follows a shell and its children through PTRACE_SEIZE, PTRACE_SYSCALL stops,
 * PTRACE_GET_SYSCALL_INFO and the fork and exec events (sentry/kernel/ptrace.ts). The
 * trace itself names addresses and pids, so what is compared is the command's output,
 * its status, and which syscalls the trace shows.
 */
import * as fs from 'node:fs';
import { expectSameAsRunc } from './image';
import { hostTool } from './host-tool';

const STRACE = '/usr/bin/strace';


describe('strace -f inside the container under tvisor matches runc', () => {
  let dir = '';
  beforeAll(() => { dir = hostTool(STRACE); });
  afterAll(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  test('a shell, a fork and an exec, followed', () => {
    expectSameAsRunc(`LD_LIBRARY_PATH=/opt/strace /opt/strace/strace -f -o trace.txt sh -c 'echo hello; /bin/true; exit 3'; echo "status $?"
echo "processes traced: $(cut -d" " -f1 trace.txt | sort -u | wc -l)"
for call in execve wait4 exit_group write; do echo "$call: $(grep -c "\\b$call(" trace.txt | sed 's/^0$/none/; s/^[1-9][0-9]*$/some/')"; done
grep -c '+++ exited with 3 +++' trace.txt
# What runc shows, checked so that a run where strace follows nothing fails too: the shell and its child.
[ "$(cut -d" " -f1 trace.txt | sort -u | wc -l)" -ge 2 ]`, { mounts: [{ source: dir, destination: '/opt/strace' }] });
  });
});
