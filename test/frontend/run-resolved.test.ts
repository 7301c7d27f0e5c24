// A RUN is resolved once and keyed by what runs: the network mode, the
// content a --mount=from= reads (not the source stage's whole chain), and
// mixed-case mount keys all reach both the key and the executor. --no-cache
// starts cache mounts empty, as BuildKit.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { buildIn } from "./helpers.js";

describe("RUN resolved step", () => {
  const ws = useWorkspace({ busybox: true, name: "run-resolved" });
  const build = (name: string, df: string, files: Record<string, string> = {}, extra: string[] = []) => buildIn(ws.root, ws.work, name, df, files, extra);
  const read = (dir: string, f: string) => readFile(path.join(dir, f), "utf8");

  it("--mount=FROM=stage is keyed by the mounted content: an unrelated change in the stage keeps it cached, a change in the content reruns it", async () => {
    const df = [
      "FROM busybox:latest AS build",
      "ARG V=foo",
      "COPY bust /",
      "RUN mkdir /out && echo $V > /out/foo",
      "FROM busybox:latest",
      "RUN --mount=TYPE=bind,FROM=build,SRC=/out,Target=/in,rw cat /in/foo > /got && touch /in/x && head -c 16 /dev/urandom | od -x > /unique",
    ].join("\n");
    const a = await build("from-a", df, { bust: "1" });
    expect(a.stderr).not.toMatch(/error/i);
    expect(await read(a.out, "got")).toBe("foo\n");
    const b = await build("from-b", df, { bust: "2" });
    expect(b.code).toBe(0);
    expect(await read(b.out, "unique")).toBe(await read(a.out, "unique"));
    const c = await build("from-c", df, { bust: "2" }, ["--build-arg", "V=bar"]);
    expect(await read(c.out, "got")).toBe("bar\n");
    expect(await read(c.out, "unique")).not.toBe(await read(a.out, "unique"));
    // The remembered digests of mounted stage paths go with `cache prune --all`.
    const digests = path.join(ws.root, "cache", "mount-digests");
    expect(existsSync(digests)).toBe(true);
    expect((await kiln(["--root", ws.root, "cache", "prune", "--all"])).code).toBe(0);
    expect(existsSync(digests)).toBe(false);
  });

  it("the RUN network mode is part of the key: --network=none then host is no false hit", async () => {
    const none = await build("net-none", ["FROM busybox:latest", "RUN --network=none ls /sys/class/net > /n"].join("\n"));
    expect(none.code).toBe(0);
    expect((await read(none.out, "n")).trim()).toBe("lo");
    const host = await build("net-host", ["FROM busybox:latest", "RUN --network=host ls /sys/class/net > /n"].join("\n"));
    expect(host.code).toBe(0);
    expect((await read(host.out, "n")).trim().split("\n").length).toBeGreaterThan(1);
  });

  it("--no-cache starts a cache mount empty; the next build sees what that run left", async () => {
    const df = ["FROM busybox:latest", "ARG FOO=abc", "RUN --mount=type=cache,id=nocache-mount,target=/cache touch /cache/$FOO && ls /cache > /out"].join("\n");
    expect(await read((await build("nc-1", df)).out, "out")).toBe("abc\n");
    expect(await read((await build("nc-2", df, {}, ["--no-cache", "--build-arg", "FOO=def"])).out, "out")).toBe("def\n");
    expect(await read((await build("nc-3", df, {}, ["--build-arg", "FOO=ghi"])).out, "out")).toBe("def\nghi\n");
  });
});
