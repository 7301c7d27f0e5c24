// Build progress for people and for programs. `tty`: a live view redrawn in
// place with ANSI escapes — finished steps scroll up as permanent lines
// (CACHED, DONE with time, ERROR with the step's output), while each running
// step keeps a spinner, its elapsed time and the last lines of its output.
// `rawjson`: one JSON object per event per line, for tools to parse.
// Only type imports: this module has no runtime dependencies.
import type { BuildEvent, EventSink } from "../build/events.js";

export interface ProgressDisplay {
  readonly onEvent: EventSink;
  /** Stop redrawing and leave the final state on screen. Call once, after the build (also when it failed). */
  close(): void;
}

export interface TtyOptions {
  /** Terminal width; lines are cut to it so the redraw never miscounts wrapped lines (default 80). */
  readonly columns?: number;
  /** Output lines shown under a running step (default 5). */
  readonly tailLines?: number;
  /** Redraw interval for spinners and timers (default 100 ms). */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

interface Step {
  readonly id: number;
  readonly name: string;
  readonly started: number;
  tail: string[];
  partial: string;
  log: Buffer[];
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const ESC = "\x1b[";

export function ttyProgress(write: (s: string) => void, opts: TtyOptions = {}): ProgressDisplay {
  const columns = Math.max(20, opts.columns ?? 80);
  const tailLines = opts.tailLines ?? 5;
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const running = new Map<number, Step>();
  let finished = 0;
  let cached = 0;
  let failed = false;
  let drawn = 0; // lines of the live region currently on screen
  let frame = 0;
  let closed = false;
  let pending = ""; // permanent lines to print above the live region at the next draw

  const cut = (s: string): string => {
    // Control characters from a step's output would move the cursor behind our back.
    // Lines stay one short of the width: a full-width line makes some terminals wrap early.
    const clean = s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "");
    return [...clean].length >= columns ? `${[...clean].slice(0, columns - 2).join("")}…` : clean;
  };
  const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

  const draw = (): void => {
    if (closed) return;
    frame++;
    let out = drawn > 0 ? `${ESC}${drawn}A\r${ESC}J` : "";
    out += pending;
    pending = "";
    const lines: string[] = [];
    const elapsed = now() - started;
    lines.push(cut(`[+] Building ${secs(elapsed)} (${finished}/${finished + running.size})${cached ? `, ${cached} cached` : ""}`));
    for (const s of [...running.values()].sort((a, b) => a.id - b.id)) {
      const spin = SPINNER[frame % SPINNER.length]!;
      const time = secs(now() - s.started);
      const head = cut(`${spin} #${s.id} ${s.name}`);
      lines.push(head.length + time.length + 1 < columns ? `${head}${" ".repeat(columns - head.length - time.length - 1)}${time}` : head);
      const tail = [...s.tail, ...(s.partial ? [s.partial] : [])].slice(-tailLines);
      for (const t of tail) lines.push(`${ESC}2m${cut(`  > ${t}`)}${ESC}0m`);
    }
    out += lines.map((l) => `${l}\n`).join("");
    drawn = lines.length;
    write(out);
  };
  const timer = setInterval(draw, opts.intervalMs ?? 100);
  timer.unref?.();

  const permanent = (line: string): void => {
    pending += `${line}\n`;
  };

  const onEvent = (e: BuildEvent): void => {
    switch (e.kind) {
      case "step-start":
        running.set(e.id, { id: e.id, name: e.name, started: now(), tail: [], partial: "", log: [] });
        break;
      case "step-log": {
        const s = running.get(e.id);
        if (!s) return;
        s.log.push(e.data);
        const lines = (s.partial + e.data.toString()).split(/\r?\n|\r/);
        s.partial = lines.pop()!;
        s.tail = [...s.tail, ...lines].slice(-tailLines);
        break;
      }
      case "step-done":
      case "step-failed": {
        const s = running.get(e.id);
        running.delete(e.id);
        finished++;
        const name = s?.name ?? `step ${e.id}`;
        if (e.kind === "step-failed") {
          failed = true;
          permanent(`${ESC}31m${cut(`✗ #${e.id} ${name}`)} ERROR ${secs(e.ms)}${ESC}0m`);
          const text = Buffer.concat(s?.log ?? []).toString().replace(/\s+$/, "");
          if (text) for (const l of text.split(/\r?\n/)) permanent(`   > ${l}`);
        } else if (e.note === "CACHED") {
          cached++;
          permanent(cut(`✔ #${e.id} CACHED ${name}`));
        } else permanent(`${cut(`✔ #${e.id} ${name}`)} ${secs(e.ms)}`);
        break;
      }
      case "cache-miss":
        permanent(cut(`  #${e.id} cache miss: ${e.reason}`));
        break;
      case "warning":
        permanent(`${ESC}33mWARNING: ${e.location ? `${e.location.file}:${e.location.line}: ` : ""}${e.message}${ESC}0m`);
        break;
      case "info":
        permanent(e.message);
        break;
    }
    draw();
  };

  return {
    onEvent,
    close() {
      if (closed) return;
      clearInterval(timer);
      // Final frame: erase the live region, flush the permanent lines, and a summary that stays.
      let out = drawn > 0 ? `${ESC}${drawn}A\r${ESC}J` : "";
      out += pending;
      out += `[+] Building ${secs(now() - started)} (${finished}/${finished + running.size}) ${failed || running.size ? "FAILED" : "FINISHED"}\n`;
      closed = true;
      write(out);
    },
  };
}

/** One JSON object per event per line; step output as UTF-8 text. */
export function rawJsonProgress(write: (s: string) => void, now: () => number = Date.now): ProgressDisplay {
  return {
    onEvent(e) {
      const base = { time: new Date(now()).toISOString(), ...e };
      write(`${JSON.stringify(e.kind === "step-log" ? { ...base, data: e.data.toString("utf8") } : base)}\n`);
    },
    close() {},
  };
}
