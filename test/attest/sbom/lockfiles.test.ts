// Language lockfiles found by walking the image: npm (v1 and v3), go.mod,
// requirements*.txt and poetry.lock, and the places the walk must not look.
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scanRootfs, type SbomPackage } from "../../../src/attest/sbom/index.js";

const FIXTURES = path.resolve("testdata/sbom");

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kiln-sbom-lock-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Copy a fixture into the image root at `to` (an image path). */
async function place(fixture: string, to: string): Promise<void> {
  await cp(path.join(FIXTURES, fixture), path.join(root, to), { recursive: true });
}

async function put(imagePath: string, text: string): Promise<void> {
  await mkdir(path.dirname(path.join(root, imagePath)), { recursive: true });
  await writeFile(path.join(root, imagePath), text);
}

const purls = (pkgs: SbomPackage[]): string[] => pkgs.map((p) => p.purl);

describe("npm package-lock.json", () => {
  it("v3 (npm 11): installed packages with scoped, nested and aliased names; no root, workspace or link entries", async () => {
    await place("npm-v3", "/app");
    const pkgs = await scanRootfs(root);
    expect(pkgs.every((p) => p.type === "npm" && p.foundIn === "/app/package-lock.json")).toBe(true);
    expect(purls(pkgs)).toEqual([
      "pkg:npm/%40sindresorhus/is@4.6.0",
      "pkg:npm/debug@2.6.9",
      "pkg:npm/ms@2.0.0",
      "pkg:npm/ms@2.1.2",
      "pkg:npm/ms@2.1.3",
    ]);
    expect(pkgs[0]).toMatchObject({ name: "@sindresorhus/is", version: "4.6.0", license: "MIT" });
  });

  it("v3: a dev or optional package is listed only when it was installed", async () => {
    await place("npm-v3", "/app");
    await put("/app/node_modules/left-pad/package.json", '{"name":"left-pad","version":"1.3.0"}');
    const pkgs = await scanRootfs(root);
    expect(purls(pkgs)).toContain("pkg:npm/left-pad@1.3.0");
    expect(pkgs.find((p) => p.name === "left-pad")?.license).toBe("WTFPL");
    // fsevents is darwin-only: optional, and not in node_modules here.
    expect(pkgs.some((p) => p.name === "fsevents")).toBe(false);
  });

  it("v1 (npm 6): the nested dependencies map, and the alias resolved to the real package", async () => {
    await place("npm-v1", "/srv/legacy");
    const pkgs = await scanRootfs(root);
    expect(pkgs.map((p) => `${p.name}@${p.version}`)).toEqual(["@sindresorhus/is@4.6.0", "debug@2.6.9", "ms@2.0.0", "ms@2.1.2", "ms@2.1.3"]);
    expect(purls(pkgs)[0]).toBe("pkg:npm/%40sindresorhus/is@4.6.0");
  });

  it("ignores lockfiles inside node_modules, and ones that are not JSON", async () => {
    await put("/app/node_modules/dep/package-lock.json", JSON.stringify({ lockfileVersion: 3, packages: { "node_modules/inner": { version: "9.9.9" } } }));
    await put("/other/package-lock.json", "<<<<<<< merge conflict");
    expect(await scanRootfs(root)).toEqual([]);
  });
});

describe("go.mod", () => {
  it("single and block requires, indirect ones too, with replace applied", async () => {
    await place("go", "/src/app");
    const pkgs = await scanRootfs(root);
    expect(pkgs.every((p) => p.type === "golang" && p.foundIn === "/src/app/go.mod")).toBe(true);
    expect(pkgs.map((p) => `${p.name} ${p.version}`)).toEqual([
      "github.com/BurntSushi/toml v1.3.2",
      "github.com/docker/docker v25.0.5+incompatible",
      "github.com/google/uuid v1.6.0",
      "github.com/new/thing v1.2.0", // replace github.com/old/thing => github.com/new/thing v1.2.0
      "github.com/pinned/dep v1.1.0", // its replace names v1.0.0 only
      "golang.org/x/sys v0.18.0",
      "gopkg.in/yaml.v3 v3.0.1",
      // example.com/app/lib is replaced by ./lib, the project's own code
    ]);
    expect(purls(pkgs)).toContain("pkg:golang/github.com/docker/docker@v25.0.5%2Bincompatible");
    expect(purls(pkgs)).toContain("pkg:golang/github.com/BurntSushi/toml@v1.3.2");
    expect(purls(pkgs)).toContain("pkg:golang/gopkg.in/yaml.v3@v3.0.1");
  });

  it("skips the Go module cache, whose go.mod files are the dependencies' own", async () => {
    await put("/root/go/pkg/mod/cache/download/github.com/x/y/@v/list", "v1.0.0\n");
    await put("/root/go/pkg/mod/github.com/x/y@v1.0.0/go.mod", "module github.com/x/y\n\nrequire github.com/z/z v0.1.0\n");
    expect(await scanRootfs(root)).toEqual([]);
  });
});

describe("python", () => {
  it("requirements*.txt: exact pins only, extras, markers, hashes and comments handled, PEP 503 purls", async () => {
    await place("python/requirements.txt", "/app/requirements.txt");
    await place("python/requirements-base.txt", "/app/requirements-base.txt");
    const pkgs = await scanRootfs(root);
    expect(pkgs.map((p) => `${p.foundIn} ${p.name} ${p.version} ${p.purl}`)).toEqual([
      "/app/requirements.txt Django 4.2.11 pkg:pypi/django@4.2.11",
      "/app/requirements.txt Pillow 10.2.0 pkg:pypi/pillow@10.2.0",
      "/app/requirements-base.txt certifi 2024.2.2 pkg:pypi/certifi@2024.2.2",
      "/app/requirements.txt requests 2.31.0 pkg:pypi/requests@2.31.0",
      "/app/requirements.txt typing_extensions 4.10.0 pkg:pypi/typing-extensions@4.10.0",
      "/app/requirements.txt zope.interface 6.2 pkg:pypi/zope-interface@6.2",
    ]);
  });

  it("poetry.lock: every [[package]], not the keys of its sub-tables or inside multi-line strings", async () => {
    await place("python/poetry.lock", "/opt/svc/poetry.lock");
    const pkgs = await scanRootfs(root);
    expect(pkgs.map((p) => `${p.name} ${p.version} ${p.purl}`)).toEqual([
      "Typing_Extensions 4.10.0 pkg:pypi/typing-extensions@4.10.0",
      "certifi 2024.2.2 pkg:pypi/certifi@2024.2.2",
      "requests 2.31.0 pkg:pypi/requests@2.31.0",
      "ruamel.yaml 0.18.6 pkg:pypi/ruamel-yaml@0.18.6",
    ]);
  });
});

describe("the walk", () => {
  it("does not look in /proc, /sys or /dev", async () => {
    for (const d of ["proc/1/root", "sys", "dev"]) await put(`/${d}/requirements.txt`, "flask==3.0.0\n");
    await put("/srv/requirements.txt", "flask==3.0.0\n");
    expect((await scanRootfs(root)).map((p) => p.foundIn)).toEqual(["/srv/requirements.txt"]);
  });

  it("stops when the signal aborts", async () => {
    await place("npm-v3", "/app");
    const ac = new AbortController();
    ac.abort(new Error("build cancelled"));
    await expect(scanRootfs(root, { signal: ac.signal })).rejects.toThrow("build cancelled");
  });
});
