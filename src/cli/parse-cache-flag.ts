// --cache-to / --cache-from as buildx spells them:
//   type=local,dest=DIR[,mode=min|max][,mounts=true]   type=local,src=DIR
//   type=registry,ref=REF[,mode=min|max][,mounts=true] type=registry,ref=REF
import type { CacheExportOptions, CacheTarget } from "../cache/cache-layout.js";
import { KilnError } from "../util/errors.js";
import { keyValues } from "./key-values.js";

function target(flag: string, spec: string, kv: Map<string, string>, dirKey: "dest" | "src"): CacheTarget {
  const type = kv.get("type");
  if (type === "local") {
    const dir = kv.get(dirKey);
    if (!dir) throw new KilnError("USAGE", `invalid ${flag} "${spec}": ${dirKey}= is required for type=local`);
    return { kind: "local", dir };
  }
  if (type === "registry") {
    const ref = kv.get("ref");
    if (!ref) throw new KilnError("USAGE", `invalid ${flag} "${spec}": ref= is required for type=registry`);
    return { kind: "registry", ref };
  }
  throw new KilnError("USAGE", `invalid ${flag} "${spec}": type must be local or registry`);
}

export function parseCacheFrom(spec: string): CacheTarget {
  // The classic form, `--cache-from REF`, is a registry cache (buildx: type=registry,ref=REF).
  if (!spec.includes("=")) return { kind: "registry", ref: spec };
  return target("--cache-from", spec, keyValues("--cache-from", spec), "src");
}

export function parseCacheTo(spec: string): CacheExportOptions {
  const kv = keyValues("--cache-to", spec);
  const mode = kv.get("mode") ?? "min";
  if (mode !== "min" && mode !== "max") throw new KilnError("USAGE", `invalid --cache-to "${spec}": mode must be min or max`);
  return { to: target("--cache-to", spec, kv, "dest"), mode, mounts: kv.get("mounts") === "true" };
}
