/**
 * Shell idioms that open files naming descriptors, and the Python calls on descriptors,
 * on the Debian image under tvisor exactly as under runc: bash's process substitution
 * (`<(...)` is /dev/fd/63, a pipe reopened through /proc/self/fd), /dev/fd/0 and
 * /dev/stdin on a file and a pipe, /dev/stdout, and Python's os.posix_fadvise. The image
 * is built by `make debian-image`; without it these tests fail. Python's
 * os.copy_file_range, os.splice and shutil.copyfile (sendfile) too.
 */
import { expectSameAsRunc } from './image';

const CASES: Array<[string, string]> = [
  ['diff of two process substitutions', `diff <(printf 'a\\nb\\n') <(printf 'a\\nc\\n'); echo "status $?"`],
  ['mapfile from a process substitution', `mapfile -t lines < <(seq 5); echo "\${#lines[@]} lines, last \${lines[4]}"`],
  ['while read from a process substitution', `n=0; while read -r x; do n=$((n + x)); done < <(seq 10); echo "sum $n"`],
  ['cat /dev/fd/0 redirected from a file', `printf 'from a file\\n' > f && cat /dev/fd/0 < f`],
  ['cat /dev/stdin on a pipe', `echo piped | cat /dev/stdin; printf 'x\\ny\\n' | wc -l /dev/stdin | cut -d' ' -f1`],
  ['writing to /dev/stdout and /dev/stderr', `echo to-stdout > /dev/stdout; echo to-stderr > /dev/stderr 2>&1`],
  ['readlink of /dev/fd on a pipe and a file', `echo | readlink /dev/fd/0 | cut -c1-6; readlink /proc/self/fd/3 3< /etc/hostname`],
  ['python os.posix_fadvise', `python3 -c '
import os
fd = os.open("f", os.O_RDWR | os.O_CREAT, 0o600)
print(os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL), os.posix_fadvise(fd, 0, 4096, os.POSIX_FADV_DONTNEED))
r, w = os.pipe()
try:
    os.posix_fadvise(r, 0, 0, os.POSIX_FADV_NORMAL)
except OSError as e:
    print("pipe:", e.strerror)
'`],
  ['cp of a 7 MB file (copy_file_range) in a bind mount and to /tmp', `seq 1000000 > big && cp big big2 && cp big /tmp/big3 && cmp big big2 && cmp big /tmp/big3 && wc -c < big2`],
  ['python os.copy_file_range and os.splice', `python3 -c '
import os
src = os.open("src", os.O_RDWR | os.O_CREAT, 0o600)
os.write(src, b"0123456789")
dst = os.open("dst", os.O_RDWR | os.O_CREAT, 0o600)
print(os.copy_file_range(src, dst, 4, 2, 1), os.pread(dst, 10, 0))
r, w = os.pipe()
print(os.splice(src, w, 3, offset_src=5), os.read(r, 10))
os.write(w, b"piped")
print(os.splice(r, dst, 5), os.pread(dst, 20, 0))
'; python3 -c 'import shutil; shutil.copyfile("src", "copy"); print(open("copy").read())'`],
];

describe('Debian shell and descriptor files under tvisor match runc', () => {
  test.each(CASES)('%s', (_name, script) => expectSameAsRunc(script));
});
