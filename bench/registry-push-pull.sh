#!/usr/bin/env bash
# Push and pull of a ~500 MB, 5-layer image to and from a local registry
# (Debian's docker-registry on 127.0.0.1): kiln vs `skopeo copy` of the same
# image in the same run, and kiln's re-push of the unchanged image.
# A benchmark, not a test: it prints seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
cleanup() { [[ -n ${reg:-} ]] && kill "$reg" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cat >"$work/registry.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
reg=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done

export KILN_ROOT=$work/kiln
kiln() { node bin/kiln.js "$@"; }
bash scripts/busybox-rootfs.sh "$work/busybox.tar.gz"
kiln import "$work/busybox.tar.gz" busybox:latest >/dev/null
mkdir -p "$work/ctx"
{
  echo "FROM busybox:latest"
  for i in 1 2 3 4 5; do echo "RUN dd if=/dev/urandom of=/blob$i bs=1M count=100 2>/dev/null"; done
} >"$work/ctx/Dockerfile"
kiln build -q -t bench/big:1 "$work/ctx" >/dev/null
kiln build -q -t bench/big:1 --output "type=oci,dest=$work/oci,tar=false" "$work/ctx" >/dev/null
size=$(du -sm "$work/oci/blobs" | cut -f1)
secs() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); awk -v n=$((e - s)) 'BEGIN{printf "%.2f", n/1e9}'; }

echo "registry-push-pull: ${size} MB in 6 layers (5 x 100 MB random + busybox), 127.0.0.1:$port"
echo "kiln push             $(secs kiln push bench/big:1 "127.0.0.1:$port/kiln/big:1") s"
echo "skopeo copy (push)    $(secs skopeo copy --dest-tls-verify=false "oci:$work/oci:1" "docker://127.0.0.1:$port/skopeo/big:1") s"
echo "kiln re-push (no-op)  $(secs kiln push bench/big:1 "127.0.0.1:$port/kiln/big:1") s"
export KILN_ROOT=$work/kiln-empty
echo "kiln pull             $(secs kiln pull "127.0.0.1:$port/kiln/big:1") s"
echo "skopeo copy (pull)    $(secs skopeo copy --src-tls-verify=false "docker://127.0.0.1:$port/skopeo/big:1" "oci:$work/pulled:1") s"
