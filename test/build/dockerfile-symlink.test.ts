// A Dockerfile that is a symlink inside the context is read through the link,
// as BuildKit does (testSymlinkedDockerfile: ctx/Dockerfile -> Dockerfile.web).
import { readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

describe("symlinked Dockerfile", () => {
  const ws = useWorkspace({ busybox: true, name: "symdf" });

  it("ctx/Dockerfile -> Dockerfile.web builds Dockerfile.web", async () => {
    await writeFile(path.join(ws.ctx, "Dockerfile.web"), "FROM busybox:latest\nRUN echo web > /which\n");
    await symlink("Dockerfile.web", path.join(ws.ctx, "Dockerfile"));
    const out = path.join(ws.work, "out");
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--output", `type=local,dest=${out}`, ws.ctx]);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(out, "which"), "utf8")).toBe("web\n");
  });
});
