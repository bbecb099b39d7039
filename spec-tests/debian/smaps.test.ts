/**
 * procps's `pmap -X` reads /proc/<pid>/smaps: its header (the fields of the first
 * entry, without the KSM column that kernels after 6.1 add and tvisor, with 6.1's layout,
 * has not) and, for a touched 4 MiB private mapping and an mlocked 64 KiB one (each
 * between PROT_NONE pages, a VMA of its own), the columns that are deterministic, under
 * tvisor as under runc. Before /proc/<pid>/smaps existed under tvisor, pmap -X failed.
 */
import { expectSameAsRunc } from './image';

/** PMAP_SCRIPT maps the two regions from Python (ctypes), runs pmap -X on itself and prints the columns. */
const PMAP_SCRIPT = `
import ctypes, os, subprocess
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
PG = 4096
def guarded(size):
    p = libc.mmap(None, size + 2 * PG, 0, 0x22, -1, 0)
    assert libc.mprotect(ctypes.c_void_p(p + PG), size, 3) == 0
    ctypes.memset(p + PG, 1, size)
    return p + PG
big, small = guarded(4 << 20), guarded(64 << 10)
assert libc.mlock(ctypes.c_void_p(small), 64 << 10) == 0
out = subprocess.run(['pmap', '-X', str(os.getpid())], capture_output=True, text=True, check=True).stdout.splitlines()
head = out[1].split()
print(' '.join(h for h in head if h != 'KSM'))
for name, addr in (('4 MiB', big), ('64 KiB mlocked', small)):
    row = next(l.split() for l in out[2:] if l.split() and l.split()[0] == '%x' % addr)
    print(name, ' '.join('%s=%s' % (c, row[head.index(c)]) for c in ('Perm', 'Offset', 'Size', 'Rss', 'Pss', 'Pss_Dirty', 'Referenced', 'Anonymous', 'Swap', 'Locked')))
`;

describe('pmap -X under tvisor matches runc', () => {
  test('header and the columns of a touched and an mlocked mapping', () => {
    expectSameAsRunc(`python3 - <<'EOF'${PMAP_SCRIPT}EOF`);
  });
});
