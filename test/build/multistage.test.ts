// Multi-stage: only what the target needs runs, independent stages run at
// the same time, COPY --from reads stages and images, and one failure stops
// the rest.
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace, writeContext } from "../helpers/workspace.js";

const DOCKERFILE = `FROM busybox:latest AS base
RUN echo base > /base

FROM base AS left
RUN echo started-left && sleep 3 && echo left > /left

FROM busybox:latest AS right
RUN echo started-right && sleep 3 && echo right > /right

FROM no-such-image:never AS unused
RUN echo unused-ran > /unused

FROM scratch AS final
COPY --from=left /base /left /out/
COPY --from=right /right /out/right
COPY --from=busybox:latest /bin/busybox /bin/busybox
CMD ["/bin/busybox", "cat", "/out/base", "/out/left", "/out/right"]
`;

describe("multi-stage builds", () => {
  const ws = useWorkspace({ busybox: true, name: "ms", context: { Dockerfile: DOCKERFILE } });

  it("runs independent stages at the same time, skips what the target does not need, and COPY --from reads stages and images", async () => {
    const out = path.join(ws.work, "rootfs");
    const r = await kiln(["--root", ws.root, "build", "--progress", "rawjson", "--output", `type=local,dest=${out}`, ws.ctx]);
    expect(r.stderr).not.toMatch(/"kind":"error"/);
    expect(r.code).toBe(0);
    // Concurrency by evidence, not wall time (a loaded machine stretches both):
    // each stage's 3 s RUN starts before the other's ends. Run one after the
    // other, left's step-done would come before right's step-start.
    const events = r.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { kind: string; id?: number; name?: string });
    const span = (stage: string) => {
      const start = events.findIndex((e) => e.kind === "step-start" && new RegExp(`^\\[${stage} \\d+/\\d+\\] RUN echo started-${stage} `).test(e.name!));
      const id = events[start]?.id;
      const end = events.findIndex((e) => e.kind === "step-done" && e.id === id);
      expect(start, `${stage}'s RUN started`).toBeGreaterThanOrEqual(0);
      expect(end, `${stage}'s RUN finished`).toBeGreaterThan(start);
      return { start, end };
    };
    const [left, right] = [span("left"), span("right")];
    expect(left.start).toBeLessThan(right.end);
    expect(right.start).toBeLessThan(left.end);
    // The unused stage (whose base does not even exist) never ran.
    expect(r.stderr).not.toMatch(/unused|no-such-image/);
    expect(await readFile(path.join(out, "out/base"), "utf8")).toBe("base\n");
    expect(await readFile(path.join(out, "out/left"), "utf8")).toBe("left\n");
    expect(await readFile(path.join(out, "out/right"), "utf8")).toBe("right\n");
    expect(existsSync(path.join(out, "bin/busybox"))).toBe(true);
    expect(existsSync(path.join(out, "base"))).toBe(false); // scratch: only what was copied
  });

  it("--jobs 1 runs one step at a time: the two sleeping stages take twice as long", async () => {
    const started = performance.now();
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--no-cache", "--jobs", "1", "--output", `type=local,dest=${path.join(ws.work, "rootfs-jobs1")}`, ws.ctx]);
    expect(r.code, r.stderr).toBe(0);
    expect((performance.now() - started) / 1000).toBeGreaterThan(6);
    const bad = await kiln(["--root", ws.root, "build", "--jobs", "0", ws.ctx]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--jobs must be a positive whole number/);
  });

  it("--target builds that stage and what it needs, nothing after", async () => {
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--target", "left", "-t", "left:1", ws.ctx]);
    expect(r.code).toBe(0);
    // Progress names steps as BuildKit does: [stage n/m], FROM of a stage is no step.
    expect(r.stderr).toMatch(/\[base 2\/2\] RUN echo base/);
    expect(r.stderr).toMatch(/\[left 1\/1\] RUN echo started-left/);
    expect(r.stderr).not.toMatch(/\[right |\[final |started-right/);
    const inspect = JSON.parse((await kiln(["--root", ws.root, "inspect", "left:1"])).stdout);
    expect(inspect[0].RootFS.Layers).toHaveLength(3); // busybox + base's RUN + left's RUN
  });

  it("a rebuild reuses every stage; a change in one stage reruns only what depends on it", async () => {
    const again = await kiln(["--root", ws.root, "build", "--progress", "plain", "-t", "ms:1", ws.ctx]);
    expect(again.code).toBe(0);
    const noop = await kiln(["--root", ws.root, "build", "--progress", "plain", "-t", "ms:1", ws.ctx]);
    expect(noop.stderr).toMatch(/0 steps run, 6 cached/);
    await writeFile(path.join(ws.ctx, "Dockerfile"), DOCKERFILE.replace("echo right > /right", "echo RIGHT > /right"));
    const changed = await kiln(["--root", ws.root, "build", "--progress", "plain", "-t", "ms:1", ws.ctx]);
    // right's RUN, the COPY --from=right that reads it, and the COPY after that
    // (its rootfs changed); left's stage and COPY --from=left are hits.
    expect(changed.stderr).toMatch(/3 steps run, 3 cached/);
    expect(changed.stderr).toMatch(/cache miss: RUN echo started-right && sleep 3 && echo RIGHT > \/right: instruction changed/);
    expect(changed.stderr).toMatch(/cache miss: COPY --from=right \/right \/out\/right: --from=right changed/);
    expect(changed.stderr).toMatch(/cache miss: COPY --from=busybox:latest \/bin\/busybox \/bin\/busybox: an earlier step changed the filesystem/);
    await writeFile(path.join(ws.ctx, "Dockerfile"), DOCKERFILE);
  });

  it("RUN --mount=from= reads another stage's files without copying them into the layer", async () => {
    const dir = await writeContext(path.join(ws.work, "mount"), {
      Dockerfile: "FROM busybox:latest AS tools\nRUN mkdir -p /opt/tools && echo tool-output > /opt/tools/data\n\nFROM busybox:latest\nRUN --mount=type=bind,from=tools,source=/opt/tools,target=/mnt/tools cat /mnt/tools/data > /used\n",
    });
    const out = path.join(ws.work, "mount-rootfs");
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--output", `type=local,dest=${out}`, dir]);
    expect(r.stderr).not.toMatch(/^error/m);
    expect(await readFile(path.join(out, "used"), "utf8")).toBe("tool-output\n");
    expect(existsSync(path.join(out, "opt/tools"))).toBe(false);
    expect(existsSync(path.join(out, "mnt/tools"))).toBe(false);
    // The mounted stage is part of the key: a rebuild hits.
    const again = await kiln(["--root", ws.root, "build", "--progress", "plain", dir]);
    expect(again.stderr).toMatch(/0 steps run, 2 cached/);
  });

  it("the first failing stage stops the others, and is the error reported", async () => {
    const dir = await writeContext(path.join(ws.work, "fail"), {
      Dockerfile: "FROM busybox:latest AS slow\nRUN sleep 20\n\nFROM busybox:latest AS broken\nRUN echo failing && exit 4\n\nFROM scratch\nCOPY --from=slow /bin/sh /a\nCOPY --from=broken /bin/sh /b\n",
    });
    const started = performance.now();
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--no-cache", dir]);
    expect((performance.now() - started) / 1000).toBeLessThan(10);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*Dockerfile:5: process "\/bin\/sh -c echo failing && exit 4" did not complete successfully: exit code 4/m);
    const mounts = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((l) => l.includes(ws.root));
    expect(mounts).toEqual([]);
  });
});
