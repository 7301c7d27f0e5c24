// A --cache-from cache is untrusted (a registry, a shared directory): its
// index, manifest and records are checked before use, and a record's key can
// never become a path out of the store.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

describe("hostile build cache", () => {
  const ws = useWorkspace({ name: "hostile-cache", context: { Dockerfile: "FROM scratch\nCOPY Dockerfile /d\n" } });

  /** A local cache directory (as --cache-to type=local writes) holding `records`. */
  const cacheDir = async (name: string, records: unknown, index?: string) => {
    const dir = path.join(ws.work, name);
    await mkdir(path.join(dir, "blobs/sha256"), { recursive: true });
    const blob = async (text: string) => {
      const hex = createHash("sha256").update(text).digest("hex");
      await writeFile(path.join(dir, "blobs/sha256", hex), text);
      return { digest: `sha256:${hex}`, size: Buffer.byteLength(text) };
    };
    const config = await blob(JSON.stringify({ version: 1, records }));
    const manifest = await blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        artifactType: "application/vnd.kiln.cache.v1",
        config: { mediaType: "application/vnd.kiln.cache.config.v1+json", ...config },
        layers: [],
      }),
    );
    await writeFile(path.join(dir, "index.json"), index ?? JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest }] }));
    return dir;
  };

  const build = (dir: string) => kiln(["--root", ws.root, "build", "--progress", "plain", "--cache-from", `type=local,src=${dir}`, ws.ctx]);

  it("a record whose key is a path (sha256:../../…) is refused and nothing is written outside the store", async () => {
    const victim = path.join(ws.work, "pwned");
    const key = `sha256:${"../".repeat(12)}${victim.slice(1)}`;
    const dir = await cacheDir("traversal", [{ version: 1, key, inputs: {}, diffId: null, history: {} }]);
    const r = await build(dir);
    expect(r.stderr).toMatch(/the cache config sha256:\w+ is not valid: records\[0\] is not a step record/);
    expect(r.code).toBe(1);
    expect(existsSync(`${victim}.json`)).toBe(false);
  });

  it("records that are not an array, and an index.json of [], are clear errors", async () => {
    const notArray = await build(await cacheDir("null-records", null));
    expect(notArray.stderr).toMatch(/records: expected an array/);
    expect(notArray.code).toBe(1);
    const emptyIndex = await build(await cacheDir("bad-index", [], "[]"));
    expect(emptyIndex.stderr).toMatch(/bad-index\/index\.json is not valid: expected an object, got an array/);
    expect(emptyIndex.stderr).not.toMatch(/internal/);
    expect(emptyIndex.code).toBe(1);
  });
});
