/**
 * Python's multiprocessing on the Debian image under tvisor, compared with runc. Its
 * Lock is a POSIX semaphore (sem_open: a /dev/shm file mapped MAP_SHARED),
 * shared_memory.SharedMemory a /dev/shm file mapped by several processes, and Pool's
 * queues are guarded by such locks. Each script prints deterministic results only.
 *
 * The second case makes processes wait on each other's locks: its wake-ups cross
 * processes through a futex in a shared file mapping, which needs futexes keyed by
 * (memory object, offset) (Vma.shared; the futex work of issue 9).
 */
import { runDebian } from './image';

/** python wraps a Python program into a bash script. */
function python(program: string): string {
  return `python3 - <<'PY'\n${program}\nPY`;
}

/** compare runs a script under runc and tvisor and expects the same output and status. */
function compare(script: string, expected: string): void {
  const runc = runDebian('runc', script, { timeoutMs: 60_000 });
  expect(runc.status).toBe(0);
  expect(runc.stdout).toContain(expected);
  const tvisor = runDebian('tvisor', script, { timeoutMs: 60_000 });
  expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status }).toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
}

const SHARED = python(`import multiprocessing as mp
from multiprocessing import shared_memory

def try_lock(lock, q):
    got = lock.acquire(timeout=0.2)
    q.put(got)
    if got:
        lock.release()

def fill(name):
    shm = shared_memory.SharedMemory(name=name)
    shm.buf[:5] = b'hello'
    shm.close()

if __name__ == '__main__':
    lock, q = mp.Lock(), mp.SimpleQueue()
    lock.acquire()
    p = mp.Process(target=try_lock, args=(lock, q)); p.start(); p.join()
    print('child while the parent holds the lock:', q.get(), p.exitcode)
    lock.release()
    p = mp.Process(target=try_lock, args=(lock, q)); p.start(); p.join()
    print('child after the parent released it:', q.get(), p.exitcode)
    shm = shared_memory.SharedMemory(create=True, size=4096)
    p = mp.Process(target=fill, args=(shm.name,)); p.start(); p.join()
    print('shared memory written by a child:', bytes(shm.buf[:5]), shm.size >= 4096, p.exitcode)
    shm.close(); shm.unlink()`);

const POOL = python(`import multiprocessing as mp

def square(x):
    return x * x

def locked_add(lock, counter, n):
    for _ in range(n):
        with lock:
            counter.value += 1

if __name__ == '__main__':
    with mp.Pool(2) as pool:
        print('pool map:', pool.map(square, range(10)))
    lock = mp.Lock()
    counter = mp.Value('i', 0, lock=False)
    procs = [mp.Process(target=locked_add, args=(lock, counter, 200)) for _ in range(2)]
    for p in procs: p.start()
    for p in procs: p.join()
    print('counter under a contended lock:', counter.value, [p.exitcode for p in procs])`);

describe('Python multiprocessing under tvisor matches runc', () => {
  test('Lock and SharedMemory between processes', () => compare(SHARED, "shared memory written by a child: b'hello' True 0"));
  test('Pool(2).map and a contended Lock', () => compare(POOL, 'pool map: [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]'));
});
