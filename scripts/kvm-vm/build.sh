#!/usr/bin/env bash
# scripts/kvm-vm/build.sh OUT: builds the QEMU test VM of `make test-kvm` into OUT
# (build/kvm-vm): Debian's kernel (linux-image-amd64's current image package, fetched with
# `apt-get download` and unpacked with `dpkg-deb -x`, never installed: installing a kernel
# package would touch the host's /boot and bootloader) and an initramfs made here of
# busybox-static, the virtio, 9p and KVM modules with their dependencies, and
# scripts/kvm-vm/init. OUT/vmlinuz and OUT/initramfs.cpio.gz are what scripts/kvm-vm/run
# boots. Cached: OUT/inputs records what they were made from (the kernel package's name,
# this script, init, busybox); nothing is done while that stays the same, and the .deb
# (kept in OUT/deb) is fetched again only when linux-image-amd64 names another package.
set -euo pipefail
out=${1:?usage: build.sh OUT}
here=$(cd "$(dirname "$0")" && pwd)
busybox=/bin/busybox

# The modules the guest loads, in this order after their dependencies: PCI virtio and 9p
# over it (the host's tree and the results share), then KVM on TCG's emulated AMD SVM.
MODULES=(virtio_pci 9pnet_virtio 9p kvm_amd)

fail() { echo "kvm-vm build: $*" >&2; exit 1; }
command -v apt-get >/dev/null || fail "apt-get is missing (Debian's kernel package is fetched with it)"
command -v dpkg-deb >/dev/null || fail "dpkg-deb is missing"
command -v objcopy >/dev/null || fail "objcopy is missing (binutils: it reads each module's dependencies)"
# (grep without -q: under pipefail, grep -q leaving early gives the writer SIGPIPE and the pipe fails.)
[[ -x $busybox ]] && "$busybox" --list | grep -x cpio >/dev/null || fail "$busybox is missing: apt-get install busybox-static"
file -L "$busybox" 2>/dev/null | grep 'statically linked' >/dev/null || ldd "$busybox" 2>&1 | grep 'not a dynamic' >/dev/null \
  || fail "$busybox is not static: apt-get install busybox-static"

mkdir -p "$out/deb"
# linux-image-amd64 is a meta package: the image is the linux-image-<abi>-amd64 it depends on.
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[[ -n $pkg ]] || fail "apt-cache knows no linux-image-amd64 (run apt-get update)"
inputs=$(echo "$pkg"; sha256sum "$here/build.sh" "$here/init" "$busybox")
if [[ -f $out/vmlinuz && -f $out/initramfs.cpio.gz && -f $out/inputs && $(cat "$out/inputs") == "$inputs" ]]; then
  echo "kvm-vm: $out is up to date ($pkg)"
  exit 0
fi
rm -f "$out/inputs"
deb=$(ls "$out/deb/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
if [[ -z $deb ]]; then
  rm -f "$out"/deb/*.deb
  echo "kvm-vm: downloading $pkg"
  (cd "$out/deb" && apt-get download -q "$pkg" 2>&1 | grep -v 'unsandboxed as root' || true)
  deb=$(ls "$out/deb/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
  [[ -n $deb ]] || fail "apt-get download $pkg failed"
fi

# The package unpacked (about 400 MB) only while the initramfs is made.
unpacked=$out/unpacked
rm -rf "$unpacked" "$out/initramfs"
trap 'rm -rf "$unpacked" "$out/initramfs"' EXIT
dpkg-deb -x "$deb" "$unpacked"
kver=$(ls "$unpacked/lib/modules")
moddir=$unpacked/lib/modules/$kver
vmlinuz=$unpacked/boot/vmlinuz-$kver
[[ -f $vmlinuz ]] || fail "$deb holds no boot/vmlinuz-$kver"

# Module name -> file: names use '_' where file names may use '-'.
declare -A path
while IFS= read -r f; do
  n=$(basename "$f" .ko); path[${n//-/_}]=$f
done < <(find "$moddir/kernel" -name '*.ko')

# Dependencies come from each module's .modinfo section (depends=a,b): the package ships
# no modules.dep (depmod writes it at install time).
declare -A loaded
order=()
add() {
  local m=${1//-/_} f deps d
  [[ -n ${loaded[$m]:-} ]] && return
  f=${path[$m]:-}
  [[ -n $f ]] || fail "module $m is not in $pkg"
  deps=$(objcopy -O binary --only-section=.modinfo "$f" /dev/stdout | tr '\0' '\n' | sed -n 's/^depends=//p')
  for d in ${deps//,/ }; do add "$d"; done
  loaded[$m]=1
  order+=("$m")
}
for m in "${MODULES[@]}"; do add "$m"; done

root=$out/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,host,results,modules}
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 0755 "$here/init" "$root/init"
: > "$root/modules/order"
for m in "${order[@]}"; do
  cp "${path[$m]}" "$root/modules/$m.ko"
  echo "$m" >> "$root/modules/order"
done
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -1 > "$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
cp "$vmlinuz" "$out/vmlinuz.tmp" && mv "$out/vmlinuz.tmp" "$out/vmlinuz"
echo "$inputs" > "$out/inputs"
echo "kvm-vm: $out/vmlinuz ($kver) and $out/initramfs.cpio.gz (modules: ${order[*]})"
