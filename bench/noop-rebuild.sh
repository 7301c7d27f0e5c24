#!/usr/bin/env bash
# No-op rebuild of testdata/bench-15 (16 instructions, 3 stages), side by side:
# kiln, Buildah (`buildah bud --layers`) and BuildKit (`docker build` against
# a dockerd this script starts with --bridge=none --iptables=false, builds
# with --network=host). Each tool builds once, then the rebuild with nothing
# changed is timed 5 times; the median is printed. A benchmark, not a test.
# Peers are installed by `KILN_SETUP_BENCH=1 scripts/setup.sh` (npm run bench does).
set -euo pipefail
cd "$(dirname "$0")/.."
ctx=testdata/bench-15
work=$(mktemp -d)
cleanup() {
  [[ -f $work/dockerd.pid ]] && kill "$(cat "$work/dockerd.pid")" 2>/dev/null && sleep 1
  umount -R "$work"/dk 2>/dev/null || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
bash scripts/busybox-rootfs.sh "$work/busybox.tar.gz"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { # runs "$@" 5 times, prints the median wall ms
  for _ in 1 2 3 4 5; do
    local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000000))
  done | median
}

export KILN_ROOT=$work/kiln
node bin/kiln.js import "$work/busybox.tar.gz" busybox:latest >/dev/null
node bin/kiln.js build -q -t bench:1 "$ctx" >/dev/null
kiln_ms=$(timeit node bin/kiln.js build -q -t bench:1 "$ctx")
echo "kiln     no-op rebuild: ${kiln_ms} ms"

if command -v buildah >/dev/null; then
  B=(buildah --root "$work/buildah/storage" --runroot "$work/buildah/run")
  c=$("${B[@]}" from scratch)
  "${B[@]}" add "$c" "$work/busybox.tar.gz" / >/dev/null
  "${B[@]}" commit -q "$c" localhost/busybox:latest >/dev/null
  "${B[@]}" bud --layers --isolation chroot --network host -t bench:1 "$ctx" >/dev/null 2>&1
  buildah_ms=$(timeit "${B[@]}" bud --layers --isolation chroot --network host -t bench:1 "$ctx")
  echo "buildah  no-op rebuild: ${buildah_ms} ms ($(awk -v a="$kiln_ms" -v b="$buildah_ms" 'BEGIN{printf "kiln = %.2fx", a/b}'))"
else
  echo "buildah  not installed (KILN_SETUP_BENCH=1 scripts/setup.sh)"
fi

docker=/usr/bin/docker # Debian's client: BuildKit built in, no buildx plugin needed
if command -v dockerd >/dev/null && [[ -x $docker ]]; then
  mkdir -p "$work/dk"
  dockerd --bridge=none --iptables=false --ip6tables=false --data-root "$work/dk/data" --exec-root "$work/dk/exec" \
    --pidfile "$work/dockerd.pid" -H "unix://$work/dk/docker.sock" >"$work/dockerd.log" 2>&1 &
  export DOCKER_HOST=unix://$work/dk/docker.sock DOCKER_BUILDKIT=1
  for _ in $(seq 50); do $docker version >/dev/null 2>&1 && break; sleep 0.2; done
  $docker import "$work/busybox.tar.gz" busybox:latest >/dev/null
  $docker build --network=host -t bench:1 "$ctx" >/dev/null 2>&1
  bk_ms=$(timeit $docker build --network=host -t bench:1 "$ctx")
  echo "buildkit no-op rebuild: ${bk_ms} ms ($(awk -v a="$kiln_ms" -v b="$bk_ms" 'BEGIN{printf "kiln = %.2fx", a/b}'))"
else
  echo "buildkit not installed (KILN_SETUP_BENCH=1 scripts/setup.sh)"
fi
