#!/usr/bin/env bash
# Prints the URI of the host's Debian archive that serves SUITE (e.g.
# bookworm), read from its apt sources (deb822 /etc/apt/sources.list.d/*.sources,
# then one-line /etc/apt/sources.list and sources.list.d/*.list), so the
# setup fetches from whatever mirror this machine already uses and the repo
# names none. Exit 1 when no source lists SUITE.
# Usage: scripts/apt-mirror.sh SUITE   ($APT_ROOT: another root, for tests)
set -euo pipefail
suite=$1
etc=${APT_ROOT:-}/etc/apt
shopt -s nullglob
# deb822: stanzas separated by blank lines; Types/URIs/Suites/Enabled fields.
for f in "$etc"/sources.list.d/*.sources; do
  uri=$(awk -v want="$suite" '
    function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no" && uris != "") { n = split(suites, s, " "); for (i = 1; i <= n; i++) if (s[i] == want) { split(uris, u, " "); print u[1]; found = 1; exit } } types = uris = suites = ""; enabled = "" }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, ""); val = $0 }
    key == "types" { types = val } key == "uris" { uris = val } key == "suites" { suites = val } key == "enabled" { enabled = tolower(val) }
    END { if (!found) flush() }' "$f")
  [[ -n $uri ]] && { echo "${uri%/}"; exit 0; }
done
# One-line form: deb [options] URI SUITE COMPONENT...
for f in "$etc"/sources.list "$etc"/sources.list.d/*.list; do
  [[ -f $f ]] || continue
  uri=$(awk -v want="$suite" '
    /^[ \t]*deb[ \t]/ { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == want) { print $i; exit } }' "$f")
  [[ -n $uri ]] && { echo "${uri%/}"; exit 0; }
done
exit 1
