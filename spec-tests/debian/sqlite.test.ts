/**
 * Real programs' locks, under tvisor as under runc.
 *
 * SQLite's locking between two processes on a database in /work (a gofer-served bind
 * mount), under tvisor as under runc: Python's sqlite3 holds BEGIN EXCLUSIVE (its fcntl
 * locks on the database) while the sqlite3 CLI tries to write and to read ("database is
 * locked", status 5), then a writer with a busy timeout waits and succeeds once the holder
 * commits. The steps are sequenced through the holder's pipes (a bash coproc), never by
 * time.
 *
 * dpkg's lock: while another process holds an fcntl lock on a copy of its database
 * (/work/dpkg/lock-frontend), `dpkg --configure -a` refuses with the holder's pid (F_GETLK's
 * l_pid, compared with the pid the holder printed), and succeeds once the holder exits.
 *
 * The image is built by `make debian-image`; without it these tests fail.
 */
import { runDebian } from './image';


const SCRIPT = `
set -e
sqlite3 db 'create table t(x); insert into t values (1);'
cat > /tmp/hold.py <<'PY'
import sqlite3, sys
c = sqlite3.connect('db', isolation_level=None)
c.execute('BEGIN EXCLUSIVE')
c.execute('insert into t values (2)')
print('holds BEGIN EXCLUSIVE', flush=True)
sys.stdin.readline()
c.execute('COMMIT')
print('committed', flush=True)
PY
coproc H { python3 /tmp/hold.py; }
read -r line <&"\${H[0]}"; echo "holder: $line"
sqlite3 db 'insert into t values (3);' 2>&1 && echo "writer: ok" || echo "writer: exit $?"
sqlite3 db 'select count(*) from t;' 2>&1 && echo "reader: ok" || echo "reader: exit $?"
sqlite3 -cmd '.timeout 30000' db 'insert into t values (4);' > /tmp/w.out 2>&1 &
W=$!
echo go >&"\${H[1]}"
read -r line <&"\${H[0]}"; echo "holder: $line"
wait $W && echo "writer with a busy timeout: ok" || echo "writer with a busy timeout: exit $?"
cat /tmp/w.out
sqlite3 db 'select group_concat(x) from t; pragma integrity_check;'
`;

test('sqlite3: two writers, one holding BEGIN EXCLUSIVE, behave under tvisor as under runc', () => {
  const runc = runDebian('runc', SCRIPT);
  expect(runc.status).toBe(0);
  expect(runc.stdout.split('\n')).toEqual([
    'holder: holds BEGIN EXCLUSIVE',
    'Error: in prepare, database is locked (5)',
    'writer: exit 5',
    'Error: in prepare, database is locked (5)',
    'reader: exit 5',
    'holder: committed',
    'writer with a busy timeout: ok',
    '1,2,4',
    'ok',
    '',
  ]);
  const tvisor = runDebian('tvisor', SCRIPT);
  expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status }).toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
});

const DPKG_SCRIPT = `
set -e
cp -r /var/lib/dpkg /work/dpkg
cat > /tmp/hold.py <<'PY'
import fcntl, os, sys
f = open('/work/dpkg/lock-frontend', 'w')
fcntl.lockf(f, fcntl.LOCK_EX)
print(os.getpid(), flush=True)
sys.stdin.readline()
PY
coproc H { python3 /tmp/hold.py; }
read -r hpid <&"\${H[0]}"
dpkg --admindir=/work/dpkg --log=/work/dpkg.log --configure -a 2>&1 | sed "s/pid $hpid\\$/pid of the holder/" || true
echo "status \${PIPESTATUS[0]}"
echo go >&"\${H[1]}"
wait
dpkg --admindir=/work/dpkg --log=/work/dpkg.log --configure -a 2>&1 && echo "after the holder exited: ok"
`;

// dpkg --configure -a reads its whole database twice: past the default 30 s on a loaded
// 2-CPU machine (a CI run at load 10 was killed there, which said nothing about dpkg).
const DPKG_RUN = { timeoutMs: 120_000 };

test('dpkg: its lock held by another process is refused with the holder\'s pid, under tvisor as under runc', () => {
  const runc = runDebian('runc', DPKG_SCRIPT, DPKG_RUN);
  expect(runc.status).toBe(0);
  expect(runc.stdout).toContain('dpkg: error: dpkg frontend lock was locked by another process with pid of the holder\n');
  expect(runc.stdout).toContain('status 2\nafter the holder exited: ok\n');
  const tvisor = runDebian('tvisor', DPKG_SCRIPT, DPKG_RUN);
  expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status }).toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
});
