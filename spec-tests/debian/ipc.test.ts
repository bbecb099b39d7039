/**
 * System V IPC seen by `ipcs` on the Debian image, compared with runc: Python creates a
 * shared memory segment (attached by itself), a semaphore set and a message queue with
 * libc's shmget/semget/msgget through ctypes, then runs `ipcs` (which reads
 * /proc/sysvipc/*) and `ipcs -l` (the limits in /proc/sys/kernel). Each container has
 * a fresh IPC namespace, so the ids are the same under both. Then POSIX message queues
 * through /dev/mqueue (runc's default spec mounts an mqueue file system there): a queue
 * made with mq_open listed, stat'ed and read there, removed with rm, and one made by
 * touch (open with O_CREAT).
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

const MQUEUE = `python3 - <<'PY'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
class Attr(ctypes.Structure):
    _fields_ = [('flags', ctypes.c_long), ('maxmsg', ctypes.c_long), ('msgsize', ctypes.c_long), ('curmsgs', ctypes.c_long), ('pad', ctypes.c_long * 4)]
q = libc.mq_open(b'/tvq', os.O_CREAT | os.O_RDWR, 0o640, ctypes.byref(Attr(0, 5, 100, 0)))
assert q >= 0 and libc.mq_send(q, b'hello', 5, 3) == 0
PY
grep -c ' /dev/mqueue mqueue ' /proc/mounts
stat -c '%A %U %G %s %n' /dev/mqueue /dev/mqueue/tvq
cat /dev/mqueue/tvq
touch /dev/mqueue/made
ls /dev/mqueue
stat -c '%A %s %n' /dev/mqueue/made
cat /dev/mqueue/made
rm /dev/mqueue/tvq /dev/mqueue/made
ls /dev/mqueue | wc -l
python3 -c "import ctypes, os; l = ctypes.CDLL(None, use_errno=True); print('mq_open after rm:', l.mq_open(b'/tvq', os.O_RDONLY), os.strerror(ctypes.get_errno()))"`;

test('/dev/mqueue lists, shows and removes POSIX message queues as under runc', () => {
  const runc = runDebian('runc', MQUEUE, { timeoutMs: 60_000 });
  expect(runc.status).toBe(0);
  expect(runc.stdout).toContain('-rw-r----- root root 80 /dev/mqueue/tvq');
  expect(runc.stdout).toMatch(/^QSIZE:5 +NOTIFY:0 +SIGNO:0 +NOTIFY_PID:0 *$/m);
  expect(runc.stdout).toContain('mq_open after rm: -1 No such file or directory');
  const tvisor = runDebian('tvisor', MQUEUE, { timeoutMs: 60_000 });
  expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status }).toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
});
