#!/usr/bin/env bash
# One idempotent set-up for a fresh machine: Debian packages kiln and its
# tests need (only when missing), npm packages (only when the lock changed),
# and the TypeScript build (only when a source is newer than the output).
# Called by the npm `pre` scripts; safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the OCI runtimes, base-image sources, the readers we check
# our output with, qemu for foreign platforms, and a registry for tests.
PKGS=(runc crun busybox-static skopeo umoci qemu-user-static binfmt-support docker-registry apache2-utils pigz zstd attr docker.io buildah mmdebstrap golang-go)
# buildah: the frontend comparison test and the no-op rebuild benchmark.
# mmdebstrap: the Debian base the SBOM test scans (slow tier, below).

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
# The bundled CLI that bin/kiln.js prefers (scripts/bundle.mjs), from tsc's
# output whenever that (or the bundler's script) is newer; a separate step so
# a failed bundle is retried next time rather than hidden behind a fresh dist/.built.
if [[ ! -f dist/bundle/main.js || dist/.built -nt dist/bundle/main.js || scripts/bundle.mjs -nt dist/bundle/main.js ]]; then
  echo "kiln setup: bundle" >&2
  node scripts/bundle.mjs
fi

# Foreign platforms: RUN steps for linux/arm64 run under qemu-user through
# binfmt_misc, registered with the fix-binary (F) flag so the interpreter is
# opened at registration time and works inside a container's mount namespace.
# Each step only when it is missing.
if [[ ! -e /proc/sys/fs/binfmt_misc/status ]]; then
  echo "kiln setup: mounting binfmt_misc" >&2
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
qemu_entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
if [[ ! -f $qemu_entry ]] || ! grep -qx enabled "$qemu_entry" || ! grep -q '^flags: .*F' "$qemu_entry"; then
  echo "kiln setup: registering qemu-aarch64 with binfmt_misc (fix-binary)" >&2
  # Debian's qemu-user-static registers with F; a stale entry without it is replaced.
  if [[ -f $qemu_entry ]] && ! grep -q '^flags: .*F' "$qemu_entry"; then echo -1 >"$qemu_entry"; fi
  update-binfmts --enable qemu-aarch64 >&2 || update-binfmts --import qemu-aarch64 >&2
  grep -q '^flags: .*F' "$qemu_entry" || { echo "kiln setup: qemu-aarch64 is not registered with the F flag" >&2; exit 1; }
fi

# An arm64 busybox for the multi-platform tests and examples, from Debian.
arm64_busybox=/var/cache/kiln/busybox-arm64/bin/busybox
if [[ ! -x $arm64_busybox ]]; then
  echo "kiln setup: fetching busybox-static:arm64" >&2
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    apt-get update -qq >/dev/null
  fi
  dl=$(mktemp -d)
  (cd "$dl" && { apt-get download -qq busybox-static:arm64 >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get download -qq busybox-static:arm64 >/dev/null; }; })
  mkdir -p /var/cache/kiln/busybox-arm64.tmp
  dpkg-deb -x "$dl"/busybox-static_*_arm64.deb /var/cache/kiln/busybox-arm64.tmp
  rm -rf "$dl" /var/cache/kiln/busybox-arm64
  mv /var/cache/kiln/busybox-arm64.tmp /var/cache/kiln/busybox-arm64
  [[ -x $arm64_busybox ]] || { echo "kiln setup: $arm64_busybox missing after extracting busybox-static:arm64" >&2; exit 1; }
fi

# A minimal Debian bookworm root filesystem for the SBOM test (its dpkg
# database is what the scanner must list). Written under a temp name and
# renamed, so an interrupted run leaves nothing that looks finished.
debian_tar=/var/cache/kiln/debian-bookworm-minbase.tar
if [[ ! -s $debian_tar ]]; then
  echo "kiln setup: mmdebstrap bookworm minbase (downloads from deb.debian.org)" >&2
  mkdir -p /var/cache/kiln
  rm -f "$debian_tar.tmp.tar"
  mmdebstrap --quiet --variant=minbase --mode=root bookworm "$debian_tar.tmp.tar" http://deb.debian.org/debian >&2
  mv "$debian_tar.tmp.tar" "$debian_tar"
fi
