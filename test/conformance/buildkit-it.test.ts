// BuildKit's own Dockerfile integration tests (../shared/conformance/buildkit-it,
// transcribed from moby/buildkit frontend/dockerfile/*_test.go) run against
// kiln as built in this checkout, with the shared runner script unchanged.
// A case that fails makes this file fail unless docs/buildkit-conformance.md
// lists it (a deliberate difference with its reason, or a bug being fixed).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../helpers/kiln.js";

declare module "vitest" {
  interface TaskMeta {
    /** The closing count the summary reporter prints. */
    bkitCount?: string;
  }
}

const SHARED = path.resolve(REPO, "../shared/conformance/buildkit-it");
const DOC = path.join(REPO, "docs/buildkit-conformance.md");
const present = existsSync(path.join(SHARED, "runner/run.sh"));
if (!present) console.log(`buildkit-it cases not found at ${SHARED}: skipping BuildKit integration conformance`);
const suite = present ? describe : describe.skip;

interface Outcome {
  status: "PASS" | "FAIL" | "ERROR";
  detail: string;
  /** Wall time since the shard's previous case (the first one includes the runner's set-up). */
  seconds: number;
}

/** The ``- `Case` ...`` entries under a `## heading` of the doc. */
function listedUnder(doc: string, heading: string): Map<string, string> {
  const out = new Map<string, string>();
  const start = doc.indexOf(`\n## ${heading}`);
  if (start < 0) throw new Error(`${DOC} has no "## ${heading}" section`);
  const end = doc.indexOf("\n## ", start + 4);
  for (const line of doc.slice(start, end < 0 ? undefined : end).split("\n")) {
    const m = /^- `([^`]+)`\s*(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.replace(/^[:—-]\s*/, ""));
  }
  return out;
}

/**
 * Copies the cases and repairs what the transcription lost: every symlink of
 * BuildKit's test contexts was stored as a regular file holding the link's
 * target. The folder's own generator (`_gen.py OUTDIR`) still knows them, so
 * each symlink it writes replaces the flattened file in the copy.
 */
function repairedCopy(into: string): string {
  const dir = path.join(into, "buildkit-it");
  cpSync(SHARED, dir, { recursive: true, verbatimSymlinks: true });
  const generated = path.join(into, "generated");
  execFileSync("python3", [path.join(SHARED, "_gen.py"), generated], { stdio: "ignore" });
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(generated, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isSymbolicLink()) {
        const target = path.join(dir, r);
        rmSync(target, { recursive: true, force: true });
        symlinkSync(readlinkSync(path.join(generated, r)), target);
      } else if (e.isDirectory()) walk(r);
    }
  };
  walk("");
  rmSync(generated, { recursive: true, force: true });
  return dir;
}

/** The runner on `names` in one process (its own process group), calling `done` per case line it prints. */
function startShard(runner: string, names: string[], done: (name: string, o: Outcome) => void): ChildProcess {
  const child = spawn("bash", [runner, ...names], { cwd: REPO, detached: true, stdio: ["ignore", "pipe", "ignore"], env: { ...process.env, BKIT_KEEP: "0" } });
  let buf = "";
  let since = Date.now();
  child.stdout!.setEncoding("utf8").on("data", (s: string) => {
    buf += s;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /^(PASS|FAIL|ERROR) ([^:\s]+):?\s*(.*)$/.exec(line);
      if (!m) continue;
      done(m[2]!, { status: m[1] as Outcome["status"], detail: m[3]!, seconds: (Date.now() - since) / 1000 });
      since = Date.now();
    }
  });
  child.on("close", () => done("", { status: "ERROR", detail: "runner exited", seconds: 0 }));
  return child;
}

suite("BuildKit integration conformance (buildkit-it)", () => {
  const names = present ? readdirSync(SHARED).filter((n) => existsSync(path.join(SHARED, n, "expect.sh"))).sort() : [];
  const doc = present ? readFileSync(DOC, "utf8") : "";
  const deliberate = present ? listedUnder(doc, "Deliberate differences") : new Map<string, string>();
  const beingFixed = present ? listedUnder(doc, "Being fixed") : new Map<string, string>();
  const results = new Map<string, Outcome>();
  const waiting = new Map<string, (o: Outcome) => void>();
  const outcome = new Map<string, Promise<Outcome>>(names.map((n) => [n, new Promise<Outcome>((r) => waiting.set(n, r))]));
  const shards: ChildProcess[] = [];
  let scratch = "";
  let t0 = 0;

  beforeAll(() => {
    t0 = Date.now();
    scratch = mkdtempSync("/var/tmp/kiln-bkit-");
    const runner = path.join(repairedCopy(scratch), "runner/run.sh");
    // Each runner process first prepares its busybox base (seconds), so the
    // cases are dealt round-robin to a few long-lived processes, in name
    // order, and each case's test waits for its own line.
    const jobs = Number(process.env.KILN_BKIT_JOBS ?? 3);
    const lists: string[][] = Array.from({ length: jobs }, () => []);
    names.forEach((n, i) => lists[i % jobs]!.push(n));
    for (const list of lists) {
      shards.push(
        startShard(runner, list, (n, o) => {
          if (n) {
            results.set(n, o);
            waiting.get(n)?.(o);
          } else for (const left of list) if (!results.has(left)) waiting.get(left)?.({ ...o, detail: "the runner exited without a result for it" });
        }),
      );
    }
  });

  afterAll(() => {
    for (const c of shards) if (c.exitCode === null && c.pid) process.kill(-c.pid, "SIGTERM");
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("has the documented lists naming real cases only", () => {
    const unknown = [...deliberate.keys(), ...beingFixed.keys()].filter((n) => !names.includes(n));
    expect(unknown).toEqual([]);
    for (const [n, why] of deliberate) expect(why, `${n} needs its reason in ${DOC}`).not.toBe("");
  });

  for (const name of names) {
    it(name, { timeout: 12 * 60_000 }, async () => {
      const o = await outcome.get(name)!;
      const listed = deliberate.has(name) ? "deliberate difference" : beingFixed.has(name) ? "being fixed" : undefined;
      if (o?.status === "PASS") {
        if (listed) console.log(`buildkit-it: ${name} now passes; remove it from "${listed}" in docs/buildkit-conformance.md`);
        return;
      }
      const why = `${o.status} ${o.detail}`;
      if (listed) {
        console.log(`buildkit-it: ${name} fails (${listed}): ${why.slice(0, 200)}`);
        return;
      }
      expect.fail(`${name}: ${why}`);
    });
  }

  it("reports the count", ({ task }) => {
    const pass = [...results.values()].filter((o) => o.status === "PASS").length;
    const seconds = Math.round((Date.now() - t0) / 1000);
    const slowest = [...results].sort((a, b) => b[1].seconds - a[1].seconds).slice(0, 5).map(([n, o]) => `${n} ${o.seconds.toFixed(0)}s`);
    const line = `buildkit-it: ${pass}/${names.length} pass (${seconds}s; slowest: ${slowest.join(", ")})`;
    task.meta.bkitCount = line;
    console.log(line);
    expect(results.size).toBe(names.length);
  });
});
