#!/usr/bin/env bash
# npm run demo: import a busybox base made from Debian's busybox-static, build
# examples/hello into the local store, and show the result.
set -euo pipefail
cd "$(dirname "$0")/.."
kiln() { node bin/kiln.js "$@"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bash scripts/busybox-rootfs.sh "$tmp/busybox.tar.gz"
echo "== kiln import busybox:latest"
kiln import "$tmp/busybox.tar.gz" busybox:latest
echo "== kiln build -t hello:1 examples/hello"
kiln build --progress plain -t hello:1 examples/hello
echo "== kiln images"
kiln images
echo "== kiln inspect hello:1 (config)"
kiln inspect hello:1 | node -e 'const [i]=JSON.parse(require("fs").readFileSync(0,"utf8")); console.log(JSON.stringify({Id:i.Id,RepoTags:i.RepoTags,Config:i.Config,Layers:i.RootFS.Layers.length},null,2))'
# skopeo is a test tool (KILN_SETUP_TESTS=1 installs it), not something kiln needs.
if command -v skopeo >/dev/null; then
  echo "== the store is an OCI layout: skopeo reads it"
  skopeo inspect "oci:${KILN_ROOT:-${XDG_DATA_HOME:-$HOME/.local/share}/kiln}:docker.io/library/hello:1" | head -12
fi
