/**
 * What real programs of the Debian image do together, under tvisor exactly as under runc
 * (same output, same status): a Python web server and curl over the container's loopback,
 * asyncio's subprocesses, process pools (fork, forkserver with its descriptor passing,
 * spawn), bash's coprocesses and job waits, flock/xargs -P/nohup/setsid, perl's fork and
 * alarm, a threaded C program built with gcc, make -j4, large copies (copy_file_range,
 * sendfile), sort's temporary files, rlimits, a pty, pgrep/pkill, mmap with fadvise and
 * memfd, NSS lookups, a tree walk, git branches and gc, four concurrent sqlite3 writers,
 * perl modules and sockets, file metadata (times, modes, fifos, fallocate, fsync), user
 * xattrs through tar, script's pty, nice and taskset, Python's signals, threads and
 * socketpairs, the sanitizers (UBSan, TSan, ASan's overflow report; its leak check is
 * asan.test.ts's), a static binary, a venv, a 1 TiB reservation, RLIMIT_AS, dpkg, useradd, xz's
 * threads and a sqlite vacuum, unshare -r as a user. Each is a first thing a CI job or a service does.
 */
import { withCapabilities } from '../behaviour/compare';
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
  ['bash builtins', `coproc C { read l; echo "got $l"; }; cpid=$C_PID; echo x >&\${C[1]}; read r <&\${C[0]}; echo "$r"; wait $cpid; (sleep 2; exit 3) & (sleep 0.3; exit 4) & wait -n; echo "wait-n $?"; wait; read -t 0.1 v < <(sleep 1); echo "read-t $?"; timeout 0.2 sleep 5; echo "timeout $?"`],
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
  ['file metadata', `touch -d '2001-02-03 04:05:06' a && stat -c '%y' a | cut -c1-19; touch b; find . -newer a -name b; chmod 4755 a; stat -c '%a' a; mkdir -p d/e && chmod -R 700 d && stat -c '%a' d/e; cp -a a c && stat -c '%a %y' c | cut -c1-24; ln -s loop loop 2>/dev/null; cat loop 2>&1 | sed 's/^cat: //'; mkfifo ff && (echo via-fifo > ff &) && cat ff; fallocate -l 1M fa && stat -c '%s' fa; truncate -s 5 fa && stat -c '%s' fa; dd if=/dev/zero of=z bs=4k count=4 conv=fsync status=none && sync && stat -c %s z`],
  ['xattrs and tar', `touch x && python3 -c 'import os; os.setxattr("x", "user.k", b"v"); print(os.getxattr("x", "user.k"), os.listxattr("x"))' && tar --xattrs -cf t.tar x && mkdir o && tar --xattrs -xf t.tar -C o && python3 -c 'import os; print(os.getxattr("o/x", "user.k"))'; cp -a x y && python3 -c 'import os; print(os.listxattr("y"))'; echo data | gzip | bzip2 2>/dev/null | wc -c >/dev/null; echo ok`],
  ['script nice taskset', `script -qc 'tty >/dev/null && echo tty-ok' /dev/null | tr -d '\\r'; nice -n 7 nice; taskset -p $$ >/dev/null && echo taskset-ok; taskset -c 0 sh -c 'echo on-cpu0'; ulimit -c 0; ulimit -c`],
  ['python misc', `python3 -c 'import os, signal, select, time, threading, queue, socket
r, w = os.pipe(); signal.signal(signal.SIGALRM, lambda *a: None); signal.setitimer(signal.ITIMER_REAL, 0.05)
print("select", select.select([r], [], [], 0.5)[0])
q = queue.Queue(); threading.Thread(target=lambda: q.put(sum(range(10**5)))).start(); print(q.get(timeout=5))
a, b = socket.socketpair(); a.sendall(b"x" * 100000); print(len(b.recv(200000, socket.MSG_WAITALL if False else 0)) > 0)
print(os.cpu_count() > 0, len(os.sched_getaffinity(0)) > 0, os.getloadavg() is not None)
import tempfile, shutil; d = tempfile.mkdtemp(); open(d + "/f", "w").write("x"); shutil.rmtree(d); print("rmtree", os.path.exists(d))'`],
  ['perl sockets and select', `perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0") or die; my $p = $s->sockport; if (!fork) { my $c = IO::Socket::INET->new("127.0.0.1:$p") or die; print $c "ping\\n"; exit } my $a = $s->accept; print scalar <$a>; wait; print "done\\n"'`],
  ['sanitizers', `printf '#include <stdio.h>\\n#include <limits.h>\\nint main(int c, char **v){int x = INT_MAX; x += c; printf("%%d\\\\n", x); return 0;}\\n' > u.c && gcc -fsanitize=undefined -o u u.c && ./u 2>&1 | sed 's/^.*runtime error/runtime error/'; printf '#include <pthread.h>\\n#include <stdio.h>\\nint n; void *w(void *a){n++; return a;}\\nint main(void){pthread_t t; pthread_create(&t,0,w,0); pthread_join(t,0); printf("%%d\\\\n", n); return 0;}\\n' > t.c && gcc -fsanitize=thread -o t t.c && ./t; printf '#include <stdlib.h>\\nint main(void){char *p = malloc(10); p[10]=1; return p[10];}\\n' > a.c && gcc -fsanitize=address -o a a.c && { ASAN_OPTIONS=detect_leaks=0 ./a 2>&1 | grep -o 'heap-buffer-overflow' | head -1; }`],
  ['static binary, venv, 1 TiB reservation', `printf '#include <stdio.h>\\nint main(void){puts("static");return 0;}\\n' > s.c && gcc -static -o s s.c && ./s && ldd ./s 2>&1 | head -1; python3 -m venv --without-pip /tmp/v && /tmp/v/bin/python -c 'import sys; print(sys.prefix, sys.base_prefix)'; python3 -c 'import mmap; m = mmap.mmap(-1, 1 << 40, flags=mmap.MAP_PRIVATE|mmap.MAP_ANONYMOUS|0x4000); m[5] = 1; m[(1<<39)] = 2; print(m[5], m[1<<39], len(m))'; bash -c 'ulimit -v 200000; python3 -c "x = bytearray(400*1024*1024)" 2>&1 | tail -1'`],
  ['dpkg, useradd, xz -T2, sqlite vacuum', `dpkg -l | wc -l; dpkg --verify coreutils; echo verify $?; useradd -m -s /bin/bash tester && su tester -c 'cd && pwd && touch f && ls -l f | cut -d" " -f3'; userdel -r tester; echo del $?; seq 1 300000 > s; xz -T2 -k s && xz -dc s.xz | md5sum; sqlite3 b.db 'create table t(x, y); with recursive c(i) as (select 1 union all select i+1 from c limit 100000) insert into t select i, hex(randomblob(20)) from c; delete from t where x % 2 = 0; vacuum; select count(*) from t; pragma integrity_check;'`],
];
describe('Debian workloads under tvisor match runc', () => {
  test.each(CASES)('%s', (_name, script) => expectSameAsRunc(script));
});

/** UNSHARE_AS_USER: a user's own user namespace (unshare -r), as rootless tools make one:
 * the ids and maps it shows, the owners of root's files (65534), a tmpfs it mounts in a
 * mount namespace of its own, a PID and a UTS namespace, and root's file it may not write.
 * The container's root gets CAP_SETUID and CAP_SETGID to become uid 1000 (setpriv). */
const UNSHARE_AS_USER = `touch roots && chmod 777 . && setpriv --reuid 1000 --regid 1000 --clear-groups sh -c 'unshare -r id; unshare -r cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; unshare -r ls -ln /etc/passwd | cut -d" " -f3,4; unshare -rm sh -c "mount -t tmpfs x /tmp && touch /tmp/a && ls -ln /tmp | tail -1 | cut -d\\" \\" -f3,4 && umount /tmp && echo umounted"; unshare -rfp sh -c "echo pid \\$\\$"; unshare -ru sh -c "hostname inner && hostname"; unshare -r sh -c "echo x >> roots"; echo "write $?"; id -u'`;

test('Debian: unshare -r as a user under tvisor matches runc', () => expectSameAsRunc(UNSHARE_AS_USER, { editSpec: withCapabilities(['CAP_SETUID', 'CAP_SETGID']) }));
