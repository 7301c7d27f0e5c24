// The library API a Node user imports: build() with typed options and
// progress events, against the same store the CLI uses.
import { mkdtemp, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { build, Store, type BuildEvent } from "../../src/index.js";
import { REPO } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";

describe("library API", () => {
  const ws = useWorkspace({ busybox: true });

  it("build() returns the manifest and reports progress as events", async () => {
    const store = await Store.open(ws.root);
    const events: BuildEvent[] = [];
    const r = await build({ store, contextDir: path.join(REPO, "examples/hello"), tags: ["api:1"], onEvent: (e) => events.push(e) });
    expect(r.manifest?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.tags).toEqual(["docker.io/library/api:1"]);
    // FROM, WORKDIR, COPY, RUN: config-only instructions are not steps (as in BuildKit).
    expect(events.filter((e) => e.kind === "step-start").map((e) => (e.kind === "step-start" ? e.name : ""))).toEqual([
      "[1/4] FROM busybox:latest",
      "[2/4] WORKDIR $APP_HOME",
      "[3/4] COPY greet.sh ./",
      '[4/4] RUN chmod 755 greet.sh && echo "$GREETING from kiln" > message.txt',
    ]);
    expect(events.some((e) => e.kind === "step-log" && e.data.toString().length >= 0)).toBe(false); // the RUN prints nothing
    const img = await store.resolveImage("api:1");
    expect(img?.manifestDescriptor.digest).toBe(r.manifest?.digest);
    expect(img?.config.config?.Entrypoint).toEqual(["/app/greet.sh"]);
  });

  it("build({ sandbox }) sets RUN's limits and seccomp, as the CLI's --ulimit/--shm-size/--pids-limit/--security-opt", async () => {
    const store = await Store.open(ws.root);
    const ctx = await mkdtemp(path.join(ws.work, "sandbox-"));
    await writeFile(path.join(ctx, "Dockerfile"), "FROM busybox\nRUN ulimit -n; df -k /dev/shm | tail -1 | awk '{print $2}'; grep '^Seccomp:' /proc/self/status\n");
    let log = "";
    await build({
      store,
      contextDir: ctx,
      sandbox: { seccomp: false, limits: { ulimits: [{ name: "nofile", soft: 123, hard: 123 }], shmSizeBytes: 32 * 1024 * 1024, pidsLimit: 100 } },
      onEvent: (e) => {
        if (e.kind === "step-log") log += e.data.toString();
      },
    });
    expect(log.split("\n").filter(Boolean)).toEqual(["123", "32768", "Seccomp:\t0"]);
  });
});
