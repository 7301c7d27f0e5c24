// `kiln build --platform linux/amd64,linux/arm64` builds the platforms at the
// same time (arm64 under qemu-user), yet a $BUILDPLATFORM stage still runs
// once: the platform that reaches its step second waits for the first and
// takes the record as a cache hit. One platform failing stops the other;
// `--jobs N` bounds the steps of the whole build. Everything is read from
// what a user has: the CLI's progress (plain and rawjson), exit code and
// error, the files the images hold, the store's list of images.
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { Store } from "../../src/store/store.js";
import { kiln } from "../helpers/kiln.js";
import { useWorkspace } from "../helpers/workspace.js";
import { useArm64Busybox } from "./prerequisites.js";

const PLATFORMS = "linux/amd64,linux/arm64";

/** One `--progress rawjson` line. */
interface RawEvent {
  readonly kind: string;
  readonly id?: number;
  readonly name?: string;
  readonly note?: string;
  readonly data?: string;
  readonly message?: string;
}

function rawEvents(stderr: string): RawEvent[] {
  return stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as RawEvent);
}

/** The step-start events whose name matches, with how each ended. */
function steps(events: readonly RawEvent[], name: RegExp): { id: number; name: string; end: RawEvent | undefined }[] {
  return events
    .filter((e) => e.kind === "step-start" && name.test(e.name!))
    .map((s) => ({ id: s.id!, name: s.name!, end: events.find((e) => (e.kind === "step-done" || e.kind === "step-failed") && e.id === s.id) }));
}

/**
 * A RUN that checks in at /meet (a cache mount every RUN's container shares)
 * as `who`, waits up to waitTicks x 50 ms for another RUN to check in (one
 * running at the same time does so at once), and writes who was there to
 * /seen-FILE; it stays checked in a second longer, so another RUN polling
 * every 50 ms sees it too, and prints "begin who" and "end who".
 */
const MEET = (id: string, who: string, file: string, waitTicks: number) =>
  `RUN --mount=type=cache,id=${id},target=/meet echo "begin ${who}" && touch /meet/${who} ` +
  `&& i=0 && while [ "$(ls /meet | wc -l)" -lt 2 ] && [ $i -lt ${waitTicks} ]; do usleep 50000; i=$((i+1)); done ` +
  `&& ls /meet > /seen-${file} && usleep 1000000 && rm /meet/${who} && echo "end ${who}"`;

