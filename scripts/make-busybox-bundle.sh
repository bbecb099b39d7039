#!/usr/bin/env bash
# Builds the embedded default bundle: an OCI bundle whose rootfs is Debian's static
# busybox with its applets, and whose config.json is `tvisor spec`'s default.
#   scripts/make-busybox-bundle.sh OUT_DIR
set -euo pipefail
out=${1:?usage: make-busybox-bundle.sh OUT_DIR}
busybox=${BUSYBOX:-/bin/busybox}
if ! "$busybox" --list >/dev/null 2>&1; then
  echo "make-busybox-bundle: $busybox is not a working busybox (apt-get install busybox-static)" >&2
  exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
  echo "make-busybox-bundle: $busybox is dynamically linked; the bundle needs busybox-static" >&2
  exit 1
fi
rm -rf "$out.tmp"
mkdir -p "$out.tmp/rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,dev,sys,root,home,var}
chmod 1777 "$out.tmp/rootfs/tmp"
install -m 0755 "$busybox" "$out.tmp/rootfs/bin/busybox"
for applet in $("$busybox" --list-full); do
  [ "$applet" = bin/busybox ] && continue
  mkdir -p "$out.tmp/rootfs/$(dirname "$applet")"
  ln -sf /bin/busybox "$out.tmp/rootfs/$applet"
done
cat > "$out.tmp/rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
user:x:1000:1000:user:/home/user:/bin/sh
PASSWD
cat > "$out.tmp/rootfs/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
user:x:1000:
GROUP
echo tvisor > "$out.tmp/rootfs/etc/hostname"
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/bin/tvisor" spec --bundle "$out.tmp"
# The default process: a short script that shows the sandbox (no terminal needed).
node -e '
const fs = require("fs");
const f = process.argv[1];
const c = JSON.parse(fs.readFileSync(f, "utf8"));
c.process.terminal = false;
c.process.args = ["sh", "-c", [
  "echo \"hello from $(hostname), a tvisor sandbox ($(uname -sr))\"",
  "echo \"pid $$, uid $(id -u), cwd $(pwd)\"",
  "ls /",
  "echo \"$(ls /bin | wc -l) programs in /bin; mounts:\"",
  "cat /proc/mounts",
  "for i in 3 1 2; do echo $i; done | sort -n | tr \"\\n\" \" \"; echo",
].join("; ")];
fs.writeFileSync(f, JSON.stringify(c, null, 2));
' "$out.tmp/config.json"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "bundle: $out (busybox $("$busybox" | head -1 | awk '{print $2}'), $(ls "$out/rootfs/bin" | wc -l) entries in /bin)"
