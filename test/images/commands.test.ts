// images, inspect, history, tag, rmi, image prune, du on a real store:
// busybox imported from Debian's busybox-static, plus tiny images written
// with putImage.
import { beforeAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.js";
import { makeTinyImage } from "../helpers/tiny-image.js";
import { useWorkspace } from "../helpers/workspace.js";
import { run } from "./helpers.js";

describe("kiln images / inspect / history / tag / rmi / prune / du", () => {
  const ws = useWorkspace({ busybox: true });
  let tinyId: string;
  let tinyConfig: string;

  beforeAll(async () => {
    const store = await Store.open(ws.root);
    const tiny = await makeTinyImage(store, { label: "blue" });
    await store.tag("tiny:1", tiny.manifestDescriptor);
    tinyId = tiny.manifestDescriptor.digest;
    tinyConfig = (await store.readJson<{ config: { digest: string } }>(tiny.manifestDescriptor.digest)).config.digest;
  });

  it("images lists names with sizes, newest first", async () => {
    const r = await run(ws.root, "images", []);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(lines[1]).toMatch(/^busybox\s+latest\s+[0-9a-f]{12}\s+Less than a minute ago\s+\d/);
    expect(lines[2]).toMatch(new RegExp(`^tiny\\s+1\\s+${tinyId.slice(7, 19)}\\s+\\d+ years ago\\s+\\d+B$`));
  });

  it("images --filter, -q, --digests, --format", async () => {
    expect((await run(ws.root, "images", ["--filter", "reference=bus*"])).stdout).not.toMatch(/tiny/);
    expect((await run(ws.root, "images", ["--filter", "reference=*:1", "-q"])).stdout).toBe(`${tinyId.slice(7, 19)}\n`);
    expect((await run(ws.root, "images", ["--filter", "label=test=blue", "--format", "{{.Repository}}:{{.Tag}}"])).stdout).toBe("tiny:1\n");
    expect((await run(ws.root, "images", ["--filter", "label=test=red", "-q"])).stdout).toBe("");
    expect((await run(ws.root, "images", ["--filter", "dangling=true", "-q"])).stdout).toBe("");
    expect((await run(ws.root, "images", ["--filter", "before=busybox", "--format", "{{.Repository}}"])).stdout).toBe("tiny\n");
    expect((await run(ws.root, "images", ["--filter", "since=tiny:1", "--format", "{{.Repository}}"])).stdout).toBe("busybox\n");
    const d = await run(ws.root, "images", ["--digests", "tiny"]);
    expect(d.stdout).toContain(tinyId);
    expect(d.stdout.split("\n")[0]).toMatch(/DIGEST/);
    const j = (await run(ws.root, "images", ["--format", "json"])).stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, string>);
    expect(j.map((x) => x.Repository)).toEqual(["busybox", "tiny"]);
    expect(j[1]).toMatchObject({ Tag: "1", Digest: tinyId, ID: tinyId.slice(7, 19) });
    const t = await run(ws.root, "images", ["--format", "table {{.Repository}}\\t{{.ID}}", "tiny"]);
    expect(t.stdout).toMatch(new RegExp(`^REPOSITORY\\s+IMAGE ID\\ntiny\\s+${tinyId.slice(7, 19)}\\n$`));
    expect((await run(ws.root, "images", ["--filter", "bogus=1"])).code).toBe(2);
  });

  it("inspect --format takes a Go template", async () => {
    const r = await run(ws.root, "inspect", ["--format", '{{.Id}} {{json .Config.Cmd}} {{index .Config.Labels "test"}} {{range .RepoTags}}<{{.}}>{{end}} {{.Os}}/{{.Architecture}}', "tiny:1"]);
    // docker's .Id is the config digest.
    expect(r.stdout).toBe(`${tinyConfig} ["/hello.txt"] blue <tiny:1> linux/amd64\n`);
    const full = JSON.parse((await run(ws.root, "inspect", ["tiny:1"])).stdout) as { Id: string; RootFS: { Layers: string[] } }[];
    expect(full[0]!.Id).toBe(tinyConfig);
    expect(full[0]!.RootFS.Layers).toHaveLength(1);
    const missing = await run(ws.root, "inspect", ["nope:1"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such image: nope:1/);
  });

  it("history shows each step's created_by and layer size, newest first", async () => {
    const r = await run(ws.root, "history", ["busybox"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(lines[1]).toMatch(/^[0-9a-f]{12}\s+Less than a minute ago\s+kiln import \S+\s+[\d.]+MB\s+Imported from rootfs tarball$/);
    const nt = await run(ws.root, "history", ["--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}|{{.Size}}", "tiny:1"]);
    expect(nt.stdout).toBe(`${tinyId}|kiln test|${"hello from kiln\n".length + "ID=kiln-test\n".length}B\n`);
  });

  it("tag adds a name; rmi of a name untags; rmi of a shared ID needs -f", async () => {
    expect((await run(ws.root, "tag", ["tiny:1", "tiny:2"])).code).toBe(0);
    expect((await run(ws.root, "tag", ["tiny:1", "localhost:5000/team/tiny:3"])).code).toBe(0);
    // docker's reference glob never crosses a "/": *tiny matches tiny, not team/tiny.
    expect((await run(ws.root, "images", ["--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=*tiny"])).stdout.split("\n").sort().join(" ").trim()).toBe("tiny:1 tiny:2");
    expect((await run(ws.root, "images", ["-q", "--filter", "reference=localhost:5000/*/tiny:3"])).stdout).toBe(`${tinyId.slice(7, 19)}\n`);
    const byId = await run(ws.root, "rmi", [tinyId.slice(7, 19)]);
    expect(byId.code).toBe(1);
    expect(byId.stderr).toMatch(/must be forced.*3 names/);
    const one = await run(ws.root, "rmi", ["tiny:2"]);
    expect(one).toMatchObject({ code: 0, stdout: "Untagged: tiny:2\n" });
    const store = await Store.open(ws.root);
    expect(await store.hasBlob(tinyId as never)).toBe(true);
    const forced = await run(ws.root, "rmi", ["-f", tinyId.slice(7, 19)]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain("Untagged: localhost:5000/team/tiny:3\n");
    expect(forced.stdout).toContain(`Deleted: ${tinyId}\n`);
    expect(await store.hasBlob(tinyId as never)).toBe(false);
    expect((await run(ws.root, "rmi", ["tiny:1"])).code).toBe(1);
  });

  it("rmi by ID refuses an image other images are built on", async () => {
    const store = await Store.open(ws.root);
    const base = await store.resolveImage("busybox");
    const child = await store.putImage(
      { ...base!.config, rootfs: { type: "layers", diff_ids: [...base!.config.rootfs.diff_ids, ...base!.config.rootfs.diff_ids] } },
      [...base!.manifest.layers, ...base!.manifest.layers],
    );
    await store.tag("child:1", child);
    const r = await run(ws.root, "rmi", [base!.manifestDescriptor.digest]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/base of child:1/);
    expect((await run(ws.root, "rmi", ["child:1"])).stdout).toMatch(/Untagged: child:1\nDeleted: sha256:/);
  });

  it("image prune collects untagged images; -a needs -f and honours until=", async () => {
    const store = await Store.open(ws.root);
    const loose = await makeTinyImage(store, { files: { "loose.txt": "x" } });
    const old = await makeTinyImage(store, { files: { "old.txt": "old" } });
    await store.tag("old:1", old.manifestDescriptor);
    const p = await run(ws.root, "image", ["prune", "-f"]);
    expect(p.code).toBe(0);
    expect(p.stdout).toContain(`deleted: ${loose.manifestDescriptor.digest}`);
    expect(p.stdout).toMatch(/Total reclaimed space: \d/);
    expect(await store.hasBlob(loose.manifestDescriptor.digest)).toBe(false);
    // Without -f it asks; no answer (no stdin here) is "no".
    const asked = await run(ws.root, "image", ["prune", "-a"]);
    expect(asked.stdout).toMatch(/Are you sure you want to continue\? \[y\/N\]/);
    expect(asked.stderr).toMatch(/cancelled: nothing removed/);
    expect(await store.hasBlob(old.manifestDescriptor.digest)).toBe(true);
    const a = await run(ws.root, "image", ["prune", "-a", "-f", "--filter", "until=24h"]);
    expect(a.stdout).toContain("untagged: old:1");
    expect(a.stdout).not.toContain("busybox");
    expect((await run(ws.root, "images", ["-q"])).stdout.trim().split("\n")).toHaveLength(1);
  });

  it("du reports images, snapshots and build cache", async () => {
    const r = await run(ws.root, "du", ["-v"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\n/);
    expect(r.stdout).toMatch(/\nImages\s+1\s+1\s+[\d.]+MB\s+0B\n/);
    expect(r.stdout).toMatch(/\nSnapshots\s+1\s+1\s+[\d.]+MB\s+0B\n/);
    expect(r.stdout).toMatch(/busybox:latest\s+[0-9a-f]{12}\s+[\d.]+MB/);
  });
});
