#!/usr/bin/env bash
# Makes a minimal root filesystem tarball from Debian's busybox-static: the
# base image for the demo and the tests (there is no Docker Hub here).
# Usage: scripts/busybox-rootfs.sh OUT.tar.gz [BUSYBOX_BINARY]
set -euo pipefail
out=$1
bin=${2:-/bin/busybox}
[[ -x $bin ]] || { echo "busybox-rootfs: $bin not found (apt-get install busybox-static)" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir"/{bin,etc,tmp,root,home,var,usr/bin,usr/sbin,sbin,proc,sys,dev}
chmod 1777 "$dir/tmp"; chmod 700 "$dir/root"
cp "$bin" "$dir/bin/busybox"
# One symlink per applet. The host's busybox lists them when BUSYBOX_BINARY is
# a foreign one (an arm64 binary runs only where qemu is registered).
for applet in $(/bin/busybox --list 2>/dev/null || "$bin" --list 2>/dev/null || echo sh); do
  [[ $applet == busybox ]] || ln -sf busybox "$dir/bin/$applet"
done
cat >"$dir/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >"$dir/etc/group" <<'G'
root:x:0:
app:x:1000:
staff:x:50:app
nogroup:x:65534:
G
mkdir -p "$dir/home/app" && chown 1000:1000 "$dir/home/app"
# Fixed times and sorted names: the same busybox gives the same tarball.
tar --sort=name --mtime=@0 --numeric-owner -C "$dir" -czf "$out" .
