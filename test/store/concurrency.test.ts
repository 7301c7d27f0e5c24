// Two real processes tag 50 images each into one store at the same time:
// index.json must end up valid, with all 100 refs. The store code is
// compiled with tsc for the children (plain node cannot load .ts).
import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
let dir: string;
let built: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kiln-conc-"));
  built = join(dir, "dist");
  const tsc = resolve("node_modules/typescript/bin/tsc");
  execFileSync(process.execPath, [
    tsc, "--outDir", built, "--rootDir", "src", "--module", "NodeNext", "--moduleResolution", "NodeNext",
    "--target", "ES2022", "--strict", "--skipLibCheck", "--types", "node", "src/store/index.ts",
  ]);
  await writeFile(join(built, "package.json"), '{"type":"module"}');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const worker = (storeUrl: string) => `
import { Store } from ${JSON.stringify(storeUrl)};
const [root, who] = process.argv.slice(2);
const store = await Store.open(root);
for (let i = 0; i < 50; i++) {
  const m = await store.putImage({ os: "linux", architecture: "amd64", config: { Labels: { who, i: String(i) } }, rootfs: { type: "layers", diff_ids: [] } }, []);
  await store.tag(\`\${who}-\${i}:1\`, m);
}
`;

describe("concurrent processes", () => {
  it("two processes tagging 50 images each keep all 100 refs", async () => {
    const root = join(dir, "store");
    const script = join(built, "worker.mjs");
    await writeFile(script, worker(new URL(`file://${join(built, "store/index.js")}`).href));
    await Promise.all(["a", "b"].map((who) => run(process.execPath, [script, root, who])));
    const idx = JSON.parse(await readFile(join(root, "index.json"), "utf8")) as { manifests: { annotations: Record<string, string> }[] };
    const names = idx.manifests.map((m) => m.annotations["org.opencontainers.image.ref.name"]);
    expect(names).toHaveLength(100);
    expect(new Set(names).size).toBe(100);
    expect(names).toContain("docker.io/library/a-0:1");
    expect(names).toContain("docker.io/library/b-49:1");
    expect(await readdir(join(root, "tmp"))).toEqual([]);
    expect(await readdir(join(root, "locks"))).toEqual([]);
  });
});
