// Every --output kind, read back by tools we did not write.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { kiln, REPO } from "../helpers/kiln.js";
import { haveSchemas, validateOci } from "../helpers/oci-schema.js";
import { useWorkspace } from "../helpers/workspace.js";

const HELLO = path.join(REPO, "examples/hello");

describe("kiln build --output", () => {
  const ws = useWorkspace({ busybox: true, name: "out" });
  let storeDigest: string;
  beforeAll(async () => {
    const r = await kiln([
      "--root", ws.root, "build", "--progress", "plain", "-t", "hello:1",
      "--output", `type=oci,dest=${ws.work}/img.tar`,
      "--output", `type=oci,dest=${ws.work}/layout,tar=false`,
      "--output", `type=docker,dest=${ws.work}/docker.tar`,
      "--output", `type=local,dest=${ws.work}/rootfs`,
      HELLO,
    ]);
    expect(r.stderr).toMatch(/writing image sha256:[0-9a-f]{64}/);
    expect(r.code).toBe(0);
    storeDigest = /writing image (sha256:[0-9a-f]{64})/.exec(r.stderr)![1]!;
  });

  const skopeo = (...args: string[]) => JSON.parse(execFileSync("skopeo", ["inspect", ...args], { encoding: "utf8" }));

  it("type=oci tar and directory are OCI layouts skopeo reads, with the store's digest", () => {
    const fromTar = skopeo("oci-archive:" + path.join(ws.work, "img.tar"));
    const fromDir = skopeo(`oci:${path.join(ws.work, "layout")}:1`);
    const fromStore = skopeo(`oci:${ws.root}:docker.io/library/hello:1`);
    expect(fromTar.Digest).toBe(storeDigest);
    expect(fromDir.Digest).toBe(storeDigest);
    expect(fromStore.Digest).toBe(storeDigest);
    expect(fromStore.Labels["org.opencontainers.image.title"]).toBe("hello");
    // busybox, WORKDIR (creates /app), COPY, RUN
    expect(fromStore.Layers.length).toBe(4);
  });

  it("type=oci directory validates against the OCI schemas", async (ctx) => {
    if (!haveSchemas) {
      console.warn("../shared/conformance is absent: OCI schema checks skipped");
      ctx.skip();
    }
    const dir = path.join(ws.work, "layout");
    expect(validateOci("layout", JSON.parse(await readFile(path.join(dir, "oci-layout"), "utf8")))).toEqual([]);
    const index = JSON.parse(await readFile(path.join(dir, "index.json"), "utf8"));
    expect(validateOci("index", index)).toEqual([]);
    const blob = async (d: string) => JSON.parse(await readFile(path.join(dir, "blobs/sha256", d.slice(7)), "utf8"));
    const manifest = await blob(index.manifests[0].digest);
    expect(validateOci("manifest", manifest)).toEqual([]);
    expect(validateOci("config", await blob(manifest.config.digest))).toEqual([]);
  });

  it("type=docker has the layout docker load expects", async () => {
    const listing = execFileSync("tar", ["-tf", path.join(ws.work, "docker.tar")], { encoding: "utf8" }).split("\n");
    expect(listing).toContain("manifest.json");
    expect(listing).toContain("repositories");
    const manifest = JSON.parse(execFileSync("tar", ["-xOf", path.join(ws.work, "docker.tar"), "manifest.json"], { encoding: "utf8" }));
    expect(manifest).toHaveLength(1);
    expect(manifest[0].RepoTags).toEqual(["hello:1"]);
    for (const p of [manifest[0].Config, ...manifest[0].Layers]) expect(listing).toContain(p);
    const viaSkopeo = skopeo("docker-archive:" + path.join(ws.work, "docker.tar"));
    expect(viaSkopeo.Layers.length).toBe(manifest[0].Layers.length);
  });

  it("type=local is the final root filesystem as files", async () => {
    const rootfs = path.join(ws.work, "rootfs");
    expect(await readFile(path.join(rootfs, "app/message.txt"), "utf8")).toBe("hello from kiln\n");
    expect(existsSync(path.join(rootfs, "bin/busybox"))).toBe(true);
    expect((await readdir(rootfs)).sort()).toContain("app");
  });

  it("the busybox demo image runs its ENTRYPOINT + CMD as USER app under runc", async () => {
    const bundle = path.join(ws.work, "bundle");
    execFileSync("umoci", ["unpack", "--image", `${ws.root}:docker.io/library/hello:1`, bundle], { stdio: "pipe" });
    const cfgPath = path.join(bundle, "config.json");
    const spec = JSON.parse(await readFile(cfgPath, "utf8"));
    spec.process.terminal = false;
    await import("node:fs/promises").then((fs) => fs.writeFile(cfgPath, JSON.stringify(spec)));
    const stdout = execFileSync("runc", ["run", "--bundle", bundle, `kiln-hello-${process.pid}`], { encoding: "utf8" });
    expect(stdout).toBe("hello from kiln\nhello, world (running as app in /app)\n");
  });

  it("the kiln executable reports its version and help", () => {
    const version = execFileSync("node", [path.join(REPO, "bin/kiln.js"), "--version"], { encoding: "utf8" });
    expect(version).toMatch(/^kiln version \d+\.\d+\.\d+\n$/);
    const help = execFileSync("node", [path.join(REPO, "bin/kiln.js"), "build", "--help"], { encoding: "utf8" });
    expect(help).toMatch(/--output SPEC/);
  });
});
