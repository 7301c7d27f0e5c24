// Ctrl-C (SIGINT) or SIGTERM stops a command within moments, exits 130 or
// 143 as shells expect, and leaves no name behind: `kiln import` used to
// ignore SIGINT, finish and tag; a pull died with "internal: AbortError"
// (exit 70). Run as a user runs kiln: `node bin/kiln.js` in its own process.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushImage } from "../../src/registry/push.js";
import { Store } from "../../src/store/store.js";
import { BIN, requireBuilt } from "../helpers/bin.js";
import { makeTinyImage } from "../helpers/tiny-image.js";
import { useWorkspace } from "../helpers/workspace.js";
import { startTrickleProxy, type TestServer } from "../registry/helpers/hostile-servers.js";
import { type RegistryServer, startRegistry } from "../registry/helpers/registry-server.js";

const env = { ...process.env, DOCKER_CONFIG: "/nonexistent" };

interface Interrupted {
  readonly code: number | null;
  readonly stderr: string;
  /** From the signal to the process's exit. */
  readonly exitMs: number;
}

/** Starts `kiln ARGS`, waits for `ready()`, sends `signal`, and reports how it ended. */
async function interruptKiln(args: string[], ready: () => Promise<boolean>, signal: NodeJS.Signals): Promise<Interrupted> {
  const child = spawn("node", [BIN, ...args], { stdio: ["ignore", "ignore", "pipe"], env });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  let exited = false;
  void closed.then(() => (exited = true));
  for (const deadline = Date.now() + 30_000; !(await ready()); await sleep(20)) {
    if (exited) throw new Error(`kiln ${args.join(" ")} ended before it could be interrupted: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`kiln ${args.join(" ")} never got under way: ${stderr}`);
  }
  const t0 = Date.now();
  child.kill(signal);
  const code = await closed;
  const exitMs = Date.now() - t0;
  console.log(`kiln ${args[2]}: ${signal} -> exit ${code} after ${exitMs} ms`);
  return { code, stderr, exitMs };
}

function imagesIn(root: string): string {
  return execFileSync("node", [BIN, "--root", root, "images"], { encoding: "utf8", env });
}

/** What a dead process may have left in the store, after a later command's recovery sweep. */
async function leftovers(root: string): Promise<string[]> {
  imagesIn(root); // any kiln command sweeps what dead processes left
  const tmp = (await readdir(path.join(root, "tmp")).catch(() => [])).filter((n) => !n.startsWith("."));
  const newSnaps = (await readdir(path.join(root, "snapshots")).catch(() => [])).filter((n) => n.startsWith(".new-"));
  const tmpBlobs = (await readdir(path.join(root, "blobs/sha256")).catch(() => [])).filter((n) => n.startsWith(".tmp-"));
  return [...tmp, ...newSnaps, ...tmpBlobs];
}

describe("interrupting kiln", () => {
  const ws = useWorkspace({ name: "interrupt" });
  let tarball: string;
  beforeAll(async () => {
    await requireBuilt("src/cli/main.ts", "src/import/rootfs-tarball.ts", "src/registry/retry.ts");
    // 120 MB of incompressible files: seconds of import here (the signal comes at its start).
    const dir = path.join(ws.work, "rootfs");
    await mkdir(path.join(dir, "data"), { recursive: true });
    for (let i = 0; i < 3; i++) {
      const fd = openSync(path.join(dir, "data", `f${i}`), "w");
      execFileSync("head", ["-c", "40M", "/dev/urandom"], { stdio: ["ignore", fd, "inherit"] });
      closeSync(fd);
    }
    tarball = path.join(ws.work, "big.tar");
    execFileSync("tar", ["-cf", tarball, "-C", dir, "."]);
  }, 120_000);

  // The import is under way once files are landing in its snapshot.
  const importing = (root: string) => async () => {
    const snaps = path.join(root, "snapshots");
    for (const n of (await readdir(snaps).catch(() => [])).filter((n) => n.startsWith(".new-"))) {
      if ((await readdir(path.join(snaps, n, "fs", "data")).catch(() => [])).length > 0) return true;
    }
    return false;
  };

  it("SIGINT mid-import: exit 130 within 2 s, nothing tagged, nothing left over", async () => {
    const root = path.join(ws.work, "store-int");
    const r = await interruptKiln(["--root", root, "import", tarball, "big:1"], importing(root), "SIGINT");
    expect(r.stderr).not.toMatch(/internal/);
    expect(r.stderr).toMatch(/interrupted/);
    expect(r.code).toBe(130);
    expect(r.exitMs).toBeLessThan(2000);
    expect(imagesIn(root)).not.toMatch(/big/);
    expect(await leftovers(root)).toEqual([]);
  }, 60_000);

  it("SIGTERM mid-import: exit 143, nothing tagged", async () => {
    const root = path.join(ws.work, "store-term");
    const r = await interruptKiln(["--root", root, "import", tarball, "big:1"], importing(root), "SIGTERM");
    expect(r.code).toBe(143);
    expect(r.exitMs).toBeLessThan(2000);
    expect(imagesIn(root)).not.toMatch(/big/);
    expect(await leftovers(root)).toEqual([]);
  }, 60_000);

  describe("a pull from a registry that trickles its answers", () => {
    let reg: RegistryServer;
    let slow: TestServer;
    beforeAll(async () => {
      reg = await startRegistry();
      const store = await Store.open(path.join(ws.work, "source"));
      const img = await makeTinyImage(store, { files: { "blob.bin": randomBytes(3 * 1024 * 1024).toString("base64") }, label: "slow" });
      await store.tag("slow:1", img.manifestDescriptor);
      await pushImage({ store, image: "slow:1", ref: `${reg.host}/team/slow:1`, env });
      // 16 KB every 50 ms: the 4 MB layer would take ~13 s.
      slow = await startTrickleProxy(reg.port, 16 * 1024);
    }, 60_000);
    afterAll(async () => {
      await slow?.stop();
      await reg?.stop();
    });

    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      it(`${signal} mid-download: exit ${code} within 2 s, a clear message, no name, no partial blob`, async () => {
        const root = path.join(ws.work, `pull-${signal}`);
        const before = slow.sent();
        const r = await interruptKiln(["--root", root, "pull", `${slow.host}/team/slow:1`], async () => slow.sent() - before > 256 * 1024, signal);
        expect(r.stderr).not.toMatch(/internal|AbortError|startsWith/);
        expect(r.stderr).toMatch(new RegExp(`interrupted by ${signal}`));
        expect(r.code).toBe(code);
    expect(r.exitMs).toBeLessThan(2000);
        expect(imagesIn(root)).not.toMatch(/slow/);
        expect(await leftovers(root)).toEqual([]);
      }, 60_000);
    }
  });
});
