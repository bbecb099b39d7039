#!/usr/bin/env bash
# The main job for now (the sentry cannot run programs yet): serve the embedded busybox
# bundle's rootfs read-only through tvisor's gofer, then read it with real 9P clients
# (Debian's diodls and diodcat, bridged from TCP loopback to the gofer's Unix socket).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rootfs=${1:-$here/build/bundle/rootfs}
work=$(mktemp -d /tmp/tvisor-demo.XXXXXX)
port=$((20000 + RANDOM % 20000))
cleanup() {
  [ -n "${bridge:-}" ] && kill "$bridge" 2>/dev/null || true
  [ -n "${gofer:-}" ] && kill "$gofer" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
"$here/bin/tvisor" gofer --root "$rootfs" --ro --socket "$work/gofer.sock" &
gofer=$!
for _ in $(seq 100); do [ -S "$work/gofer.sock" ] && break; sleep 0.05; done
socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$work/gofer.sock" &
bridge=$!
for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
echo "== tvisor gofer serving $rootfs (read-only) =="
echo "-- diodls -l /"
diodls -s "127.0.0.1:$port" -a / -l /
echo "-- diodcat /etc/passwd"
diodcat -s "127.0.0.1:$port" -a / /etc/passwd
echo "-- diodcat /etc/hostname"
diodcat -s "127.0.0.1:$port" -a / /etc/hostname
