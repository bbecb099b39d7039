/**
 * System V IPC seen by `ipcs` on the Debian image, compared with runc: Python creates a
 * shared memory segment (attached by itself), a semaphore set and a message queue with
 * libc's shmget/semget/msgget through ctypes, then runs `ipcs` (which reads
 * /proc/sysvipc/*) and `ipcs -l` (the limits in /proc/sys/kernel). Each container has
 * a fresh IPC namespace, so the ids are the same under both.
 */
import { runDebian } from './image';

const SCRIPT = `python3 - <<'PY'
import ctypes, subprocess
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shm = libc.shmget(0, 65536, 0o1600)
addr = libc.shmat(shm, None, 0)
ctypes.memmove(addr, b'hello', 5)
sem = libc.semget(0x1234, 3, 0o1640)
msg = libc.msgget(0x5678, 0o1620)
assert shm >= 0 and sem >= 0 and msg >= 0 and addr not in (None, 2**64 - 1)
print(subprocess.run(['ipcs'], capture_output=True, text=True).stdout, end='')
print(subprocess.run(['ipcs', '-l'], capture_output=True, text=True).stdout, end='')
print('read back:', ctypes.string_at(addr, 5).decode())
libc.shmctl(shm, 0, None)
print(subprocess.run(['ipcs', '-m'], capture_output=True, text=True).stdout, end='')
libc.shmdt(ctypes.c_void_p(addr))
print(subprocess.run(['ipcs', '-m'], capture_output=True, text=True).stdout, end='')
PY`;

test('ipcs shows the segments, sets and queues as under runc', () => {
  const runc = runDebian('runc', SCRIPT, { timeoutMs: 60_000 });
  expect(runc.status).toBe(0);
  // What runc's container shows: the three objects, the limits, and the removed segment until its detach.
  expect(runc.stdout).toMatch(/^0x00000000 0 +root +600 +65536 +1 *$/m);
  expect(runc.stdout).toMatch(/^0x00001234 0 +root +640 +3 *$/m);
  expect(runc.stdout).toMatch(/^0x00005678 0 +root +620 +0 +0 *$/m);
  expect(runc.stdout).toMatch(/^max number of segments = 4096$/m);
  expect(runc.stdout).toMatch(/dest/);
  const tvisor = runDebian('tvisor', SCRIPT, { timeoutMs: 60_000 });
  expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status }).toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
});
