// Renders build events. plain: every step, its time and RUN output (what CI
// logs want). tty: one line per step as it finishes; a failed step's output
// is shown in full.
import type { BuildEvent } from "../build/events.js";
import type { Phase } from "../util/phases.js";

export type ProgressMode = "plain" | "tty" | "quiet";

export function progressPrinter(mode: ProgressMode, write: (s: string) => void): (e: BuildEvent) => void {
  const logs = new Map<number, Buffer[]>();
  const names = new Map<number, string>();
  const partial = new Map<number, string>();
  // A log line's time is counted from its step's start, as BuildKit prints it.
  const startedAt = new Map<number, number>();
  const stamp = (id: number) => ((performance.now() - (startedAt.get(id) ?? performance.now())) / 1000).toFixed(3);
  return (e) => {
    switch (e.kind) {
      case "step-start":
        names.set(e.id, e.name);
        startedAt.set(e.id, performance.now());
        if (mode === "plain") write(`#${e.id} ${e.name}\n`);
        break;
      case "step-log": {
        if (mode === "plain") {
          const text = (partial.get(e.id) ?? "") + e.data.toString();
          const lines = text.split("\n");
          partial.set(e.id, lines.pop()!);
          for (const l of lines) write(`#${e.id} ${stamp(e.id)} ${l}\n`);
        } else {
          const arr = logs.get(e.id) ?? [];
          arr.push(e.data);
          logs.set(e.id, arr);
        }
        break;
      }
      case "step-done":
      case "step-failed": {
        const rest = partial.get(e.id);
        if (mode === "plain" && rest) write(`#${e.id} ${stamp(e.id)} ${rest}\n`);
        partial.delete(e.id);
        const secs = (e.ms / 1000).toFixed(1);
        if (e.kind === "step-failed") {
          if (mode !== "plain") {
            write(`=> ERROR ${names.get(e.id)} ${secs}s\n`);
            const out = Buffer.concat(logs.get(e.id) ?? []).toString();
            if (out) write(out.replace(/^/gm, "   > ").replace(/\s*$/, "\n"));
          } else write(`#${e.id} ERROR ${secs}s\n`);
        } else if (mode === "plain") {
          if (e.phases?.length) write(`#${e.id} phases: ${formatPhases(e.phases)}\n`);
          write(e.note === "CACHED" ? `#${e.id} CACHED\n` : `#${e.id} DONE ${secs}s\n`);
        }
        else if (mode === "tty") write(`=> ${e.note === "CACHED" ? "CACHED " : ""}${names.get(e.id)} ${secs}s\n`);
        logs.delete(e.id);
        startedAt.delete(e.id);
        break;
      }
      case "phases":
        if (mode === "plain") write(`${e.label}: ${formatPhases(e.phases)}\n`);
        break;
      case "info":
        if (mode !== "quiet") write(`${e.message}\n`);
        break;
      case "cache-miss":
        if (mode !== "quiet") write(`#${e.id} cache miss: ${e.reason}\n`);
        break;
      case "warning": {
        const where = e.location ? `${e.location.file}:${e.location.line}: ` : "";
        if (mode !== "quiet") write(`WARNING: ${where}${e.message}\n`);
        break;
      }
    }
  };
}

/** "mount 0.02s, run 12.30s, diff walk 0.41s, …": where a step's time went (--progress plain). */
function formatPhases(phases: readonly Phase[]): string {
  return `${phases.map((p) => `${p.name} ${(p.ms / 1000).toFixed(2)}s`).join(", ")}`;
}
