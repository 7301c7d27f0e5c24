// Push and pull against a real registry (Debian's docker-registry on
// 127.0.0.1), read back by skopeo, with request counting through a proxy.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pullImage } from "../../src/registry/pull.js";
import { pushImage } from "../../src/registry/push.js";
import { Store } from "../../src/store/store.js";
import { REPO } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { kilnReg as kiln } from "./helpers/cli.js";
import { type FaultProxy, startFaultProxy } from "./helpers/fault-proxy.js";
import { type RegistryServer, startRegistry } from "./helpers/registry-server.js";

const HELLO = path.join(REPO, "examples/hello");

describe("kiln push/pull with a plain-http registry on 127.0.0.1", () => {
  let reg: RegistryServer;
  let proxy: FaultProxy;
  const ws = useWorkspace({ busybox: true, name: "reg-test" });
  // Never read the developer's credentials.
  const env = { DOCKER_CONFIG: "" };

  beforeAll(async () => {
    reg = await startRegistry();
    proxy = await startFaultProxy(reg.port);
    env.DOCKER_CONFIG = path.join(ws.work, "docker");
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });

  const skopeoRaw = (ref: string): Buffer => execFileSync("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${ref}`]);
  const sha = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

  it("pushes busybox; skopeo sees the same digest and copies it back", async () => {
    const r = await kiln(["--root", ws.root, "push", "busybox:latest", `${reg.host}/lib/busybox:1`], env);
    expect(r.code, r.stderr).toBe(0);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(r.stdout)![1]!;
    const local = await (await Store.open(ws.root)).resolveImage("busybox:latest");
    expect(digest).toBe(local!.manifestDescriptor.digest);
    expect(sha(skopeoRaw(`${reg.host}/lib/busybox:1`))).toBe(digest);
    const out = path.join(ws.work, "copy");
    execFileSync("skopeo", ["copy", "--src-tls-verify=false", `docker://${reg.host}/lib/busybox:1`, `oci:${out}:bb`], { stdio: "pipe" });
    const idx = JSON.parse(await readFile(path.join(out, "index.json"), "utf8")) as { manifests: { digest: string }[] };
    expect(idx.manifests[0]!.digest).toBe(digest);
  });

  it("pushes a built image, mounting the base layer from the other repository", async () => {
    const b = await kiln(["--root", ws.root, "build", "--progress", "plain", "-t", "hello:1", HELLO], env);
    expect(b.code, b.stderr).toBe(0);
    // Name busybox after the repo it was pushed to, so push knows where its layer lives.
    const store = await Store.open(ws.root);
    const bb = await store.resolveImage("busybox:latest");
    await store.tag(`${reg.host}/lib/busybox:1`, bb!.manifestDescriptor);
    const r = await kiln(["--root", ws.root, "push", "hello:1", `${reg.host}/team/hello:1`], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Mounted from lib\/busybox/);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(r.stdout)![1]!;
    expect(sha(skopeoRaw(`${reg.host}/team/hello:1`))).toBe(digest);
    const info = JSON.parse(execFileSync("skopeo", ["inspect", "--tls-verify=false", `docker://${reg.host}/team/hello:1`], { encoding: "utf8" }));
    expect(info.Digest).toBe(digest);
  });

  it("re-pushing an unchanged image makes only HEAD requests", async () => {
    await kiln(["--root", ws.root, "push", "hello:1", `${proxy.host}/team/hello:2`], env);
    proxy.resetCounts();
    const t0 = performance.now();
    const r = await kiln(["--root", ws.root, "push", "hello:1", `${proxy.host}/team/hello:2`], env);
    const ms = performance.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(proxy.counts)).toEqual(["HEAD"]);
    expect(r.stderr).not.toMatch(/Pushed/);
    console.log(`re-push: ${ms.toFixed(0)} ms, ${proxy.counts.HEAD} HEAD requests`);
  });

  it("pulls into an empty store; kiln inspect shows it with the pushed digest", async () => {
    const empty = await mkdtemp(path.join(tmpdir(), "kiln-empty-"));
    try {
      const r = await kiln(["--root", empty, "pull", `${reg.host}/team/hello:1`], env);
      expect(r.code, r.stderr).toBe(0);
      const want = sha(skopeoRaw(`${reg.host}/team/hello:1`));
      expect(r.stdout).toContain(`Digest: ${want}`);
      const i = await kiln(["--root", empty, "inspect", `${reg.host}/team/hello:1`], env);
      expect(i.code, i.stderr).toBe(0);
      const [img] = JSON.parse(i.stdout) as { Id: string; RepoTags: string[]; RepoDigests: string[]; Descriptor: { digest: string }; RootFS: { Layers: string[] } }[];
      expect(img!.Descriptor.digest).toBe(want);
      expect(img!.Id).toBe(JSON.parse(skopeoRaw(`${reg.host}/team/hello:1`).toString()).config.digest);
      expect(img!.RepoTags).toEqual([`${reg.host}/team/hello:1`]);
      expect(img!.RootFS.Layers.length).toBeGreaterThan(1);
      // Pulling again downloads nothing.
      const again = await kiln(["--root", empty, "pull", `${reg.host}/team/hello:1`], env);
      expect(again.stderr).not.toMatch(/Pull complete/);
      // By digest as well (repo:tag@digest: the digest wins).
      const byDigest = await kiln(["--root", empty, "pull", `${reg.host}/team/hello:nope@${want}`], env);
      expect(byDigest.code, byDigest.stderr).toBe(0);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("pulls an OCI index for the host platform (pushed by skopeo --all)", async () => {
    // skopeo copies the kiln-pushed image into an index-bearing repo via an OCI layout with an index.
    const empty = await mkdtemp(path.join(tmpdir(), "kiln-empty-"));
    try {
      const store = await Store.open(ws.root);
      const hello = await store.resolveImage("hello:1");
      const idxDesc = await store.writeJson("application/vnd.oci.image.index.v1+json", {
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [
          { ...hello!.manifestDescriptor, platform: { os: "linux", architecture: "s390x" } },
          { ...hello!.manifestDescriptor, platform: hello!.manifestDescriptor.platform ?? { os: "linux", architecture: "amd64" } },
        ],
      });
      await store.tag("multi:1", idxDesc);
      const p = await pushImage({ store, image: "multi:1", ref: `${reg.host}/team/multi:1`, env });
      expect(p.digest).toBe(idxDesc.digest);
      const r = await pullImage({ store: await Store.open(empty), ref: `${reg.host}/team/multi:1`, env });
      expect(r.digest).toBe(idxDesc.digest);
      expect(r.manifestDescriptor.digest).toBe(hello!.manifestDescriptor.digest);
      await expect(pullImage({ store: await Store.open(empty), ref: `${reg.host}/team/multi:1`, platform: { os: "linux", architecture: "riscv64" }, env })).rejects.toMatchObject({
        code: "PLATFORM_NOT_FOUND",
      });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("reports an unknown tag or repository clearly", async () => {
    const r = await kiln(["--root", ws.root, "pull", `${reg.host}/team/hello:does-not-exist`], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not found on 127\.0\.0\.1:\d+: MANIFEST_UNKNOWN/);
    const r2 = await kiln(["--root", ws.root, "pull", `${reg.host}/nobody/here:1`], env);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/NAME_UNKNOWN|MANIFEST_UNKNOWN/);
  });
});
