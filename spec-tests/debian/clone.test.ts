/**
 * clone, vfork and futexes as real programs use them: Python's subprocess and
 * os.posix_spawn (vfork-style children that report exec failure through shared memory),
 * and Python threads meeting on locks and conditions (futexes). Each script's output
 * under tvisor must be runc's.
 */
import { expectSameAsRunc } from './image';

const CASES: Array<[string, string]> = [
  ['subprocess of a missing program', `python3 -c '
import os, subprocess
for argv in (["/no/such/program"], ["no-such-program-in-path"]):
    try:
        subprocess.run(argv)
    except FileNotFoundError as e:
        print("subprocess", argv[0], "FileNotFoundError", e.errno)
print("subprocess true:", subprocess.run(["true"]).returncode, subprocess.run(["sh", "-c", "exit 3"]).returncode)
try:
    os.posix_spawn("/no/such/program", ["x"], os.environ)
except FileNotFoundError as e:
    print("posix_spawn FileNotFoundError", e.errno)
pid = os.posix_spawnp("sh", ["sh", "-c", "exit 5"], os.environ)
print("posix_spawnp sh:", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
'`],
  ['threads on locks and conditions', `python3 -c '
import threading, queue
n = 0
lock = threading.Lock()
def work():
    global n
    for _ in range(2000):
        with lock:
            n += 1
ts = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in ts]
[t.join() for t in ts]
print("counter", n)
q = queue.Queue()
def consume():
    total = 0
    while (x := q.get()) is not None:
        total += x
    q.put(total)
c = threading.Thread(target=consume)
c.start()
for i in range(1000):
    q.put(i)
q.put(None)
c.join()
print("queue sum", q.get())
'`],
];

describe('clone, vfork and futexes in Debian programs under tvisor match runc', () => {
  test.each(CASES)('%s', (_name, script) => expectSameAsRunc(script));
});
