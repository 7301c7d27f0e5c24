// The store is an OCI layout that tools we did not write read as it is.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { Store } from "../../src/store/index.js";
import { makeTinyImage, type TinyImage } from "../helpers/tiny-image.js";
import { useWorkspace } from "../helpers/workspace.js";

const run = promisify(execFile);
const ws = useWorkspace({ name: "readers" });
let store: Store;
let img: TinyImage;

beforeAll(async () => {
  store = await Store.open(ws.root);
  img = await makeTinyImage(store);
  await store.tag("x:1", img.manifestDescriptor);
  await store.tag("127.0.0.1:5000/team/y:2", img.manifestDescriptor);
});

describe("skopeo reads the store", () => {
  it.each(["docker.io/library/x:1", "127.0.0.1:5000/team/y:2"])("inspect oci:ROOT:%s", async (name) => {
    const { stdout } = await run("skopeo", ["inspect", `oci:${store.root}:${name}`]);
    const info = JSON.parse(stdout) as { Digest: string; Layers: string[]; Architecture: string; Os: string };
    expect(info.Digest).toBe(img.manifestDescriptor.digest);
    expect(info.Layers).toEqual([img.layer.digest]);
    expect(info.Architecture).toBe("amd64");
    expect(info.Os).toBe("linux");
  });

  it("inspect --config returns our config", async () => {
    const { stdout } = await run("skopeo", ["inspect", "--config", `oci:${store.root}:docker.io/library/x:1`]);
    expect(JSON.parse(stdout).rootfs.diff_ids).toEqual(img.config.rootfs.diff_ids);
  });
});

describe("umoci reads the store", () => {
  // umoci splits --image at the first ':' and accepts '/' and ':' in the
  // tag (it checks the OCI ref.name grammar), so full names work as they are.
  // --rootless so the test passes as root and as a normal user alike.
  it("unpack --image ROOT:docker.io/library/x:1", async () => {
    const bundle = join(ws.work, "bundle");
    await run("umoci", ["unpack", "--rootless", "--image", `${store.root}:docker.io/library/x:1`, bundle]);
    expect(await readFile(join(bundle, "rootfs", "hello.txt"), "utf8")).toBe("hello from kiln\n");
    expect(await readFile(join(bundle, "rootfs", "etc", "os-release"), "utf8")).toBe("ID=kiln-test\n");
    const cfg = JSON.parse(await readFile(join(bundle, "config.json"), "utf8"));
    expect(cfg.process.args).toEqual(["/hello.txt"]);
  });
});
