/**
 * Real programs of the Debian image (Python, Perl, SQLite, gcc, curl, procps) run under
 * tvisor exactly as under runc: same output, same status. The image is built by
 * `make debian-image` (a prerequisite of `make test`); without it these tests fail.
 */
import { expectSameAsRunc } from './image';

const CASES: Array<[string, string]> = [
  ['python3', `python3 -c 'import sys, json, sqlite3; print(sys.version_info[:2], json.dumps({"a": [1, 2]}), sqlite3.connect(":memory:").execute("select 40+2").fetchone())'`],
  ['perl', `perl -e 'print join(",", map { $_ * 2 } 1..5), "\\n"'`],
  ['gcc and make', `printf '#include <stdio.h>\\nint main(void) { puts("built"); return 0; }\\n' > h.c && printf 'h: h.c\\n\\tgcc -O2 -o h h.c\\n' > Makefile && make -s && ./h`],
  ['sqlite3 on a bind mount', `sqlite3 t.db 'create table t(x); insert into t values (7), (8); select sum(x) from t;'`],
  ['curl and file', `curl --version | head -1; file /bin/bash | cut -d, -f1`],
  ['procps', `ps -o pid,comm`],
  ['git', `git init -q r && cd r && echo x > f && git add f && git -c user.email=t@example.org -c user.name=t commit -qm first && git log --format=%s && git cat-file -p HEAD:f && git status --short | wc -l`],
  // open(O_CREAT|O_EXCL|O_RDWR, 0444) opens the file it creates for writing (git's objects),
  // without CAP_DAC_OVERRIDE (runc's default capabilities): on the bind mount and on tmpfs.
  ['a file created read-only is open for writing', `for d in /work /tmp; do python3 -c 'import os, sys; fd = os.open(sys.argv[1] + "/ro", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o444); print(os.write(fd, b"abc"), oct(os.fstat(fd).st_mode))' $d; done; cat /work/ro; echo; echo x >> /work/ro || echo refused`],
  // apt's cache grows its mapping 1 MiB at a time with mremap(MREMAP_MAYMOVE): each step
  // needs the previous ones merged into one VMA (it got EFAULT: "Dynamic MMap ran out of room").
  ['apt-cache and dpkg', `apt-cache policy bash | head -2; dpkg -l bash | tail -1 | cut -c1-20`],
  ['coreutils', `seq 1 1000 | sort -r | head -3 | tac; printf 'b\\na\\n' | sort | uniq -c; echo abc | sha256sum; stat -c '%F %a' /tmp /work`],
];

describe('Debian programs under tvisor match runc', () => {
  test.each(CASES)('%s', (_name, script) => expectSameAsRunc(script));
});
