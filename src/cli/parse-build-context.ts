// --build-context NAME=VALUE as buildx spells it: a directory,
// docker-image://REF, or oci-layout://PATH[:TAG].
import type { BuildContext } from "../build/options.js";
import { KilnError } from "../util/errors.js";

export function parseBuildContexts(specs: readonly string[]): Record<string, BuildContext> {
  const out: Record<string, BuildContext> = {};
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    if (eq <= 0) throw new KilnError("USAGE", `invalid --build-context "${spec}": expected NAME=VALUE`, { hint: "e.g. --build-context deps=./vendor or base=docker-image://127.0.0.1:5000/base:1" });
    const name = spec.slice(0, eq);
    const value = spec.slice(eq + 1);
    if (value.startsWith("docker-image://")) out[name] = { kind: "image", ref: value.slice("docker-image://".length) };
    else if (value.startsWith("oci-layout://")) {
      const rest = value.slice("oci-layout://".length);
      const colon = rest.lastIndexOf(":");
      const tagged = colon > rest.lastIndexOf("/");
      out[name] = tagged ? { kind: "oci-layout", path: rest.slice(0, colon), tag: rest.slice(colon + 1) } : { kind: "oci-layout", path: rest };
    } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      throw new KilnError("USAGE", `--build-context ${name}: unsupported source "${value}"`, { hint: "use a directory, docker-image://REF or oci-layout://PATH[:TAG]" });
    } else out[name] = { kind: "dir", path: value };
  }
  return out;
}
