// The live build display: redrawn in place (checked with a tiny terminal
// emulator, and for real under `script`, which gives the process a
// pseudo-terminal), and rawjson events parsed back.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import type { BuildEvent } from "../../src/build/events.js";
import { rawJsonProgress, ttyProgress } from "../../src/cli/progress-tty.js";
import { REPO } from "../helpers/kiln.js";

/** Applies what the display writes to a screen: text, \n, \r, ESC[nA (up), ESC[J (clear below). */
function screen(): { write: (s: string) => void; lines: () => string[] } {
  const rows: string[] = [""];
  let row = 0;
  return {
    write(s) {
      const re = /\x1b\[(\d*)([A-Za-z])|\r|\n|[^\x1b\r\n]+/g;
      for (const m of s.matchAll(re)) {
        const t = m[0];
        if (m[2] === "A") row = Math.max(0, row - Number(m[1] || 1));
        else if (m[2] === "J") rows.splice(row + 1), (rows[row] = "");
        else if (m[2] === "m") continue;
        else if (t === "\r") rows[row] = "";
        else if (t === "\n") {
          row++;
          if (rows.length <= row) rows.push("");
        } else rows[row] += t;
      }
    },
    lines: () => rows.filter((r, i) => i < rows.length - 1 || r !== ""),
  };
}

const ev = (e: BuildEvent) => e;

describe("tty progress", () => {
  it("keeps finished steps and redraws running ones with their last output lines", () => {
    let t = 0;
    const scr = screen();
    const p = ttyProgress(scr.write, { columns: 60, tailLines: 2, intervalMs: 1e9, now: () => t });
    p.onEvent(ev({ kind: "step-start", id: 1, name: "[1/3] FROM busybox" }));
    t = 100;
    p.onEvent(ev({ kind: "step-done", id: 1, ms: 100, note: "CACHED" }));
    p.onEvent(ev({ kind: "step-start", id: 2, name: "[2/3] RUN ./download.sh" }));
    p.onEvent(ev({ kind: "step-log", id: 2, stream: "stdout", data: Buffer.from("fetching\n10%\n50%\n9") }));
    t = 2100;
    p.onEvent(ev({ kind: "step-log", id: 2, stream: "stdout", data: Buffer.from("0%") }));
    const live = scr.lines();
    expect(live[0]).toBe("✔ #1 CACHED [1/3] FROM busybox");
    expect(live[1]).toBe("[+] Building 2.1s (1/2), 1 cached");
    expect(live[2]).toMatch(/^. #2 \[2\/3\] RUN \.\/download\.sh\s+2\.0s$/);
    expect(live[2]).toHaveLength(59); // one short of the width: no early wrap
    // Only the last two lines (the partial "90%" counts) are shown.
    expect(live.slice(3)).toEqual(["  > 50%", "  > 90%"]);
    t = 3000;
    p.onEvent(ev({ kind: "step-done", id: 2, ms: 2900 }));
    p.onEvent(ev({ kind: "step-start", id: 3, name: "[3/3] RUN false" }));
    p.onEvent(ev({ kind: "step-log", id: 3, stream: "stderr", data: Buffer.from("boom\n") }));
    p.onEvent(ev({ kind: "step-failed", id: 3, ms: 10 }));
    p.close();
    expect(scr.lines()).toEqual([
      "✔ #1 CACHED [1/3] FROM busybox",
      "✔ #2 [2/3] RUN ./download.sh 2.9s",
      "✗ #3 [3/3] RUN false ERROR 0.0s",
      "   > boom",
      "[+] Building 3.0s (3/3) FAILED",
    ]);
  });

  it("never lets step output move the cursor, and cuts long lines to the width", () => {
    const scr = screen();
    const p = ttyProgress(scr.write, { columns: 30, intervalMs: 1e9, now: () => 0 });
    p.onEvent(ev({ kind: "step-start", id: 1, name: "RUN x" }));
    p.onEvent(ev({ kind: "step-log", id: 1, stream: "stdout", data: Buffer.from(`\x1b[2Aevil\x1b[J ${"y".repeat(100)}\n`) }));
    const l = scr.lines();
    expect(l.at(-1)).toBe(`  > evil ${"y".repeat(19)}…`);
    p.close();
  });

  it("draws live under a pseudo-terminal (script -qc)", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "kiln-pty-"));
    try {
      // The module has only type imports, so one transpiled file runs on its own.
      const src = await readFile(path.join(REPO, "src/cli/progress-tty.ts"), "utf8");
      await writeFile(path.join(dir, "progress-tty.mjs"), ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
      await writeFile(
        path.join(dir, "driver.mjs"),
        `import { ttyProgress } from "./progress-tty.mjs";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
process.stderr.write("isTTY=" + process.stderr.isTTY + " columns=" + process.stderr.columns + "\\n");
const p = ttyProgress((s) => process.stderr.write(s), { columns: process.stderr.columns, intervalMs: 50 });
p.onEvent({ kind: "step-start", id: 1, name: "RUN ./fetch" });
for (const pct of [10, 40, 80]) { p.onEvent({ kind: "step-log", id: 1, stream: "stdout", data: Buffer.from("progress " + pct + "%\\n") }); await sleep(120); }
p.onEvent({ kind: "step-done", id: 1, ms: 360 });
p.close();
`,
      );
      const out = execFileSync("script", ["-qec", `stty cols 70; node ${path.join(dir, "driver.mjs")}`, "/dev/null"], { encoding: "utf8", cwd: dir });
      expect(out).toMatch(/isTTY=true columns=70/);
      expect(out).toContain("\x1b[J"); // redrawn in place
      expect(out).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] #1 RUN \.\/fetch/);
      expect(out).toContain("> progress 40%");
      expect(out).toMatch(/✔ #1 RUN \.\/fetch 0\.4s/);
      expect(out).toMatch(/\(1\/1\) FINISHED/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("rawjson progress", () => {
  it("writes one parseable event per line", () => {
    let out = "";
    const p = rawJsonProgress((s) => (out += s), () => 0);
    p.onEvent(ev({ kind: "step-start", id: 1, name: "RUN echo hi" }));
    p.onEvent(ev({ kind: "step-log", id: 1, stream: "stdout", data: Buffer.from("hi\n") }));
    p.onEvent(ev({ kind: "step-done", id: 1, ms: 5 }));
    p.close();
    const events = out.trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events).toEqual([
      { time: "1970-01-01T00:00:00.000Z", kind: "step-start", id: 1, name: "RUN echo hi" },
      { time: "1970-01-01T00:00:00.000Z", kind: "step-log", id: 1, stream: "stdout", data: "hi\n" },
      { time: "1970-01-01T00:00:00.000Z", kind: "step-done", id: 1, ms: 5 },
    ]);
  });
});
