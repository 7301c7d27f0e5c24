// OS package databases: apk's installed file, dpkg's status (checked
// against dpkg-query itself) and distroless's status.d.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { scanRootfs, type SbomPackage } from "../../../src/attest/sbom/index.js";

const FIXTURES = path.resolve("testdata/sbom");

function byName(pkgs: SbomPackage[], name: string): SbomPackage[] {
  return pkgs.filter((p) => p.name === name);
}

describe("apk installed database", () => {
  it("lists every package with its version, arch, license, origin, maintainer and an apk purl", async () => {
    const pkgs = await scanRootfs(path.join(FIXTURES, "alpine"));
    expect(pkgs.map((p) => `${p.name} ${p.version}`)).toEqual([
      "alpine-keys 2.4-r1",
      "busybox 1.36.1-r15",
      "ca-certificates-bundle 20240226-r0",
      "libstdc++ 13.2.1_git20231014-r0",
      "musl 1.2.4_git20230717-r4",
    ]);
    expect(byName(pkgs, "musl")[0]).toEqual({
      name: "musl",
      version: "1.2.4_git20230717-r4",
      type: "apk",
      purl: "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1",
      foundIn: "/lib/apk/db/installed",
      arch: "x86_64",
      license: "MIT",
      supplier: "Timo Teräs <timo.teras@iki.fi>",
      sourcePackage: "musl",
    });
    // "+" is not a purl character: it is percent-encoded in the name.
    expect(byName(pkgs, "libstdc++")[0]!.purl).toBe("pkg:apk/alpine/libstdc%2B%2B@13.2.1_git20231014-r0?arch=x86_64&distro=alpine-3.19.1");
    expect(byName(pkgs, "libstdc++")[0]!.sourcePackage).toBe("gcc");
  });
});

describe("dpkg status", () => {
  const root = path.join(FIXTURES, "ubuntu");

  it("lists exactly what dpkg-query calls installed, with Ubuntu purls", async () => {
    const pkgs = await scanRootfs(root);
    const dpkg = execFileSync("dpkg-query", [`--admindir=${root}/var/lib/dpkg`, "-W", "-f", "${db:Status-Status} ${Package} ${Version} ${Architecture}\\n"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    })
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("installed "))
      .map((l) => l.slice("installed ".length))
      .sort();
    expect(dpkg.length).toBe(5); // the fixture's half-configured and config-files packages are not installed
    expect(pkgs.map((p) => `${p.name} ${p.version} ${p.arch}`).sort()).toEqual(dpkg);
    expect(pkgs.map((p) => p.purl)).toEqual([
      "pkg:deb/ubuntu/bsdutils@1:2.37.2-4ubuntu3.4?arch=amd64&distro=ubuntu-22.04",
      "pkg:deb/ubuntu/libc6@2.35-0ubuntu3.7?arch=amd64&distro=ubuntu-22.04",
      "pkg:deb/ubuntu/libc6@2.35-0ubuntu3.7?arch=i386&distro=ubuntu-22.04",
      "pkg:deb/ubuntu/libstdc%2B%2B6@12.3.0-1ubuntu1~22.04?arch=amd64&distro=ubuntu-22.04",
      "pkg:deb/ubuntu/sensible-utils@0.0.17?arch=all&distro=ubuntu-22.04",
    ]);
  });

  it("keeps the source package name without its version, and the maintainer", async () => {
    const [bsdutils] = byName(await scanRootfs(root), "bsdutils");
    expect(bsdutils).toMatchObject({
      sourcePackage: "util-linux",
      supplier: "Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>",
      foundIn: "/var/lib/dpkg/status",
    });
  });
});

describe("distroless status.d", () => {
  it("reads one file per package, none of the md5sums files, without a Status field", async () => {
    const pkgs = await scanRootfs(path.join(FIXTURES, "distroless"));
    expect(pkgs.map((p) => [p.purl, p.foundIn])).toEqual([
      ["pkg:deb/debian/base-files@12.4%2Bdeb12u5?arch=amd64&distro=debian-12", "/var/lib/dpkg/status.d/base"],
      ["pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12", "/var/lib/dpkg/status.d/libc6"],
      ["pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12", "/var/lib/dpkg/status.d/tzdata"],
    ]);
  });
});
