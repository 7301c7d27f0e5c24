// The scanner reads an image root from the host: every symlink must resolve
// inside that root, as it would in a chroot, and the walk must not follow
// one at all. The host here is Debian 12 with its own dpkg database, so a
// link that escaped would show up as debian-12 purls or host packages.
import { cp, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scanRootfs } from "../../../src/attest/sbom/index.js";

const FIXTURES = path.resolve("testdata/sbom");
const UP = "../../../../../../../../../../../../../..";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kiln-sbom-root-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function ln(target: string, imagePath: string): Promise<void> {
  await mkdir(path.dirname(path.join(root, imagePath)), { recursive: true });
  await symlink(target, path.join(root, imagePath));
}

/** An Ubuntu root whose /etc/os-release is the given link to its /usr/lib/os-release. */
async function ubuntuWithOsReleaseLink(target: string): Promise<void> {
  await cp(path.join(FIXTURES, "ubuntu/var"), path.join(root, "var"), { recursive: true });
  await mkdir(path.join(root, "usr/lib"), { recursive: true });
  await cp(path.join(FIXTURES, "ubuntu/etc/os-release"), path.join(root, "usr/lib/os-release"));
  await ln(target, "/etc/os-release");
}

describe("symlinks resolve inside the root", () => {
  it("the host really has a different os-release and dpkg database (else these tests prove nothing)", () => {
    expect(readFileSync("/usr/lib/os-release", "utf8")).not.toBe(readFileSync(path.join(FIXTURES, "ubuntu/etc/os-release"), "utf8"));
    expect(readFileSync("/var/lib/dpkg/status", "utf8")).toMatch(/^Package: /m);
  });

  it.each([
    ["absolute", "/usr/lib/os-release"],
    ["absolute through ..", "/../../../usr/lib/os-release"],
    ["relative, climbing past the root", `${UP}/usr/lib/os-release`],
  ])("/etc/os-release as an %s link reads the image's file", async (_kind, target) => {
    await ubuntuWithOsReleaseLink(target);
    const pkgs = await scanRootfs(root);
    expect(pkgs.length).toBe(5);
    for (const p of pkgs) expect(p.purl).toMatch(/^pkg:deb\/ubuntu\/.*distro=ubuntu-22\.04$/);
  });

  it("/etc/os-release -> /../../../etc/os-release is a loop inside the root: /usr/lib/os-release is used, never the host's", async () => {
    await ubuntuWithOsReleaseLink("/../../../etc/os-release");
    const pkgs = await scanRootfs(root);
    expect(pkgs.length).toBe(5);
    for (const p of pkgs) expect(p.purl).toContain("distro=ubuntu-22.04");
  });

  it("a dpkg status linked past the root reads nothing from the host", async () => {
    await ln(`${UP}/var/lib/dpkg/status`, "/var/lib/dpkg/status");
    expect(await scanRootfs(root)).toEqual([]);
  });

  it("a linked /var/lib/dpkg directory is followed inside the root", async () => {
    await cp(path.join(FIXTURES, "ubuntu/var/lib/dpkg"), path.join(root, "opt/dpkg"), { recursive: true });
    await ln("/../../opt/dpkg", "/var/lib/dpkg");
    const pkgs = await scanRootfs(root);
    expect(pkgs.map((p) => p.name)).toEqual(["bsdutils", "libc6", "libc6", "libstdc++6", "sensible-utils"]);
    // No os-release in this root: the vendor falls back to debian, with no distro qualifier.
    expect(pkgs[0]!.purl).toBe("pkg:deb/debian/bsdutils@1:2.37.2-4ubuntu3.4?arch=amd64");
  });
});

describe("the lockfile walk follows no symlink", () => {
  it("neither a directory link out of the root, nor one inside it, nor a linked lockfile", async () => {
    await cp(path.join(FIXTURES, "npm-v3"), path.join(root, "app"), { recursive: true });
    await ln(`${UP}${path.join(FIXTURES, "npm-v1")}`, "/escape");
    await ln("app", "/app-again"); // followed, it would list the same packages twice
    await ln(`${UP}${path.join(FIXTURES, "go/go.mod")}`, "/srv/go.mod");
    const pkgs = await scanRootfs(root);
    expect(new Set(pkgs.map((p) => p.foundIn))).toEqual(new Set(["/app/package-lock.json"]));
  });
});
