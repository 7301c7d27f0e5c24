#!/usr/bin/env bash
# One idempotent set-up for a fresh machine (Debian, or Ubuntu as on GitHub's
# runners; amd64 or arm64): Debian packages kiln needs (only when missing),
# npm packages (only when the lock changed), the TypeScript build (only when
# a source is newer than the output), binfmt_misc for the other
# architecture; with KILN_SETUP_TESTS=1 (npm test) also the tests' tools and
# fixtures. Called by the npm `pre` scripts; safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

# What kiln itself needs (npm run demo, a CI job that builds images): the
# OCI runtime, Debian's static busybox (the demo's base), pigz and zstd for
# layers, qemu-user through binfmt_misc for foreign-platform RUN steps,
# uidmap (newuidmap/newgidmap) and fuse-overlayfs for builds without root
# (README: "Without root"), slirp4netns for --network slirp4netns.
PKGS=(runc busybox-static pigz zstd qemu-user-static binfmt-support uidmap fuse-overlayfs slirp4netns)
# What only the tests (npm test runs this with KILN_SETUP_TESTS=1) and the
# benchmarks (KILN_SETUP_BENCH=1) add: the readers we check output with, a
# registry, docker and buildah to compare with, mmdebstrap for a Debian base,
# Go for the SBOM fixtures, crun as the other runtime.
TEST_PKGS=(crun skopeo umoci docker-registry apache2-utils attr docker.io buildah mmdebstrap golang-go)
# The benchmarks (npm run bench) also time with hyperfine.
BENCH_PKGS=(hyperfine)
for_tests=0
[[ ${KILN_SETUP_TESTS:-} == 1 || ${KILN_SETUP_BENCH:-} == 1 ]] && for_tests=1
((for_tests)) && PKGS+=("${TEST_PKGS[@]}")
[[ ${KILN_SETUP_BENCH:-} == 1 ]] && PKGS+=("${BENCH_PKGS[@]}")

# Debian packages: only the missing ones, and apt only when something is.
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

# Foreign platforms: RUN steps for the other architecture (arm64 on an amd64
# host, amd64 on an arm64 one) run under qemu-user through binfmt_misc,
# registered with the fix-binary (F) flag so the interpreter is opened at
# registration time and works inside a container's mount namespace. The
# native architecture is never registered (it needs no emulator). Each step
# only when it is missing.
native=$(dpkg --print-architecture)
case $native in
  amd64) foreign=arm64 qemu=qemu-aarch64 ;;
  arm64) foreign=amd64 qemu=qemu-x86_64 ;;
  *) foreign="" qemu="" ;;
esac
if [[ ! -e /proc/sys/fs/binfmt_misc/status ]]; then
  echo "kiln setup: mounting binfmt_misc" >&2
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [[ -n $qemu ]]; then
  qemu_entry=/proc/sys/fs/binfmt_misc/$qemu
  if [[ ! -f $qemu_entry ]] || ! grep -qx enabled "$qemu_entry" || ! grep -q '^flags: .*F' "$qemu_entry"; then
    echo "kiln setup: registering $qemu with binfmt_misc (fix-binary)" >&2
    # Debian's qemu-user-static registers with F; a stale entry without it is replaced.
    if [[ -f $qemu_entry ]] && ! grep -q '^flags: .*F' "$qemu_entry"; then echo -1 >"$qemu_entry"; fi
    update-binfmts --enable "$qemu" >&2 || update-binfmts --import "$qemu" >&2
    grep -q '^flags: .*F' "$qemu_entry" || { echo "kiln setup: $qemu is not registered with the F flag" >&2; exit 1; }
  fi
fi

((for_tests)) || exit 0

