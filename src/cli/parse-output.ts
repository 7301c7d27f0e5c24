// --output as buildx spells it: "type=oci,dest=img.tar", "type=local,dest=dir",
// or a bare path meaning type=local.
import type { LayerCompression } from "../snapshot/compress.js";
import type { FileOutput } from "../build/options.js";
import { KilnError } from "../util/errors.js";
import { keyValues } from "./key-values.js";

export function parseOutput(spec: string): FileOutput {
  if (!spec.includes("=")) return { kind: "local", dest: spec };
  const kv = keyValues("--output", spec, "INVALID_OUTPUT");
  const type = kv.get("type");
  const dest = kv.get("dest");
  if (!dest) throw new KilnError("INVALID_OUTPUT", `invalid --output "${spec}": dest= is required`, { hint: "e.g. --output type=oci,dest=img.tar" });
  switch (type) {
    case "oci":
      return { kind: "oci", dest, tar: kv.get("tar") !== "false" };
    case "docker":
      return { kind: "docker", dest };
    case "local":
      if (dest === "-") throw new KilnError("INVALID_OUTPUT", `invalid --output "${spec}": type=local writes a directory, not stdout`, { hint: "use -o - (a tar of the files on stdout)" });
      return { kind: "local", dest };
    case "tar":
      return { kind: "tar", dest };
    default:
      throw new KilnError("INVALID_OUTPUT", `invalid --output "${spec}": unknown type "${type ?? ""}"`, { hint: "types: oci, docker, local, tar, registry" });
  }
}

/**
 * buildx's compression=gzip|zstd|uncompressed and compression-level=N on
 * oci, docker and registry outputs. kiln makes one set of blobs per build
 * (every output shares the image and its digest), so outputs that name
 * different compressions are refused rather than silently merged.
 */
export function parseCompression(specs: readonly string[]): LayerCompression | undefined {
  let found: { spec: string; c: LayerCompression } | undefined;
  for (const spec of specs) {
    if (!spec.includes("=")) continue;
    const kv = keyValues("--output", spec, "INVALID_OUTPUT");
    const kind = kv.get("compression");
    const levelText = kv.get("compression-level");
    if (kind === undefined && levelText === undefined) continue;
    const c = compressionOf(spec, kind ?? "gzip", levelText);
    if (found && JSON.stringify(found.c) !== JSON.stringify(c)) {
      throw new KilnError("INVALID_OUTPUT", `--output "${spec}" asks for other compression than "${found.spec}"`, { hint: "give every output the same compression= and compression-level=" });
    }
    found = { spec, c };
  }
  return found?.c;
}

function compressionOf(spec: string, kind: string, levelText: string | undefined): LayerCompression {
  const range = kind === "gzip" ? [0, 9] : kind === "zstd" ? [1, 22] : undefined;
  if (kind === "uncompressed") {
    if (levelText !== undefined) throw new KilnError("INVALID_OUTPUT", `invalid --output "${spec}": compression=uncompressed takes no compression-level`);
    return { kind: "none" };
  }
  if (!range) throw new KilnError("INVALID_OUTPUT", `invalid --output "${spec}": unknown compression "${kind}"`, { hint: "compression=gzip, zstd or uncompressed" });
  if (levelText === undefined) return { kind: kind as "gzip" | "zstd" };
  const level = /^\d+$/.test(levelText) ? Number(levelText) : NaN;
  if (!(level >= range[0]! && level <= range[1]!)) {
    throw new KilnError("INVALID_OUTPUT", `invalid --output "${spec}": compression-level for ${kind} must be ${range[0]}-${range[1]}, not "${levelText}"`);
  }
  return { kind: kind as "gzip" | "zstd", level };
}

/** buildx's shorthand: `-o -` is the final filesystem as a tar on stdout. */
export function outputAlias(spec: string): string {
  return spec === "-" ? "type=tar,dest=-" : spec;
}
