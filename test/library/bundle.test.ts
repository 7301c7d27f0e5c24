// bin/kiln.js runs the esbuild bundle (dist/bundle/, scripts/bundle.mjs), while
// every other test runs the CLI in-process from src/. This one runs the real
// executable as a user would and checks that the bundle is the same CLI: the
// same version, and the same image digest for the same build as tsc's
// unbundled dist/cli/ (KILN_BUNDLE=0). It also checks which of the two each
// run loaded, through a module resolve hook, since a stale or missing bundle
// makes bin/kiln.js fall back to dist/cli/ quietly.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, storeWithBusybox } from "../helpers/kiln.js";

const run = promisify(execFile);
const EPOCH = "1700000000";

describe("bin/kiln.js through the bundle", () => {
  let work = "";
  let runs = 0;
  const stores: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "kiln-bundle-"));
    // Logs every file module a run resolves, from Node's loader thread (hence a file, not stdout).
    await writeFile(
      path.join(work, "hooks.mjs"),
      `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.startsWith("file:")) appendFileSync(process.env.KILN_TEST_LOADED, r.url + "\\n");
  return r;
}
`,
    );
    await writeFile(path.join(work, "register.mjs"), `import { register } from "node:module";\nregister("./hooks.mjs", import.meta.url);\n`);
    await mkdir(path.join(work, "ctx"));
    await writeFile(path.join(work, "ctx/hello.txt"), "hello from the bundle\n");
    await writeFile(
      path.join(work, "ctx/Dockerfile"),
      "FROM busybox:latest\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt > /copy.txt && mkdir /made\nENV GREETING=hi\n",
    );
  });
  afterAll(async () => {
    for (const d of [work, ...stores]) if (d) await rm(d, { recursive: true, force: true });
  });

  /** Runs `node bin/kiln.js ARGS`; returns its stdout and the modules under kiln's dist/ it loaded. */
  async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; loaded: string[] }> {
    const log = path.join(work, `loaded-${++runs}.txt`);
    await writeFile(log, "");
    const { stdout } = await run(process.execPath, ["--import", path.join(work, "register.mjs"), path.join(REPO, "bin/kiln.js"), ...args], {
      env: { ...process.env, ...env, KILN_TEST_LOADED: log },
    });
    const dist = path.join(REPO, "dist") + path.sep;
    const loaded = (await readFile(log, "utf8"))
      .split("\n")
      .map((u) => (u ? fileURLToPath(u) : ""))
      .filter((f) => f.startsWith(dist))
      .map((f) => f.slice(dist.length));
    return { stdout, loaded };
  }

  const fromBundle = (loaded: string[]) => {
    expect(loaded, "bin/kiln.js did not load dist/bundle/ (missing or older than dist/: run scripts/setup.sh)").toContain("bundle/main.js");
    expect(loaded.filter((f) => !f.startsWith("bundle/"))).toEqual([]);
  };

  it("--version is package.json's", async () => {
    const { version } = JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as { version: string };
    const r = await cli(["--version"]);
    expect(r.stdout).toBe(`kiln version ${version}\n`);
    fromBundle(r.loaded);
  });

  it("a build gives the same image digest as the unbundled CLI", async () => {
    // Two stores holding the identical base, so neither build reuses the other's cache.
    const a = await storeWithBusybox({ sourceDateEpoch: EPOCH });
    const b = await storeWithBusybox({ sourceDateEpoch: EPOCH });
    stores.push(a, b);
    const args = (root: string) => ["--root", root, "build", "-q", "-t", "bundled:1", path.join(work, "ctx")];

    const bundled = await cli(args(a), { SOURCE_DATE_EPOCH: EPOCH });
    fromBundle(bundled.loaded);
    // The build reached the builder's chunks, not only the entry.
    expect(bundled.loaded.length).toBeGreaterThan(5);

    const unbundled = await cli(args(b), { SOURCE_DATE_EPOCH: EPOCH, KILN_BUNDLE: "0" });
    expect(unbundled.loaded).toContain("cli/main.js");
    expect(unbundled.loaded.filter((f) => f.startsWith("bundle/"))).toEqual([]);

    expect(bundled.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(bundled.stdout).toBe(unbundled.stdout);
  });
});
