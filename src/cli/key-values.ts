// "k=v,k2=v2" flag values (--output, --cache-to/--cache-from, --attest,
// --provenance), as buildx reads them: keys and values trimmed, a part
// without "=" an error that quotes the flag, the value and the part.
import { KilnError, type KilnErrorCode } from "../util/errors.js";

export function keyValues(flag: string, spec: string, code: KilnErrorCode = "USAGE"): Map<string, string> {
  const kv = new Map<string, string>();
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) throw new KilnError(code, `invalid ${flag} "${spec}": "${part}" is not KEY=VALUE`);
    kv.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return kv;
}
