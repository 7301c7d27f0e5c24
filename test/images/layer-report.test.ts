// The wasted-bytes report of a real build whose later RUN deletes a large
// file an earlier RUN made: the 3 MiB counts as wasted against the RUN that
// made it, and the hint names both steps.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { formatLayerReport, layerReport } from "../../src/cli/layer-report.js";
import { formatBytes } from "../../src/cli/format.js";
import { Store } from "../../src/store/store.js";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { run } from "./helpers.js";

const BIG = 3 * 1024 * 1024;

describe("layer report: bytes added and wasted per layer", () => {
  const ws = useWorkspace({ busybox: true, name: "wasted" });

  beforeAll(async () => {
    await writeFile(
      path.join(ws.ctx, "Dockerfile"),
      [
        "FROM busybox",
        "RUN dd if=/dev/zero of=/big.bin bs=1024 count=3072 2>/dev/null && mkdir -p /opt/tmp && echo keep > /opt/keep && echo t > /opt/tmp/a",
        "RUN rm /big.bin && rm -rf /opt/tmp",
        "ENV X=1",
        "RUN echo kept > /opt/keep",
        "",
      ].join("\n"),
    );
    const b = await kiln(["--root", ws.root, "build", "--progress", "plain", "-t", "wasted:1", ws.ctx]);
    if (b.code !== 0) throw new Error(b.stderr);
  });

  it("attributes deleted and overwritten bytes to the layer that added them", async () => {
    const store = await Store.open(ws.root);
    const img = (await store.resolveImage("wasted:1"))!;
    const r = await layerReport(store, img);
    expect(r.layers).toHaveLength(4);
    const [base, dd, rmStep, echo] = r.layers;
    expect(base!.wasted).toBe(0);
    expect(dd!.size).toBe(BIG + "keep\n".length + "t\n".length);
    expect(dd!.wasted).toBe(BIG + "keep\n".length + "t\n".length);
    expect(rmStep!.size).toBe(0);
    expect(echo!.size).toBe("kept\n".length);
    expect(r.totalWasted).toBe(dd!.wasted);
    expect(r.hints).toHaveLength(1);
    expect(r.hints[0]).toMatchObject({ addedBy: 1, removedBy: 2, paths: ["/big.bin", "/opt/tmp/a"] });
    expect(r.hints[0]!.message).toMatch(/layer 2 \(.*dd if=\/dev\/zero.*\) adds \/big\.bin, \/opt\/tmp\/a that layer 3 \(.*rm \/big\.bin.*\) deletes or overwrites: download, use and delete in the same RUN/);
    expect(formatLayerReport(r, formatBytes)).toMatch(/^image: 4 layers, [\d.]+MB, 3\.15MB wasted .*\nhint: 3\.15MB wasted: layer 2/);
  });

  it("kiln history --wasted shows the WASTED column and the hint", async () => {
    const h = await run(ws.root, "history", ["--wasted", "wasted:1"]);
    expect(h.code).toBe(0);
    const lines = h.stdout.split("\n");
    expect(lines[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+WASTED\s+COMMENT$/);
    // Newest first: RUN echo, ENV (no layer), RUN rm, RUN dd, the import.
    expect(lines.slice(1, 6).map((l) => l.split(/\s{3,}/)[2])).toEqual([
      expect.stringMatching(/echo kept/),
      expect.stringMatching(/ENV X=1/),
      expect.stringMatching(/rm \/big\.bin/),
      expect.stringMatching(/dd if=/),
      expect.stringMatching(/kiln import/),
    ]);
    expect(lines[4]).toMatch(/3\.15MB\s+3\.15MB/);
    expect(h.stdout).toMatch(/\n[\d.]+MB in 4 layers, 3\.15MB wasted/);
    expect(h.stdout).toMatch(/hint: 3\.15MB wasted: layer 2 /);
  });
});
