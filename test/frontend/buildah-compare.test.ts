// The same Dockerfile built by buildah (Debian's, chroot isolation) and by
// kiln: the image configs agree field by field and the root filesystems,
// unpacked by umoci, are the same tree but for buildah's leftover mount stubs.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { kiln, REPO } from "../helpers/kiln.js";
import { treeLines } from "../helpers/tree.js";
import { useWorkspace } from "../helpers/workspace.js";

const CONTEXT = path.join(REPO, "testdata/compare");

describe("kiln and buildah build the same image", () => {
  const ws = useWorkspace({ busybox: true, name: "buildah" });
  let buildahCfg: Record<string, unknown>;
  let kilnCfg: Record<string, unknown>;
  beforeAll(async () => {
    if (!existsSync("/usr/bin/buildah")) throw new Error("buildah is missing: run scripts/setup.sh (apt-get install buildah)");
    const B = ["--root", path.join(ws.work, "storage"), "--runroot", path.join(ws.work, "run"), "--storage-driver", "vfs"];
    const tarball = path.join(ws.work, "busybox.tar.gz");
    execFileSync("bash", [path.join(REPO, "scripts/busybox-rootfs.sh"), tarball]);
    const ctr = execFileSync("buildah", [...B, "from", "scratch"], { encoding: "utf8" }).trim();
    execFileSync("buildah", [...B, "add", ctr, tarball, "/"], { stdio: "pipe" });
    execFileSync("buildah", [...B, "commit", "-q", ctr, "localhost/busybox:latest"], { stdio: "pipe" });
    execFileSync("buildah", [...B, "bud", "--isolation", "chroot", "--network", "host", "-t", "localhost/compare:1", CONTEXT], { stdio: "pipe" });
    execFileSync("buildah", [...B, "push", "localhost/compare:1", `oci:${path.join(ws.work, "buildah-oci")}:compare`], { stdio: "pipe" });
    execFileSync("umoci", ["unpack", "--image", `${path.join(ws.work, "buildah-oci")}:compare`, path.join(ws.work, "buildah-bundle")], { stdio: "pipe" });

    const r = await kiln(["--root", ws.root, "build", "-q", "-t", "compare:1", CONTEXT]);
    expect(r.code, r.stderr).toBe(0);
    execFileSync("umoci", ["unpack", "--image", `${ws.root}:docker.io/library/compare:1`, path.join(ws.work, "kiln-bundle")], { stdio: "pipe" });
    const cfg = (ref: string) => JSON.parse(execFileSync("skopeo", ["inspect", "--config", ref], { encoding: "utf8" })).config;
    buildahCfg = cfg(`oci:${path.join(ws.work, "buildah-oci")}:compare`);
    kilnCfg = cfg(`oci:${ws.root}:docker.io/library/compare:1`);
  });

  it("configs agree on every field a Dockerfile sets", () => {
    const labels = (c: Record<string, unknown>) =>
      Object.fromEntries(Object.entries((c.Labels ?? {}) as Record<string, string>).filter(([k]) => !k.startsWith("io.buildah.")));
    for (const field of ["Env", "Entrypoint", "Cmd", "WorkingDir", "User", "ExposedPorts", "Volumes", "StopSignal"]) {
      expect([field, kilnCfg[field]]).toEqual([field, buildahCfg[field]]);
    }
    expect(labels(kilnCfg)).toEqual(labels(buildahCfg));
  });

  it("root filesystems are the same tree (paths, types, modes, owners, contents, link targets)", async () => {
    const ours = await treeLines(path.join(ws.work, "kiln-bundle", "rootfs"));
    const theirs = await treeLines(path.join(ws.work, "buildah-bundle", "rootfs"));
    // buildah leaves the mount points it created for RUN in the image (empty
    // files and /run); kiln removes its stubs, as DESIGN.md requires. That is
    // the only difference allowed.
    const stubs = ["etc/hostname", "etc/hosts", "etc/resolv.conf", "run"];
    for (const s of stubs) expect(ours.has(s)).toBe(false);
    const theirsWithoutStubs = Object.fromEntries([...theirs].filter(([k]) => !stubs.includes(k)));
    expect(Object.fromEntries(ours)).toEqual(theirsWithoutStubs);
  });
});
