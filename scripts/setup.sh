#!/usr/bin/env bash
# One idempotent set-up for a fresh machine: Debian packages kiln and its
# tests need (only when missing), npm packages (only when the lock changed),
# and the TypeScript build (only when a source is newer than the output).
# Called by the npm `pre` scripts; safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the OCI runtimes, base-image sources, the readers we check
# our output with, qemu for foreign platforms, and a registry for tests.
PKGS=(runc crun busybox-static skopeo umoci qemu-user-static binfmt-support docker-registry apache2-utils pigz zstd attr docker.io)
if [[ "${KILN_SETUP_BENCH:-}" == 1 ]]; then PKGS+=(buildah); fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "kiln setup: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "kiln setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages: reinstall only when package-lock.json differs from the one
# node_modules was installed from.
stamp=node_modules/.kiln-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
  echo "kiln setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" >"$stamp"
fi

# Build: tsc when any source is newer than the last build.
if [[ ! -f dist/.built ]] || [[ -n "$(find src tsconfig.json -newer dist/.built -print -quit)" ]]; then
  echo "kiln setup: tsc" >&2
  npx --no-install tsc -p tsconfig.json
  touch dist/.built
fi
