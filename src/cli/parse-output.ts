// --output as buildx spells it: "type=oci,dest=img.tar", "type=local,dest=dir",
// or a bare path meaning type=local.
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

/** buildx's shorthand: `-o -` is the final filesystem as a tar on stdout. */
export function outputAlias(spec: string): string {
  return spec === "-" ? "type=tar,dest=-" : spec;
}