describe("the platforms of --platform a,b build at the same time", () => {
  const ws = useWorkspace({ name: "par" });
  useArm64Busybox({ importInto: ws });

  it("a $BUILDPLATFORM stage runs once: the later platform waits for the earlier one's step and takes it CACHED; plain progress names each step's platform", async () => {
    const ctx = await ws.writeContext(
      {
        Dockerfile: [
          "FROM --platform=$BUILDPLATFORM busybox:latest AS tool",
          // A count kept in a cache mount, which outlives the step's container: how often this RUN really ran.
          "RUN --mount=type=cache,id=shared-runs,target=/runs echo ran >> /runs/count && mkdir /out && wc -l < /runs/count > /out/runs && cat /proc/sys/kernel/random/uuid > /out/stamp && echo shared-ran",
          "FROM busybox:latest",
          "COPY --from=tool /out/ /tool/",
          "RUN uname -m > /arch",
        ].join("\n"),
      },
      path.join(ws.work, "shared"),
    );
    const dest = path.join(ws.work, "shared-out");
    const r = await kiln(["--root", ws.root, "build", "--progress", "plain", "--platform", PLATFORMS, "--output", `type=local,dest=${dest}`, ctx]);
    expect(r.stderr).toContain("5 steps run, 1 cached"); // shared RUN once; COPY and RUN per platform
    expect(r.code).toBe(0);
    // Each platform's step appears under its own label; one ran it, the other waited and took it from the cache.
    const starts = [...r.stderr.matchAll(/^#(\d+) \[(linux\/\w+) tool 2\/2\] RUN --mount=type=cache,id=shared-runs/gm)].map((m) => ({ id: m[1]!, platform: m[2]! }));
    expect(starts.map((s) => s.platform).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    const ends = starts.map((s) => new RegExp(`^#${s.id} (CACHED|DONE [\\d.]+s)$`, "m").exec(r.stderr)?.[1]?.replace(/ .*/, ""));
    expect(ends.sort()).toEqual(["CACHED", "DONE"]);
    expect(r.stderr.match(/^#\d+ [\d.]+ shared-ran$/gm)).toHaveLength(1);
    // Both images hold the output of that one run.
    const [amd, arm] = await Promise.all(["linux_amd64", "linux_arm64"].map(async (p) => ({
      stamp: await readFile(path.join(dest, p, "tool/stamp"), "utf8"),
      runs: (await readFile(path.join(dest, p, "tool/runs"), "utf8")).trim(),
      arch: await readFile(path.join(dest, p, "arch"), "utf8"),
    })));
    expect(amd!.runs).toBe("1");
    expect(arm!.runs).toBe("1");
    expect(arm!.stamp).toBe(amd!.stamp);
    expect([amd!.arch, arm!.arch]).toEqual(["x86_64\n", "aarch64\n"]);
  }, 120_000);

  it("the platforms overlap: both start before the first one is done, and their RUNs are running at the same moment", async () => {
    const ctx = await ws.writeContext(
      { Dockerfile: ["FROM busybox:latest", "ARG TARGETARCH", MEET("overlap", "$TARGETARCH", "both", 200), "CMD [\"true\"]"].join("\n") },
      path.join(ws.work, "overlap"),
    );
    const dest = path.join(ws.work, "overlap-out");
    // --jobs 2 whatever the CPU count: two steps may run at once.
    const r = await kiln(["--root", ws.root, "build", "--progress", "rawjson", "--jobs", "2", "--platform", PLATFORMS, "--output", `type=local,dest=${dest}`, ctx]);
    expect(r.code).toBe(0);
    const events = rawEvents(r.stderr);
    const byPlatform = (p: string) => events.filter((e) => e.kind === "step-start" && e.name!.startsWith(`[${p} `)).map((e) => e.id!);
    const [amdIds, armIds] = [byPlatform("linux/amd64"), byPlatform("linux/arm64")];
    // FROM and RUN: ARG and CMD change only the config, and are not steps (as in BuildKit).
    expect(amdIds).toHaveLength(2);
    expect(armIds).toHaveLength(2);
    // Event ids are unique across the platforms: the progress output can tell every step apart.
    expect(new Set([...amdIds, ...armIds]).size).toBe(4);
    const at = (pred: (e: RawEvent) => boolean) => events.findIndex(pred);
    const lastDone = (ids: number[]) => Math.max(...ids.map((id) => at((e) => e.kind === "step-done" && e.id === id)));
    const firstStart = (ids: number[]) => Math.min(...ids.map((id) => at((e) => e.kind === "step-start" && e.id === id)));
    const firstFinished = Math.min(lastDone(amdIds), lastDone(armIds));
    expect(firstStart(amdIds)).toBeLessThan(firstFinished);
    expect(firstStart(armIds)).toBeLessThan(firstFinished);
    // Each RUN saw the other platform's RUN checked in while it ran.
    for (const p of ["linux_amd64", "linux_arm64"]) expect((await readFile(path.join(dest, p, "seen-both"), "utf8")).split("\n").filter(Boolean)).toEqual(["amd64", "arm64"]);
  }, 120_000);

  it("a failing RUN for arm64 stops the amd64 build's running step: exit code 1, the arm64 error, nothing tagged, nothing left mounted", async () => {
    const ctx = await ws.writeContext(
      {
        Dockerfile: [
          "FROM busybox:latest",
          "ARG TARGETARCH",
          // amd64 checks in and sleeps; arm64 fails once amd64 is surely running.
          'RUN --mount=type=cache,id=fail,target=/meet if [ "$TARGETARCH" = arm64 ]; then i=0; while [ ! -e /meet/amd64 ] && [ $i -lt 400 ]; do usleep 50000; i=$((i+1)); done; echo arm64-fails; exit 3; else touch /meet/amd64; sleep 120; fi',
          "RUN echo never-reached",
        ].join("\n"),
      },
      path.join(ws.work, "fail"),
    );
    const store = await Store.open(ws.root);
    const before = (await store.listImages()).map((i) => i.name).sort();
    const r = await kiln(["--root", ws.root, "build", "--progress", "rawjson", "--platform", PLATFORMS, "-t", "fails:1", ctx]);
    expect(r.code).toBe(1);
    // The error shown is the first one, arm64's, not the interruption it caused.
    // rawjson: the error is an event too; stderr holds nothing but JSON lines.
    expect(r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("{"))).toEqual([]);
    const errors = rawEvents(r.stderr).filter((e) => e.kind === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/did not complete successfully: exit code 3/);
    const events = rawEvents(r.stderr);
    const [amdRun, armRun] = ["linux/amd64", "linux/arm64"].map((p) => steps(events, new RegExp(`^\\[${p} \\d+/\\d+\\] RUN --mount=type=cache,id=fail`))[0]);
    expect(armRun?.end?.kind).toBe("step-failed");
    // The amd64 step was running (it checked in, so arm64 failed) and was stopped, not left to sleep.
    expect(amdRun?.end?.kind).toBe("step-failed");
    expect(steps(events, /RUN echo never-reached/)).toEqual([]);
    expect((await store.listImages()).map((i) => i.name).sort()).toEqual(before);
    expect((await readdir(store.paths.tmp)).filter((n) => n.startsWith("mnt-"))).toEqual([]);
  }, 120_000);

  it("--jobs 1 runs one step at a time across both platforms", async () => {
    const ctx = await ws.writeContext(
      {
        Dockerfile: [
          "FROM --platform=$BUILDPLATFORM busybox:latest AS tool",
          MEET("jobs1", "tool", "tool", 10),
          "FROM busybox:latest",
          "ARG TARGETARCH",
          MEET("jobs1", "a-$TARGETARCH", "a", 10),
          MEET("jobs1", "b-$TARGETARCH", "b", 10),
          "COPY --from=tool /seen-tool /",
        ].join("\n"),
      },
      path.join(ws.work, "jobs1"),
    );
    const dest = path.join(ws.work, "jobs1-out");
    const r = await kiln(["--root", ws.root, "build", "--progress", "rawjson", "--jobs", "1", "--platform", PLATFORMS, "--output", `type=local,dest=${dest}`, ctx]);
    expect(r.code).toBe(0);
    // What each RUN printed, in the order the events came: every "begin" is followed by its own "end".
    const said = rawEvents(r.stderr)
      .filter((e) => e.kind === "step-log")
      .flatMap((e) => e.data!.split("\n").filter((l) => /^(begin|end) /.test(l)));
    expect(said).toHaveLength(10); // the tool RUN once, two RUNs per platform
    for (let i = 0; i < said.length; i += 2) expect(said[i + 1]).toBe(said[i]!.replace(/^begin/, "end"));
    // And each RUN found no other RUN checked in while it ran.
    for (const [p, arch] of [["linux_amd64", "amd64"], ["linux_arm64", "arm64"]] as const) {
      expect(await readFile(path.join(dest, p, "seen-tool"), "utf8")).toBe("tool\n");
      expect(await readFile(path.join(dest, p, "seen-a"), "utf8")).toBe(`a-${arch}\n`);
      expect(await readFile(path.join(dest, p, "seen-b"), "utf8")).toBe(`b-${arch}\n`);
    }
  }, 180_000);
});
