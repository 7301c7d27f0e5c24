// The library API a Node user imports: build() with typed options and
// progress events, against the same store the CLI uses.
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
});
