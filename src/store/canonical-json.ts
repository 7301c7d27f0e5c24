// Deterministic JSON for blobs whose digest is their identity (configs,
// manifests, index.json): object keys sorted at every level, no whitespace.
// The same value always gives the same bytes, whatever order the caller
// built it in. Arrays keep their order (it is meaningful: Env, layers).
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}
