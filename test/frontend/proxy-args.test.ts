// Predefined proxy ARGs: given with --build-arg and no ARG line, RUN sees
// them; the image config, its history and the cache key never do.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

describe("proxy build args", () => {
  const ws = useWorkspace({ busybox: true, name: "proxy", context: { Dockerfile: 'FROM busybox:latest\nRUN echo "proxy=$HTTP_PROXY no=$no_proxy" > /seen\n' } });

  it("reach RUN, not the config, the history or the cache key", async () => {
    const out = path.join(ws.work, "rootfs");
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "-t", "p:1", "--build-arg", "HTTP_PROXY=http://127.0.0.1:3128", "--build-arg", "no_proxy=localhost", "--output", `type=local,dest=${out}`, ws.ctx]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/not consumed/);
    expect(await readFile(path.join(out, "seen"), "utf8")).toBe("proxy=http://127.0.0.1:3128 no=localhost\n");
    const inspect = (await kiln(["--root", ws.root, "inspect", "p:1"])).stdout;
    expect(inspect).not.toMatch(/127\.0\.0\.1:3128|no_proxy=localhost/);
    const other = await kiln(["--root", ws.root, "build", "--progress", "plain", "-t", "p:1", "--build-arg", "HTTP_PROXY=http://127.0.0.1:9999", ws.ctx]);
    expect(other.stderr).toMatch(/0 steps run, 1 cached/);
  });

  it("either spelling sets both, as BuildKit's proxy environment", async () => {
    const ctx = await ws.writeContext({ Dockerfile: 'FROM busybox:latest\nRUN echo "$HTTP_PROXY|$http_proxy|$NO_PROXY|$no_proxy" > /seen\n' }, path.join(ws.work, "spellings"));
    const out = path.join(ws.work, "spellings-out");
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--build-arg", "http_proxy=hp", "--build-arg", "NO_PROXY=np", "--output", `type=local,dest=${out}`, ctx]);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(out, "seen"), "utf8")).toBe("hp|hp|np|np\n");
  });
});
