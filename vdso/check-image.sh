#!/bin/bash
# check-image.sh IMAGE: fails unless the vDSO image has no dynamic relocations, no
# writable segment and the symbols glibc and Go look up, each under LINUX_2.6.
set -euo pipefail
img=$1
fail() { echo "vdso: $img: $*" >&2; exit 1; }
[ -z "$(readelf -rW "$img" | grep -E '^ *[0-9a-f]{8,} ' || true)" ] || fail "has dynamic relocations"
readelf -lW "$img" | awk '$1 == "LOAD" && $7 ~ /W/ { found = 1 } END { exit found }' || fail "has a writable segment"
syms=$(readelf --dyn-syms -W "$img")
for s in __vdso_clock_gettime __vdso_gettimeofday __vdso_time __vdso_clock_getres __vdso_getcpu clock_gettime gettimeofday time clock_getres getcpu; do
  grep -qE " $s@@LINUX_2\.6\$" <<<"$syms" || fail "lacks $s@@LINUX_2.6"
done
