#!/usr/bin/env bash
# npm run bench [-- WORKLOAD...]: one table, kiln beside BuildKit (Debian's
# docker 20.10, a dockerd this script starts) and Buildah, measured in the
# same run, interleaved (round r times kiln, then BuildKit, then Buildah),
# median of BENCH_REPS rounds (default 3). A benchmark, not a test: figures
# are printed, never asserted. Workloads (default: all, in this order):
#   noop    no-op rebuild of testdata/bench-15 (hyperfine, 3 runs a round)
#   apt     Debian + apt-get install: cold (--no-cache) and no-op
#   npm     Debian nodejs/npm + npm ci: cold and no-op
#   large   one RUN writing 1 GiB: wall time, kiln's peak RSS
#   edit    one-file edit in a 20,000-file context, rebuild
#   ci      fresh store, --cache-from type=registry, every step hits, --push:
#           time and the size of the store's blobs/ after (what came in:
#           kiln only); the same without --push (the layers are fetched)
#   registry push / pull / unchanged re-push of the apt image, vs skopeo copy
# The Debian base is the minbase tarball scripts/setup.sh makes; apt inside
# the image uses the mirror that tarball was made from (this host's apt
# sources), npm ci the npm registry. Peers: KILN_SETUP_BENCH=1 scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
reps=${BENCH_REPS:-3}
all=(noop apt npm large edit ci registry)
want=("$@")
((${#want[@]})) || want=("${all[@]}")
for w in "${want[@]}"; do [[ " ${all[*]} " == *" $w "* ]] || { echo "bench: unknown workload $w (have: ${all[*]})" >&2; exit 2; }; done
debian_tar=/var/cache/kiln/debian-bookworm-minbase.tar

work=$(mktemp -d /var/tmp/kiln-bench.XXXXXX)
rows=$work/rows.tsv
: >"$rows"
cleanup() {
  [[ -n ${reg_pid:-} ]] && kill "$reg_pid" 2>/dev/null
  [[ -f $work/dockerd.pid ]] && kill "$(cat "$work/dockerd.pid")" 2>/dev/null && sleep 2
  umount -R "$work"/dk 2>/dev/null || true
  # Buildah leaves its storage and build overlays mounted: deepest first.
  awk -v w="$work/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount 2>/dev/null || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

# Median of the numbers read; "fail" when a run failed and none succeeded, "-" when nothing ran.
median() {
  local in nums
  in=$(cat)
  nums=$(grep -E '^[0-9.]+$' <<<"$in" | sort -n || true)
  if [[ -n $nums ]]; then awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' <<<"$nums"
  elif grep -q fail <<<"$in"; then echo fail
  else echo -; fi
}
# Wall ms of one run; a failed run prints "fail" (and its log's tail), so the table still comes out.
ms() { local s e; s=$(date +%s%N); "$@" >>"$work/cmd.log" 2>&1 || { echo "bench: failed: $*" >&2; tail -15 "$work/cmd.log" >&2; echo fail; return 0; }; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
# row WORKLOAD WHAT UNIT KILN BUILDKIT BUILDAH
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$rows"; print_row "$@"; }
print_row() {
  local ratio="-"
  [[ $4 =~ ^[0-9.]+$ && $5 =~ ^[0-9.]+$ ]] && ratio=$(awk -v a="$4" -v b="$5" 'BEGIN{printf "%.2fx", a/b}')
  printf '%-9s %-30s %12s %12s %12s %9s\n' "$1" "$2 ($3)" "$4" "$5" "$6" "$ratio"
}
header() { printf '%-9s %-30s %12s %12s %12s %9s\n' WORKLOAD MEASURE kiln BuildKit Buildah kiln/BK; }

# ---- the three builders, each with its own state under $work ----
export KILN_ROOT=$work/kiln
kiln() { node "$repo/bin/kiln.js" "$@"; }
B=(buildah --root "$work/buildah/storage" --runroot "$work/buildah/run")
bh() { "${B[@]}" bud --layers --isolation chroot --network host "$@"; }
docker=/usr/bin/docker # Debian's client: BuildKit built in, no buildx plugin needed
have_bh=0 have_bk=0
command -v buildah >/dev/null && have_bh=1
if command -v dockerd >/dev/null && [[ -x $docker ]]; then
  mkdir -p "$work/dk"
  dockerd --bridge=none --iptables=false --ip6tables=false --data-root "$work/dk/data" --exec-root "$work/dk/exec" \
    --pidfile "$work/dockerd.pid" -H "unix://$work/dk/docker.sock" >"$work/dockerd.log" 2>&1 &
  export DOCKER_HOST=unix://$work/dk/docker.sock DOCKER_BUILDKIT=1
  for _ in $(seq 100); do $docker version >/dev/null 2>&1 && { have_bk=1; break; }; sleep 0.2; done
fi
bk() { $docker build --network=host "$@"; }

# A base image into all three: NAME TARBALL
base() {
  kiln import "$2" "$1" >/dev/null
  if ((have_bk)); then $docker import "$2" "$1" >/dev/null; fi
  if ((have_bh)); then
    local c; c=$("${B[@]}" from scratch)
    "${B[@]}" add "$c" "$2" / >/dev/null
    "${B[@]}" commit -q "$c" "localhost/$1" >/dev/null
    "${B[@]}" rm "$c" >/dev/null
  fi
}
bash scripts/busybox-rootfs.sh "$work/busybox.tar.gz"
base busybox:latest "$work/busybox.tar.gz"
need_debian() {
  [[ -n ${debian_done:-} ]] && return
  [[ -s $debian_tar ]] || { echo "bench: $debian_tar missing: run KILN_SETUP_BENCH=1 scripts/setup.sh as root" >&2; exit 1; }
  base debian:bookworm "$debian_tar"
  debian_done=1
}

# Interleaved rounds of one build per tool. cold_or_noop WORKLOAD WHAT CTX [EXTRA FLAG: --no-cache]
rounds() {
  local wl=$1 what=$2 ctx=$3 flag=${4:-} k=() b=() h=()
  for r in $(seq "$reps"); do
    [[ -n ${before_round:-} ]] && $before_round "$r"
    k+=("$(ms kiln build -q $flag -t "bench-$wl:1" "$ctx")")
    ((have_bk)) && b+=("$(ms bk -q $flag -t "bench-$wl:1" "$ctx")")
    ((have_bh)) && h+=("$(ms bh -q $flag -t "bench-$wl:1" "$ctx")")
  done
  row "$wl" "$what" ms "$(printf '%s\n' "${k[@]}" | median)" "$(printf '%s\n' "${b[@]}" | median)" "$(printf '%s\n' "${h[@]}" | median)"
}
# The first build of each tool (fills its cache), not timed.
warm() { kiln build -q -t "bench-$1:1" "$2" >/dev/null; ((have_bk)) && bk -q -t "bench-$1:1" "$2" >/dev/null; ((have_bh)) && bh -q -t "bench-$1:1" "$2" >/dev/null; return 0; }

hf_median() { # hyperfine, 3 runs, median ms
  hyperfine -N -w 1 -r 3 --export-json "$work/hf.json" "$*" >/dev/null 2>&1
  node -e 'const r=require(process.argv[1]).results[0]; console.log(Math.round(r.median*1000))' "$work/hf.json"
}

w_noop() {
  local ctx=testdata/bench-15 k=() b=() h=()
  warm noop "$ctx"
  for _ in $(seq "$reps"); do
    k+=("$(hf_median node "$repo/bin/kiln.js" build -q -t bench-noop:1 "$ctx")")
    ((have_bk)) && b+=("$(hf_median $docker build --network=host -q -t bench-noop:1 "$ctx")")
    ((have_bh)) && h+=("$(hf_median "${B[@]}" bud --layers --isolation chroot --network host -q -t bench-noop:1 "$ctx")")
  done
  row noop "bench-15 no-op" ms "$(printf '%s\n' "${k[@]}" | median)" "$(printf '%s\n' "${b[@]}" | median)" "$(printf '%s\n' "${h[@]}" | median)"
}

w_apt() {
  need_debian
  local ctx=$work/apt
  mkdir -p "$ctx"
  cat >"$ctx/Dockerfile" <<'EOF'
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends python3 curl ca-certificates && rm -rf /var/lib/apt/lists/*
RUN python3 -c 'print("ok")' > /ok
EOF
  rounds apt "cold (--no-cache)" "$ctx" --no-cache
  rounds apt "no-op" "$ctx"
}

w_npm() {
  need_debian
  local ctx=$work/npm
  mkdir -p "$ctx"
  cat >"$ctx/package.json" <<'EOF'
{ "name": "bench-app", "version": "1.0.0", "private": true,
  "dependencies": { "express": "4.21.2", "lodash": "4.17.21", "yaml": "2.6.1" } }
EOF
  (cd "$ctx" && npm install --package-lock-only --no-audit --no-fund --loglevel=error >/dev/null)
  # npm inside the image trusts what this host trusts (a TLS-inspecting proxy's CA, where there is one).
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/host-ca.crt"
  cat >"$ctx/Dockerfile" <<'EOF'
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY host-ca.crt /etc/host-ca.crt
ENV NODE_EXTRA_CA_CERTS=/etc/host-ca.crt
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
EOF
  rounds npm "cold (--no-cache)" "$ctx" --no-cache
  rounds npm "no-op" "$ctx"
}

w_large() {
  local ctx=$work/large k=() b=() h=() rss=()
  mkdir -p "$ctx"
  printf 'FROM busybox:latest\nRUN head -c 1073741824 /dev/urandom > /big\n' >"$ctx/Dockerfile"
  for _ in $(seq "$reps"); do
    local s e
    s=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$work/rss" node "$repo/bin/kiln.js" build -q --no-cache -t bench-large:1 "$ctx" >>"$work/cmd.log" 2>&1
    e=$(date +%s%N)
    k+=($(((e - s) / 1000000)))
    rss+=("$(tail -1 "$work/rss")")
    ((have_bk)) && b+=("$(ms bk -q --no-cache -t bench-large:1 "$ctx")")
    ((have_bh)) && h+=("$(ms bh -q --no-cache -t bench-large:1 "$ctx")")
  done
  row large "1 GiB RUN, cold" ms "$(printf '%s\n' "${k[@]}" | median)" "$(printf '%s\n' "${b[@]}" | median)" "$(printf '%s\n' "${h[@]}" | median)"
  row large "kiln peak RSS" MiB "$(( $(printf '%s\n' "${rss[@]}" | median) / 1024 ))" - -
}

w_edit() {
  local ctx=$work/edit
  mkdir -p "$ctx/src"
  printf 'FROM busybox:latest\nCOPY . /app\nRUN find /app -type f | wc -l > /count\n' >"$ctx/Dockerfile"
  node -e 'const fs=require("fs");for(let d=0;d<200;d++){fs.mkdirSync(`${process.argv[1]}/src/d${d}`,{recursive:true});for(let f=0;f<100;f++)fs.writeFileSync(`${process.argv[1]}/src/d${d}/f${f}.txt`,`file ${d}/${f}\n`)}' "$ctx"
  warm edit "$ctx"
  edit_one() { echo "edit $1 $RANDOM" >>"$ctx/src/d7/f7.txt"; }
  # Each tool sees its own one-file edit: the file changes before every build.
  local k=() b=() h=()
  for r in $(seq "$reps"); do
    edit_one "$r"; k+=("$(ms kiln build -q -t bench-edit:1 "$ctx")")
    if ((have_bk)); then edit_one "$r"; b+=("$(ms bk -q -t bench-edit:1 "$ctx")"); fi
    if ((have_bh)); then edit_one "$r"; h+=("$(ms bh -q -t bench-edit:1 "$ctx")"); fi
  done
  row edit "1 of 20k files changed" ms "$(printf '%s\n' "${k[@]}" | median)" "$(printf '%s\n' "${b[@]}" | median)" "$(printf '%s\n' "${h[@]}" | median)"
}

start_registry() {
  [[ -n ${reg_pid:-} ]] && return
  port=$((20000 + RANDOM % 20000))
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%s\n' "$work/registry" "$port" >"$work/registry.yml"
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  reg_pid=$!
  reg=127.0.0.1:$port
  for _ in $(seq 50); do curl -fs "http://$reg/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
}

# The CI flow: runner A pushes the apt image and a mode=max cache; runner B,
# a fresh store each round, rebuilds with every step a hit and pushes.
w_ci() {
  need_debian
  start_registry
  local ctx=$work/apt t=() bytes=() tf=() fetched=() base_bytes
  [[ -f $ctx/Dockerfile ]] || { mkdir -p "$ctx"; printf 'FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*\n' >"$ctx/Dockerfile"; }
  kiln push debian:bookworm "$reg/base/debian:bookworm" >>"$work/cmd.log" 2>&1
  sed "s#^FROM debian:bookworm#FROM $reg/base/debian:bookworm#" "$ctx/Dockerfile" >"$work/ci.Dockerfile"
  kiln build -q -f "$work/ci.Dockerfile" --cache-to "type=registry,ref=$reg/cache/app:max,mode=max" --push -t "$reg/app/web:1" "$ctx" >>"$work/cmd.log" 2>&1
  base_bytes=$(skopeo inspect --raw --tls-verify=false "docker://$reg/base/debian:bookworm" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).layers.reduce((n,l)=>n+l.size,0)))')
  for r in $(seq "$reps"); do
    local fresh=$work/ci-runner-$r
    t+=("$(KILN_ROOT=$fresh ms node "$repo/bin/kiln.js" build -q -f "$work/ci.Dockerfile" --cache-from "type=registry,ref=$reg/cache/app:max" --push -t "$reg/app/web:ci$r" "$ctx")")
    bytes+=("$(du -sb "$fresh/blobs" | cut -f1)")
    rm -rf "$fresh"
    # The same rebuild into the store only (no push): the image's layers are fetched, as every build did before.
    tf+=("$(KILN_ROOT=$fresh ms node "$repo/bin/kiln.js" build -q -f "$work/ci.Dockerfile" --cache-from "type=registry,ref=$reg/cache/app:max" -t app/web:ci "$ctx")")
    fetched+=("$(du -sb "$fresh/blobs" | cut -f1)")
    rm -rf "$fresh"
  done
  row ci "full-hit rebuild + push" ms "$(printf '%s\n' "${t[@]}" | median)" - -
  row ci "store blobs/ after (push)" B "$(printf '%s\n' "${bytes[@]}" | median)" - -
  row ci "same, no push (fetches)" ms "$(printf '%s\n' "${tf[@]}" | median)" - -
  row ci "store blobs/ after (no push)" B "$(printf '%s\n' "${fetched[@]}" | median)" - -
  row ci "(base image's layers)" B "$base_bytes" - -
}

# Push, pull into an empty store, unchanged re-push; skopeo copy of the same
# image (from an OCI layout kiln wrote) beside kiln, in the BuildKit column's
# place is skopeo.
w_registry() {
  need_debian
  start_registry
  local ctx=$work/apt
  [[ -f $ctx/Dockerfile ]] || { mkdir -p "$ctx"; printf 'FROM debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*\n' >"$ctx/Dockerfile"; }
  kiln build -q -t bench-apt:1 "$ctx" >>"$work/cmd.log" 2>&1
  kiln save --format oci -o "$work/apt.oci.tar" bench-apt:1
  local kp=() sp=() kl=() sl=() kr=() sr=()
  for r in $(seq "$reps"); do
    kp+=("$(ms node "$repo/bin/kiln.js" push bench-apt:1 "$reg/k$r/app:1")")
    sp+=("$(ms skopeo copy -q --dest-tls-verify=false "oci-archive:$work/apt.oci.tar" "docker://$reg/s$r/app:1")")
    kl+=("$(KILN_ROOT=$work/pull-$r ms node "$repo/bin/kiln.js" pull "$reg/k$r/app:1")")
    sl+=("$(ms skopeo copy -q --src-tls-verify=false "docker://$reg/s$r/app:1" "oci:$work/skopeo-pull-$r:app")")
    kr+=("$(ms node "$repo/bin/kiln.js" push bench-apt:1 "$reg/k$r/app:1")")
    sr+=("$(ms skopeo copy -q --dest-tls-verify=false "oci-archive:$work/apt.oci.tar" "docker://$reg/s$r/app:1")")
    rm -rf "$work/pull-$r" "$work/skopeo-pull-$r"
  done
  printf '%-9s %s\n' registry "(BuildKit column: skopeo copy of the same image)"
  row registry "push" ms "$(printf '%s\n' "${kp[@]}" | median)" "$(printf '%s\n' "${sp[@]}" | median)" -
  row registry "pull" ms "$(printf '%s\n' "${kl[@]}" | median)" "$(printf '%s\n' "${sl[@]}" | median)" -
  row registry "re-push unchanged" ms "$(printf '%s\n' "${kr[@]}" | median)" "$(printf '%s\n' "${sr[@]}" | median)" -
}

echo "kiln bench: ${want[*]}; median of $reps interleaved rounds; $(nproc) cores; load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
((have_bk)) || echo "BuildKit: dockerd not available (KILN_SETUP_BENCH=1 scripts/setup.sh)"
((have_bh)) || echo "Buildah: not installed (KILN_SETUP_BENCH=1 scripts/setup.sh)"
header
for w in "${want[@]}"; do "w_$w"; done
echo
echo "== table (load at end: $(cut -d' ' -f1-3 /proc/loadavg)) =="
header
while IFS=$'\t' read -r a b c d e f; do print_row "$a" "$b" "$c" "$d" "$e" "$f"; done <"$rows"
