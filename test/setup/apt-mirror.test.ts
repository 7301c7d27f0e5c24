// scripts/apt-mirror.sh: the setup takes the Debian mirror from the host's
// own apt sources (deb822 .sources or one-line sources.list), so the repo
// names no package server. Run on sample source files under APT_ROOT.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../helpers/kiln.js";

const SCRIPT = path.join(REPO, "scripts/apt-mirror.sh");

describe("scripts/apt-mirror.sh", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "kiln-apt-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function sources(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(path.join(root, "r-"));
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, "etc/apt", rel)), { recursive: true });
      await writeFile(path.join(dir, "etc/apt", rel), text);
    }
    return dir;
  }
  const mirror = (dir: string, suite: string) => spawnSync("bash", [SCRIPT, suite], { env: { ...process.env, APT_ROOT: dir }, encoding: "utf8" });

  it("deb822: the URI of the stanza whose Suites list the suite, skipping disabled ones and deb-src", async () => {
    const dir = await sources({
      "sources.list.d/other.sources": "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\nComponents: main\n\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n",
      "sources.list.d/debian.sources": "Types: deb\n# a comment\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n",
    });
    expect(mirror(dir, "bookworm").stdout).toBe("http://mirror.example/debian\n");
    expect(mirror(dir, "bookworm-security").stdout).toBe("http://mirror.example/debian-security\n");
  });

  it("one-line sources.list, with [options]", async () => {
    const dir = await sources({ "sources.list": "# deb http://commented.example/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] https://line.example/debian bookworm main contrib\n" });
    expect(mirror(dir, "bookworm").stdout).toBe("https://line.example/debian\n");
  });

  it("no source for the suite: exit 1, nothing printed (the setup then asks for KILN_DEBIAN_MIRROR)", async () => {
    const dir = await sources({ "sources.list": "deb http://archive.example/ubuntu noble main\n" });
    const r = mirror(dir, "bookworm");
    expect([r.status, r.stdout]).toEqual([1, ""]);
  });

  it("the repo names no Debian package server: setup.sh takes it from here", () => {
    const hits = spawnSync("git", ["grep", "-n", "deb\\.debian\\.org", "--", "scripts", ".github", "package.json"], { cwd: REPO, encoding: "utf8" });
    expect(hits.stdout).toBe("");
    expect(execFileSync("bash", ["-n", path.join(REPO, "scripts/setup.sh")]).toString()).toBe("");
  });
});
