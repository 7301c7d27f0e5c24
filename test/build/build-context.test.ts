// --build-context: a directory for COPY --from and RUN --mount=from, an
// image by reference, and an image in an OCI layout, each standing in for a
// name the Dockerfile uses.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

describe("--build-context", () => {
  const ws = useWorkspace({ busybox: true, name: "bctx" });
  beforeAll(() => ws.writeContext({ "lib/dep.txt": "vendored\n", "skip.log": "not me\n", ".dockerignore": "*.log\n" }, path.join(ws.work, "vendor")));

  const build = (dockerfile: string, ...extra: string[]) =>
    writeFile(path.join(ws.ctx, "Dockerfile"), dockerfile).then(() =>
      kiln(["--root", ws.root, "build", "--progress", "plain", "--output", `type=local,dest=${path.join(ws.work, "out")}`, ...extra, ws.ctx]),
    );

  it("a directory: COPY --from and RUN --mount=from read it (its own .dockerignore applies), and it keys the cache", async () => {
    const df = "FROM busybox:latest\nCOPY --from=vendor / /vendor/\nRUN --mount=type=bind,from=vendor,source=lib,target=/mnt cat /mnt/dep.txt > /via-mount\n";
    const r = await build(df, "--build-context", `vendor=${path.join(ws.work, "vendor")}`);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(await readFile(path.join(ws.work, "out/vendor/lib/dep.txt"), "utf8")).toBe("vendored\n");
    expect(await readFile(path.join(ws.work, "out/via-mount"), "utf8")).toBe("vendored\n");
    await expect(readFile(path.join(ws.work, "out/vendor/skip.log"))).rejects.toThrow(/ENOENT/);
    await writeFile(path.join(ws.work, "vendor/lib/dep.txt"), "changed\n");
    const again = await build(df, "--build-context", `vendor=${path.join(ws.work, "vendor")}`);
    expect(again.stderr).toMatch(/2 steps run, 0 cached/);
  });

  it("docker-image:// stands in for a FROM name", async () => {
    const r = await build("FROM base\nRUN ls /bin/busybox > /found\n", "--build-context", "base=docker-image://busybox:latest");
    expect(r.stderr).not.toMatch(/^error/m);
    expect(await readFile(path.join(ws.work, "out/found"), "utf8")).toBe("/bin/busybox\n");
  });

  it("oci-layout://PATH:TAG reads an image from a layout directory", async () => {
    const layout = path.join(ws.work, "layout");
    await writeFile(path.join(ws.ctx, "Dockerfile"), "FROM busybox:latest\nRUN touch /found\n");
    const exp = await kiln(["--root", ws.root, "build", "-q", "-t", "laid:1", "--output", `type=oci,dest=${layout},tar=false`, ws.ctx]);
    expect(exp.code, exp.stderr).toBe(0);
    const r = await build("FROM from-layout\nRUN test -f /found && echo ok > /ok\n", "--build-context", `from-layout=oci-layout://${layout}:1`);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(await readFile(path.join(ws.work, "out/ok"), "utf8")).toBe("ok\n");
  });

  it("a directory context is not an image", async () => {
    const r = await build("FROM vendor\n", "--build-context", `vendor=${path.join(ws.work, "vendor")}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Dockerfile:1: FROM vendor: the build context "vendor" is a directory, not an image/);
  });
});