# The other architecture's busybox for the multi-platform tests, from Debian
# (/var/cache/kiln/busybox-arm64 on an amd64 host).
if [[ -n $foreign ]]; then
  foreign_busybox=/var/cache/kiln/busybox-$foreign/bin/busybox
  if [[ ! -x $foreign_busybox ]]; then
    echo "kiln setup: fetching busybox-static:$foreign" >&2
    if ! dpkg --print-foreign-architectures | grep -qx "$foreign"; then
      dpkg --add-architecture "$foreign"
      apt-get update -qq >/dev/null
    fi
    dl=$(mktemp -d)
    (cd "$dl" && { apt-get download -qq "busybox-static:$foreign" >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get download -qq "busybox-static:$foreign" >/dev/null; }; })
    mkdir -p "/var/cache/kiln/busybox-$foreign.tmp"
    dpkg-deb -x "$dl"/busybox-static_*_"$foreign".deb "/var/cache/kiln/busybox-$foreign.tmp"
    rm -rf "$dl" "/var/cache/kiln/busybox-$foreign"
    mv "/var/cache/kiln/busybox-$foreign.tmp" "/var/cache/kiln/busybox-$foreign"
    [[ -x $foreign_busybox ]] || { echo "kiln setup: $foreign_busybox missing after extracting busybox-static:$foreign" >&2; exit 1; }
  fi
fi

# A minimal Debian bookworm root filesystem for the SBOM test and the
# library/debian image of the docker.io mirror tests. Written under a temp
# name and renamed, so an interrupted run leaves nothing that looks finished.
# The mirror is the host's own (its apt sources), or $KILN_DEBIAN_MIRROR.
debian_tar=/var/cache/kiln/debian-bookworm-minbase.tar
if [[ ! -s $debian_tar ]]; then
  mirror=${KILN_DEBIAN_MIRROR:-$(bash scripts/apt-mirror.sh bookworm)} || {
    echo "kiln setup: no Debian mirror for bookworm in this host's apt sources; set KILN_DEBIAN_MIRROR=URL" >&2
    exit 1
  }
  echo "kiln setup: mmdebstrap bookworm minbase (from $mirror)" >&2
  mkdir -p /var/cache/kiln
  rm -f "$debian_tar.tmp.tar"
  mmdebstrap --quiet --variant=minbase --mode=root bookworm "$debian_tar.tmp.tar" "$mirror" >&2
  mv "$debian_tar.tmp.tar" "$debian_tar"
fi

# The rootless tests (test/rootless/) build as an ordinary user with
# subordinate ids: kilntest, made once. useradd gives a new user a range on
# Debian (SUB_UID_COUNT in login.defs); where it did not, or the user came
# from elsewhere, a free 65536-id range past every existing one is added.
# The user must be able to read the checkout and run node: both are
# world-readable in a normal checkout (kiln's own files 0644/0755).
test_user=kilntest
if ! id -u "$test_user" >/dev/null 2>&1; then
  echo "kiln setup: adding user $test_user (rootless tests)" >&2
  useradd --create-home --shell /bin/sh "$test_user"
fi
for f in /etc/subuid /etc/subgid; do
  if ! grep -q "^$test_user:" "$f" 2>/dev/null; then
    end=$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' /etc/subuid /etc/subgid 2>/dev/null || echo 100000)
    start=$(( (end + 65535) / 65536 * 65536 ))
    echo "kiln setup: giving $test_user subordinate ids $start-$((start + 65535)) in $f" >&2
    if [[ $f == /etc/subuid ]]; then usermod --add-subuids "$start-$((start + 65535))" "$test_user"; else usermod --add-subgids "$start-$((start + 65535))" "$test_user"; fi
  fi
done
# fuse-overlayfs (the rootless fallback, tested by forcing it) opens
# /dev/fuse as the user: udev makes it 0666 on a desktop or server, a
# container or VM without udev may leave the kernel's 0600.
# slirp4netns opens /dev/net/tun the same way.
for dev in /dev/fuse /dev/net/tun; do
  if [[ -c $dev && $(stat -c %a $dev) != 666 ]]; then
    echo "kiln setup: chmod 0666 $dev (as udev would)" >&2
    chmod 0666 $dev
  fi
done
