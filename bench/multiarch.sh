#!/usr/bin/env bash
# The multi-arch testdata for linux/amd64 and linux/arm64 (arm64 RUN under
# qemu): wall time of one two-platform build vs the sum of the two
# single-platform builds, each in a fresh store. The two-platform build gains
# twice: its platforms build at the same time (arm64's emulated RUN overlaps
# amd64's work), and its FROM --platform=$BUILDPLATFORM stage runs once, the
# second platform waiting for the first's step (build/inflight-steps.ts).
# Each build is timed RUNS times (default 3, each in a fresh store) and the
# median is printed: on a shared machine single runs of well under a second
# vary by half. A benchmark, not a test.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash scripts/busybox-rootfs.sh "$work/amd64.tar.gz"
bash scripts/busybox-rootfs.sh "$work/arm64.tar.gz" /var/cache/kiln/busybox-arm64/bin/busybox
store() { # a fresh store with busybox for both platforms
  export KILN_ROOT=$work/$1
  rm -rf "$KILN_ROOT"
  node bin/kiln.js import --platform linux/amd64 "$work/amd64.tar.gz" busybox:latest >/dev/null
  node bin/kiln.js import --platform linux/arm64 "$work/arm64.tar.gz" busybox:latest >/dev/null
}
secs() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); awk -v n=$((e - s)) 'BEGIN{printf "%.2f", n/1e9}'; }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{print (NR%2 ? v[(NR+1)/2] : sprintf("%.2f", (v[NR/2]+v[NR/2+1])/2))}'; }
as=() bs=() abs=()
for _ in $(seq "$runs"); do
  # The three builds alternate, so a slow spell of the machine hits all of them.
  store one-amd64; as+=("$(secs node bin/kiln.js build -q --platform linux/amd64 testdata/multiarch)")
  store one-arm64; bs+=("$(secs node bin/kiln.js build -q --platform linux/arm64 testdata/multiarch)")
  store both; abs+=("$(secs node bin/kiln.js build -q --platform linux/amd64,linux/arm64 testdata/multiarch)")
done
a=$(median "${as[@]}") b=$(median "${bs[@]}") ab=$(median "${abs[@]}")
echo "multiarch (median of $runs): linux/amd64 ${a} s + linux/arm64 ${b} s = $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", a+b}') s; both in one build ${ab} s ($(awk -v a="$a" -v b="$b" -v c="$ab" 'BEGIN{printf "%.2fx", (a+b)/c}') gain)"
