/**
 * What real programs of the Debian image do together, under tvisor exactly as under runc
 * (same output, same status): a Python web server and curl over the container's loopback,
 * asyncio's subprocesses, process pools (fork, forkserver with its descriptor passing,
 * spawn), bash's coprocesses and job waits, flock/xargs -P/nohup/setsid, perl's fork and
 * alarm, a threaded C program built with gcc, make -j4, large copies (copy_file_range,
 * sendfile), sort's temporary files, rlimits, a pty, pgrep/pkill, mmap with fadvise and
 * memfd, NSS lookups, a tree walk, git branches and gc, four concurrent sqlite3 writers
 * and perl modules. Each is a first thing a CI job or a service does.
 */
import { expectSameAsRunc } from './image';
const CASES: Array<[string, string]> = [
  ['http.server + curl', `(python3 -m http.server 8123 --bind 127.0.0.1 >/dev/null 2>&1 &) ; for i in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:8123/ && break; sleep 0.1; done; curl -s -o /dev/null -w '%{http_code}\\n' http://127.0.0.1:8123/; echo hi > x.txt; curl -s http://127.0.0.1:8123/x.txt`],
  ['asyncio subprocess', `python3 -c 'import asyncio
async def m():
  p = await asyncio.create_subprocess_exec("echo", "hi", stdout=asyncio.subprocess.PIPE)
  o, _ = await p.communicate(); print(o, p.returncode)
  r = await asyncio.gather(*(asyncio.sleep(0.01, result=i) for i in range(5))); print(r)
asyncio.run(m())'`],
  ['ProcessPoolExecutor', `python3 -c 'import concurrent.futures as f
with f.ProcessPoolExecutor(3) as e: print(sorted(e.map(abs, range(-5, 5))))
with f.ThreadPoolExecutor(4) as e: print(sum(e.map(lambda x: x*x, range(100))))'`],
  ['forkserver', `printf 'import multiprocessing as m\ndef f(x): return x + 1\nif __name__ == "__main__":\n  for k in ("forkserver", "spawn"):\n    with m.get_context(k).Pool(2) as p: print(k, p.map(f, range(6)))\n' > fs.py && timeout 20 python3 fs.py`],
  ['bash builtins', `coproc C { read l; echo "got $l"; }; cpid=$C_PID; echo x >&\${C[1]}; read r <&\${C[0]}; echo "$r"; wait $cpid; (sleep 1; exit 3) & (exit 4) & wait -n; echo "wait-n $?"; wait; read -t 0.1 v < <(sleep 1); echo "read-t $?"; timeout 0.2 sleep 5; echo "timeout $?"`],
  ['flock xargs nohup setsid', `flock /tmp/l -c 'echo locked'; seq 1 20 | xargs -P4 -n1 sh -c 'echo $(( $0 * 2 ))' | sort -n | tail -2; nohup true; echo "nohup $?"; setsid -w sh -c 'exit 5'; echo "setsid $?"; stdbuf -oL echo buf`],
  ['perl fork pipe alarm', `perl -e 'pipe(R,W); if (!fork) { print W "child\\n"; exit 0 } close W; print scalar <R>; wait; print "st $?\\n"'; { perl -e 'alarm 1; sleep 3'; } 2>/dev/null; echo "alarm $?"; perl -MPOSIX -e 'print POSIX::floor(2.7), "\\n"'`],
  ['threads in C', `printf '#include <pthread.h>\\n#include <stdio.h>\\nstatic pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER; static long n;\\nstatic void *w(void *a) { for (int i = 0; i < 100000; i++) { pthread_mutex_lock(&m); n++; pthread_mutex_unlock(&m); } return a; }\\nint main(void) { pthread_t t[4]; for (int i = 0; i < 4; i++) pthread_create(&t[i], 0, w, 0); for (int i = 0; i < 4; i++) pthread_join(t[i], 0); printf("%%ld\\\\n", n); return 0; }\\n' > t.c && gcc -O2 -pthread -o t t.c && ./t`],
  ['make -j4', `for i in 1 2 3 4 5 6; do printf "int f$i(void) { return $i; }\\n" > f$i.c; done; printf 'int f1(void);int f2(void);int f3(void);int f4(void);int f5(void);int f6(void);\\n#include <stdio.h>\\nint main(void){printf("%%d\\\\n", f1()+f2()+f3()+f4()+f5()+f6());return 0;}\\n' > main.c; printf 'OBJ=main.o f1.o f2.o f3.o f4.o f5.o f6.o\\np: $(OBJ)\\n\\tgcc -o p $(OBJ)\\n%%.o: %%.c\\n\\tgcc -O2 -c $<\\n' > Makefile; make -s -j4 && ./p`],
  ['copy big file', `dd if=/dev/zero bs=1M count=40 status=none | tr '\\0' a > big; cp big big2; python3 -c 'import shutil; shutil.copyfile("big", "big3")'; cmp big big2 && cmp big big3 && sha1sum big3 | cut -c1-12; cat big | gzip -1 | gzip -d | wc -c; ls -l big3 | cut -d" " -f5`],
  ['sort with temp files', `seq 1 200000 | sort -R --random-source=/dev/zero -S 64K -T /tmp | sort -n -S 64K --parallel=2 | tail -1; seq 1 100000 | sort -S 50K -T /work | md5sum`],
  ['statvfs and limits', `python3 -c 'import os, resource; print(os.statvfs("/tmp").f_bsize > 0, resource.getrlimit(resource.RLIMIT_NOFILE), resource.getrlimit(resource.RLIMIT_STACK))'; ulimit -n; ulimit -s; bash -c 'ulimit -n 64; python3 -c "import resource; print(resource.getrlimit(resource.RLIMIT_NOFILE))"'`],
  ['pty', `python3 -c 'import pty, os
pid, fd = pty.fork()
if pid == 0:
  print("in child", os.isatty(0)); os._exit(3)
out = b""
while True:
  try: d = os.read(fd, 100)
  except OSError: break
  if not d: break
  out += d
print(out.replace(b"\\r", b""), os.waitpid(pid, 0)[1] >> 8)'`],
  ['pgrep pkill kill', `sleep 30 & p=$!; until pgrep -x sleep >/dev/null; do sleep 0.05; done; echo found; pkill -TERM -x sleep; wait $p; echo "st $?"; kill -0 $$ && echo self`],
  ['mmap and fadvise', `python3 -c 'import mmap, os
f = open("m", "w+b"); f.write(b"a" * 8192); f.flush()
m = mmap.mmap(f.fileno(), 8192); m[0:5] = b"hello"; m.flush(); m.close()
os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
print(open("m", "rb").read(6))
fd = os.memfd_create("x"); os.write(fd, b"memfd"); os.lseek(fd, 0, 0); print(os.read(fd, 10))'`],
  ['getent id locale', `getent passwd root; getent group root; id; id -un nobody; locale 2>&1 | head -2; date -u -d @86400 +%F`],
  ['du find ls -R', `du -s /usr/share/doc | cut -f1 | awk '{print ($1 > 0)}'; find /usr/lib/python3* -name '*.py' | wc -l; ls -lR /usr/share/perl5 2>&1 | wc -l`],
  ['git more', `git init -q r && cd r && for i in 1 2 3; do echo $i > f$i; git add .; git -c user.email=a@b -c user.name=n commit -qm c$i; done; git log --oneline | wc -l; git gc -q && git count-objects -v | grep -c pack; git branch b && git checkout -q b && echo z >> f1 && git -c user.email=a@b -c user.name=n commit -qam z && git checkout -q - && git -c user.email=a@b -c user.name=n merge -q --no-edit b && cat f1; git diff HEAD~1 --stat | tail -1`],
  ['sqlite concurrency', `sqlite3 d.db 'create table t(x)'; for i in 1 2 3 4; do (for j in 1 2 3 4 5; do sqlite3 -cmd '.timeout 60000' d.db "insert into t values ($i)"; done) & done; wait; sqlite3 d.db 'select count(*) from t'`],
  ['perl modules', `perl -MData::Dumper -MList::Util=sum -MFile::Temp=tempfile -e '$Data::Dumper::Terse=1; print Dumper([sum(1..10)]); my ($fh, $n) = tempfile(); print $fh "x"; close $fh; print -s $n, "\\n"'`],
];
describe('Debian workloads under tvisor match runc', () => {
  test.each(CASES)('%s', (_name, script) => expectSameAsRunc(script));
});
