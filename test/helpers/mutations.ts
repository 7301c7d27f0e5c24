// Key-mutation tests (test/cache/*-key.test.ts): every way to change one
// leaf of a resolved step, so a test can check that each one changes the
// step's cache key. A field that reaches the filesystem or the runtime and
// is not in the key then fails a test instead of giving a false cache hit.
/** Every way to change one leaf of a value (and to grow each list by one). */
export function mutations(value: unknown, at: string[] = []): { path: string; apply: (v: unknown) => unknown }[] {
  const out: { path: string; apply: (v: unknown) => unknown }[] = [];
  const change = (leaf: unknown): unknown => (typeof leaf === "string" ? `${leaf}x` : typeof leaf === "number" ? leaf + 1 : typeof leaf === "boolean" ? !leaf : leaf);
  const set = (root: unknown, p: string[], f: (x: unknown) => unknown): unknown => {
    if (p.length === 0) return f(root);
    const [head, ...rest] = p as [string, ...string[]];
    const copy: any = Array.isArray(root) ? [...root] : { ...(root as object) };
    copy[head] = set(copy[head], rest, f);
    return copy;
  };
  if (Array.isArray(value)) {
    out.push({ path: `${at.join(".")}+`, apply: (v) => set(v, at, (x) => [...(x as unknown[]), (x as unknown[])[0]]) });
    value.forEach((x, i) => out.push(...mutations(x, [...at, String(i)])));
  } else if (value !== null && typeof value === "object") {
    for (const [k, x] of Object.entries(value)) out.push(...mutations(x, [...at, k]));
  } else {
    out.push({ path: at.join("."), apply: (v) => set(v, at, change) });
  }
  return out;
}
