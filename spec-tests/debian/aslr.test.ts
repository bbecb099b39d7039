/**
 * Address-space randomization and the vDSO of real programs on the Debian image, under
 * tvisor as under runc: `setarch -R` (and `setarch x86_64 -R`) makes two runs of
 * `cat /proc/self/maps` print the same; without it the executable (a PIE), ld.so, the
 * heap, the stack and the vDSO each move between runs. ld.so, [vdso] and [vvar] are in
 * the maps of a dynamic program, and Python's clocks (through glibc and the vDSO) work.
 */
import { expectSameAsRunc } from './image';

/** regions prints, per region of `cat /proc/self/maps` run twice by `how`, whether it moved. */
const REGIONS = `
regions() {
  local a b
  a=$($1 cat /proc/self/maps); b=$($1 cat /proc/self/maps)
  [ "$a" = "$b" ] && echo "$2: whole maps same" || echo "$2: whole maps differ"
  for r in /usr/bin/cat ld-linux '\\[heap\\]' '\\[stack\\]' '\\[vdso\\]' '\\[vvar\\]'; do
    x=$(grep -m1 "$r" <<<"$a" | cut -d- -f1); y=$(grep -m1 "$r" <<<"$b" | cut -d- -f1)
    if [ -z "$x" ]; then echo "$2: $r absent"; elif [ "$x" = "$y" ]; then echo "$2: $r same"; else echo "$2: $r moved"; fi
  done
}
`;

describe('ASLR on the Debian image', () => {
  test('setarch -R runs agree, plain runs differ, as under runc', () => {
    expectSameAsRunc(`${REGIONS}
regions "" plain
regions "setarch -R" "setarch -R"
regions "setarch x86_64 -R" "setarch x86_64 -R"
setarch -R bash -c 'cat /proc/self/personality 2>/dev/null || true' >/dev/null
python3 -c 'import time; a = time.monotonic(); b = time.clock_gettime(time.CLOCK_MONOTONIC); print("python clocks ordered:", b >= a, time.time() > 1.7e9)'
`, { timeoutMs: 60_000 });
  }, 120_000);
});
