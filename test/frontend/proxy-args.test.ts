// Predefined proxy ARGs: given with --build-arg and no ARG line, RUN sees
// them; the image config, its history and the cache key never do.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kiln, storeWithBusybox } from "../helpers/kiln.js";

describe("proxy build args", () => {
  let root: string;
  let dir: string;
  beforeAll(async () => {
    root = await storeWithBusybox();
    dir = await mkdtemp(path.join(tmpdir(), "kiln-proxy-"));
    await writeFile(path.join(dir, "Dockerfile"), 'FROM busybox:latest\nRUN echo "proxy=$HTTP_PROXY no=$no_proxy" > /seen\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(root, { recursive: true, force: true });
  });

  it("reach RUN, not the config, the history or the cache key", async () => {
    const out = path.join(dir, "rootfs");
    const r = await kiln(["--root", root, "build", "--progress", "plain", "-t", "p:1", "--build-arg", "HTTP_PROXY=http://127.0.0.1:3128", "--build-arg", "no_proxy=localhost", "--output", `type=local,dest=${out}`, dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/not consumed/);
    expect(await readFile(path.join(out, "seen"), "utf8")).toBe("proxy=http://127.0.0.1:3128 no=localhost\n");
    const inspect = (await kiln(["--root", root, "inspect", "p:1"])).stdout;
    expect(inspect).not.toMatch(/127\.0\.0\.1:3128|no_proxy=localhost/);
    const other = await kiln(["--root", root, "build", "--progress", "plain", "-t", "p:1", "--build-arg", "HTTP_PROXY=http://127.0.0.1:9999", dir]);
    expect(other.stderr).toMatch(/0 steps run, 1 cached/);
  });
});
