// --provenance, --sbom and --attest, as buildx spells them:
//   --provenance=true|false|mode=min|mode=max[,builder-id=URI]
//   --sbom=true|false
//   --attest type=provenance,mode=max | type=sbom | type=…,disabled=true
// Provenance (mode=min) is on by default when the image is pushed, as
// buildx does; everything else is asked for.
import type { AttestationOptions } from "../attest/attach.js";
import type { ProvenanceMode } from "../attest/provenance.js";
import { KilnError } from "../util/errors.js";
import { keyValues } from "./key-values.js";

export interface AttestFlags {
  readonly provenance?: string;
  readonly sbom?: string;
  readonly attest?: readonly string[];
  readonly legacy?: boolean;
}

type Provenance = AttestationOptions["provenance"] | false;

export function parseAttestFlags(flags: AttestFlags, pushing: boolean): AttestationOptions {
  let provenance: Provenance | undefined;
  let sbom: boolean | undefined;
  if (flags.provenance !== undefined) provenance = parseProvenance(flags.provenance, "--provenance");
  if (flags.sbom !== undefined) sbom = parseSbom(flags.sbom, "--sbom");
  for (const spec of flags.attest ?? []) {
    const kv = keyValues("--attest", spec);
    const type = kv.get("type");
    kv.delete("type");
    const disabled = kv.get("disabled") === "true";
    kv.delete("disabled");
    if (type === "provenance") provenance = disabled ? false : parseProvenance([...kv].map(([k, v]) => `${k}=${v}`).join(",") || "true", "--attest");
    else if (type === "sbom") sbom = disabled ? false : parseSbom("true", "--attest");
    else throw new KilnError("USAGE", `--attest ${spec}: type must be provenance or sbom`, { hint: "e.g. --attest type=provenance,mode=max or --attest type=sbom" });
  }
  const p = provenance ?? (pushing ? { mode: "min" as const } : false);
  return { ...(p ? { provenance: p } : {}), ...(sbom ? { sbom } : {}), ...(flags.legacy ? { form: "legacy" as const } : {}) };
}

function parseProvenance(v: string, flag: string): Provenance {
  if (v === "false" || v === "0") return false;
  if (v === "true" || v === "1" || v === "") return { mode: "min" };
  const kv = keyValues(flag, v);
  let mode: ProvenanceMode = "min";
  let builderId: string | undefined;
  for (const [k, val] of kv) {
    if (k === "mode") {
      if (val !== "min" && val !== "max") throw new KilnError("USAGE", `${flag} ${v}: mode must be min or max, not "${val}"`);
      mode = val;
    } else if (k === "builder-id") builderId = val;
    else throw new KilnError("USAGE", `${flag} ${v}: unknown key "${k}"`, { hint: "keys: mode=min|max, builder-id=URI" });
  }
  return { mode, ...(builderId ? { builderId } : {}) };
}

function parseSbom(v: string, flag: string): boolean {
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new KilnError("USAGE", `${flag}=${v}: expected true or false`);
}
