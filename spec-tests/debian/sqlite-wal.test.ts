/**
 * Shared file mappings as real programs use them, on /work (a gofer-served bind mount),
 * under tvisor as under runc.
 *
 * SQLite in WAL mode keeps its wal-index in the `-shm` file beside the database, mapped
 * MAP_SHARED by every connection: two long-lived Python connections (a writer and a
 * reader, driven in lock step through pipes, never by time) see each other's commits;
 * then a loop of sqlite3 CLI writers runs while a reader polls, and the counts it sees
 * never go down and reach the total; at the end the database is checkpointed, intact,
 * and its -wal and -shm files are gone.
 *
 * git: a repository in /work packed by `git gc` (pack files and the index are mapped),
 * with commits made after the pack, then repacked and checked by `git fsck`.
 *
 * The image is built by `make debian-image`; without it these tests fail.
 */
import { runDebian } from './image';

/** expectAsRunc runs `script` under runc, which must print `lines`, then under tvisor,
 * which must print and end the same. */
function expectAsRunc(script: string, lines: string[]): void {
  const runc = runDebian('runc', script, { timeoutMs: 150_000 });
  expect({ stdout: runc.stdout, status: runc.status }).toEqual({ stdout: lines.map((l) => l + '\n').join(''), status: 0 });
  const tvisor = runDebian('tvisor', script, { timeoutMs: 150_000 });
  expect({ stdout: tvisor.stdout, stderr: tvisor.stderr, status: tvisor.status }).toEqual({ stdout: runc.stdout, stderr: runc.stderr, status: runc.status });
}

const WAL_SCRIPT = `
set -e
sqlite3 db 'pragma journal_mode=wal; create table t(x integer);'
cat > /tmp/w.py <<'PY'
import sqlite3, sys
c = sqlite3.connect('db', isolation_level=None)
c.execute('pragma busy_timeout=30000')
for line in sys.stdin:
    n = int(line)
    for i in range(n):
        c.execute('insert into t values (?)', (i,))
    print('wrote', n, flush=True)
PY
cat > /tmp/r.py <<'PY'
import sqlite3, sys
c = sqlite3.connect('db', isolation_level=None)
c.execute('pragma busy_timeout=30000')
for line in sys.stdin:
    print('reader sees', *c.execute('select count(*), total(x) from t').fetchone(), flush=True)
PY
cat > /tmp/drive.py <<'PY'
import subprocess
w = subprocess.Popen(['python3', '/tmp/w.py'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
r = subprocess.Popen(['python3', '/tmp/r.py'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
def ask(p, line):
    p.stdin.write(line + '\\n'); p.stdin.flush()
    return p.stdout.readline().strip()
for n in (1, 10, 200):
    print('writer:', ask(w, str(n)))
    print(ask(r, 'go'))
import os
print('db-shm exists while connections are open:', os.path.exists('db-shm'), flush=True)
subprocess.run(['bash', '/tmp/concurrent.sh'], check=True)
print(ask(r, 'go'))
for p in (w, r):
    p.stdin.close(); p.wait()
PY
cat > /tmp/concurrent.sh <<'SH'
(for i in $(seq 20); do sqlite3 -cmd '.timeout 30000' db "insert into t values ($i)"; done) &
L=$!
python3 /tmp/poll.py
wait $L
SH
cat > /tmp/poll.py <<'PY'
import sqlite3
c = sqlite3.connect('db', isolation_level=None)
c.execute('pragma busy_timeout=30000')
last, ok = 0, True
while last < 231:
    n = c.execute('select count(*) from t').fetchone()[0]
    ok = ok and n >= last
    last = n
print('poller: counts never went down:', ok, 'last', last)
PY
python3 /tmp/drive.py
sqlite3 db 'select count(*), total(x) from t; pragma integrity_check;'
ls
`;

test('sqlite3 in WAL mode: two live connections and concurrent writers share the -shm mapping, under tvisor as under runc', () => {
  expectAsRunc(WAL_SCRIPT, [
    'wal',
    'writer: wrote 1', 'reader sees 1 0.0',
    'writer: wrote 10', 'reader sees 11 45.0',
    'writer: wrote 200', 'reader sees 211 19945.0',
    'db-shm exists while connections are open: True',
    'poller: counts never went down: True last 231',
    'reader sees 231 20155.0',
    '231|20155.0', 'ok',
    'db',
  ]);
}, 400_000);

const GIT_SCRIPT = `
set -e
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@e
export GIT_AUTHOR_DATE='2020-01-01T00:00:00Z' GIT_COMMITTER_DATE='2020-01-01T00:00:00Z'
git init -q -b main repo && cd repo
for i in $(seq 12); do seq $i > f$((i % 7)); git add -A; git commit -qm "c$i"; done
git gc -q
ls .git/objects/pack | sed 's/-[0-9a-f]*\\./-X./'
for i in $(seq 13 18); do seq $i > f$((i % 5)); git add -A; git commit -qm "c$i"; done
git repack -qad
git fsck --strict 2>&1
git log --oneline | wc -l
git rev-parse HEAD
git cat-file -p HEAD~15:f3 | tail -1
`;

test('git: gc, commits after the pack, repack and fsck of a repository in /work, under tvisor as under runc', () => {
  expectAsRunc(GIT_SCRIPT, ['pack-X.idx', 'pack-X.pack', '18', 'd36c84e76360cd365f6857ddfa4bb10a07a8f4e6', '3']);
}, 400_000);
