#!/usr/bin/env bash
# make-debian-rootfs.sh DIR PACKAGES: the Debian bookworm image the tests run real
# programs in (debootstrap's minbase and PACKAGES, comma-separated, from Debian's
# mirror). Built once into DIR and reused while PACKAGES stays the same: DIR/.packages
# records them. The tests share the image read-only; /work and /prog are mount points
# for a test's scratch directory and program.
set -euo pipefail
dir=$1
packages=$2
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [[ -f $dir/.packages && $(cat "$dir/.packages") == "$packages" ]]; then
  exit 0
fi
command -v debootstrap >/dev/null || { echo "make-debian-rootfs: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
tmp=$dir.tmp
rm -rf "$tmp" "$dir"
mkdir -p "$(dirname "$dir")"
if ! debootstrap --variant=minbase --include="$packages" bookworm "$tmp" "$mirror" > "$tmp.log" 2>&1; then
  tail -20 "$tmp.log" >&2
  echo "make-debian-rootfs: debootstrap failed (log: $tmp.log)" >&2
  exit 1
fi
mkdir -p "$tmp/work"
touch "$tmp/prog"
# The image's apt cache is not needed by the tests.
rm -rf "$tmp/var/cache/apt/archives/"*.deb
echo "$packages" > "$tmp/.packages"
mv "$tmp" "$dir"
rm -f "$tmp.log"
