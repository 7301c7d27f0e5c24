// The root directory a RUN sees, and the root of a type=local export, are the
// image's root (0755 root:root for busybox and FROM scratch), never the mode
// of the store's private snapshot folders: a non-root USER must be able to
// reach /, exec its shell and read /etc/passwd, even when the store itself is
// reachable by root only.
import { chmod, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useWorkspace } from "../helpers/workspace.js";
import { buildIn } from "./helpers.js";

describe("the root directory of RUN and of exports", () => {
  const ws = useWorkspace({ busybox: true, name: "rootdir" });
  const build = (name: string, df: string, files: Record<string, string> = {}) => buildIn(ws.root, ws.work, name, df, files);

  it("USER 1000 can list / and read /etc/passwd; / is 0755 root:root inside RUN", async () => {
    // The store as a hardened install keeps it: only root may traverse it.
    await chmod(ws.root, 0o700);
    const df = [
      "FROM busybox:latest",
      "USER 1000",
      "RUN ls / > /tmp/ls && cat /etc/passwd > /tmp/passwd && stat -c '%a %u:%g' / > /tmp/rootstat",
    ].join("\n");
    const r = await build("user-ls", df);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect((await readFile(path.join(r.out, "tmp/ls"), "utf8")).split("\n")).toEqual(expect.arrayContaining(["bin", "etc", "tmp"]));
    expect(await readFile(path.join(r.out, "tmp/passwd"), "utf8")).toMatch(/^app:x:1000:1000:/m);
    expect(await readFile(path.join(r.out, "tmp/rootstat"), "utf8")).toBe("755 0:0\n");
  });

  it("the type=local output root is 0755, for an image built on busybox and one FROM scratch", async () => {
    const onBusybox = await build("local-root", "FROM busybox:latest\nRUN echo x > /x\n");
    expect(onBusybox.code).toBe(0);
    expect((await stat(onBusybox.out)).mode & 0o7777).toBe(0o755);
    const scratch = await build("scratch-root", "FROM scratch\nCOPY f /f\n", { f: "F\n" });
    expect(scratch.code).toBe(0);
    expect((await stat(scratch.out)).mode & 0o7777).toBe(0o755);
    expect(await readFile(path.join(scratch.out, "f"), "utf8")).toBe("F\n");
  });

  it("a non-root user runs a shell script it wrote in its WORKDIR", async () => {
    const df = [
      "FROM busybox:latest",
      "RUN mkdir /app && chown app:app /app",
      "WORKDIR /app",
      "USER app",
      "RUN printf '#!/bin/sh\\necho \"$(id -un) in $(pwd)\"\\n' > run.sh && chmod +x run.sh",
      "RUN ./run.sh > out.txt",
    ].join("\n");
    const r = await build("workdir-script", df);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(await readFile(path.join(r.out, "app/out.txt"), "utf8")).toBe("app in /app\n");
    const st = await stat(path.join(r.out, "app/run.sh"));
    expect([st.uid, st.gid]).toEqual([1000, 1000]);
  });
});
