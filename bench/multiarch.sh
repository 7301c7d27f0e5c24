#!/usr/bin/env bash
# The multi-arch testdata for linux/amd64 and linux/arm64 (arm64 RUN under
# qemu): wall time of one two-platform build vs the sum of the two
# single-platform builds, each in a fresh store. Platforms build one after
# the other; what the two-platform build gains comes from sharing its
# FROM --platform=$BUILDPLATFORM stage. A benchmark, not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash scripts/busybox-rootfs.sh "$work/amd64.tar.gz"
bash scripts/busybox-rootfs.sh "$work/arm64.tar.gz" /var/cache/kiln/busybox-arm64/bin/busybox
store() { # a fresh store with busybox for both platforms
  export KILN_ROOT=$work/$1
  node bin/kiln.js import --platform linux/amd64 "$work/amd64.tar.gz" busybox:latest >/dev/null
  node bin/kiln.js import --platform linux/arm64 "$work/arm64.tar.gz" busybox:latest >/dev/null
}
secs() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); awk -v n=$((e - s)) 'BEGIN{printf "%.2f", n/1e9}'; }
store one-amd64; a=$(secs node bin/kiln.js build -q --platform linux/amd64 testdata/multiarch)
store one-arm64; b=$(secs node bin/kiln.js build -q --platform linux/arm64 testdata/multiarch)
store both; ab=$(secs node bin/kiln.js build -q --platform linux/amd64,linux/arm64 testdata/multiarch)
echo "multiarch: linux/amd64 ${a} s + linux/arm64 ${b} s = $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", a+b}') s; both in one build ${ab} s ($(awk -v a="$a" -v b="$b" -v c="$ab" 'BEGIN{printf "%.2fx", (a+b)/c}') gain)"
