// Field-by-field differences between kiln's image and BuildKit's. What is
// normalised, and why (also in testdata/differential/README.md):
// - times: config.created and history[].created (each builder stamps its own
//   clock) and file mtimes (not read at all);
// - history[].created_by / comment: builder-specific text (BuildKit writes
//   "RUN /bin/sh -c ... # buildkit"); the number of entries and which are
//   empty layers are compared;
// - rootfs.diff_ids: digests of the layer tars, which hold those mtimes;
//   the number of layers is compared;
// - the content (not type, mode or owner) of files that record when or by
//   which process they were written (`volatile` below).
import type { Entry, SavedImage } from "./image-tree.js";

/** Paths whose bytes carry a time or a process id, never what the Dockerfile decided. */
const volatile: RegExp[] = [
  /^\/var\/log\/(apt\/(history|term|eipp)\.log(\.xz)?|dpkg\.log|alternatives\.log)$/,
  /^\/var\/cache\/ldconfig\/aux-cache$/,
  /^\/var\/cache\/debconf\/templates\.dat(-old)?$/,
  /^\/(root|home\/[^/]+)\/\.npm\/_logs\//,
  /^\/(root|home\/[^/]+)\/\.npm\/_cacache\/index-v5\//,
  /^\/(root|home\/[^/]+)\/\.cache\/go-build\//,
];

/** JSON with object keys sorted: the builders order config keys differently. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));
}

function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function show(e: Entry | undefined): string {
  if (!e) return "absent";
  const { sha256, ...rest } = e;
  return JSON.stringify(sha256 ? { ...rest, sha256: sha256.slice(0, 12) } : rest);
}

export function treeDifferences(kiln: SavedImage, bk: SavedImage): string[] {
  const out: string[] = [];
  const paths = [...new Set([...kiln.tree.keys(), ...bk.tree.keys()])].sort();
  for (const p of paths) {
    let k = kiln.tree.get(p);
    let b = bk.tree.get(p);
    if (k && b && volatile.some((r) => r.test(p))) {
      k = { ...k, sha256: "", size: 0 };
      b = { ...b, sha256: "", size: 0 };
    }
    if (!same(k, b)) out.push(`${p}: kiln ${show(k)} buildkit ${show(b)}`);
  }
  return out;
}

const CONFIG_FIELDS = ["User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir", "Labels", "StopSignal", "Healthcheck", "OnBuild", "Shell"];

type Json = Record<string, unknown>;

export function configDifferences(kiln: SavedImage, bk: SavedImage): string[] {
  const out: string[] = [];
  const kc = (kiln.config.config ?? {}) as Json;
  const bc = (bk.config.config ?? {}) as Json;
  const empty = (v: unknown) => v === undefined || v === null || v === "" || (typeof v === "object" && Object.keys(v as object).length === 0);
  for (const f of CONFIG_FIELDS) {
    const k = kc[f];
    const b = bc[f];
    if (empty(k) && empty(b)) continue;
    if (!same(k, b)) out.push(`config.${f}: kiln ${JSON.stringify(k)} buildkit ${JSON.stringify(b)}`);
  }
  for (const f of ["architecture", "os", "variant"]) if (!same(kiln.config[f], bk.config[f])) out.push(`${f}: kiln ${JSON.stringify(kiln.config[f])} buildkit ${JSON.stringify(bk.config[f])}`);
  if (kiln.layers !== bk.layers) out.push(`layers: kiln ${kiln.layers} buildkit ${bk.layers}`);
  const empties = (c: Json) => ((c.history ?? []) as Json[]).map((h) => (h.empty_layer ? "E" : "L")).join("");
  if (empties(kiln.config) !== empties(bk.config)) out.push(`history (L layer, E empty): kiln ${empties(kiln.config)} buildkit ${empties(bk.config)}`);
  return out;
}
