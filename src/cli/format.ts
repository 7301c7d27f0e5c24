// Terminal formatting shared by the commands: tables, sizes, durations.
import { KilnError } from "../util/errors.js";

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join("").trimEnd() + "\n").join("");
}

/** docker's units: 1 kB = 1000 B. */
export function formatBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${units[i]}`;
}

export function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$/i.exec(s.trim());
  if (!m) throw new KilnError("USAGE", `invalid size "${s}"`, { hint: "e.g. 500MB, 5GB, 1GiB" });
  const unit = (m[2] ?? "b").toLowerCase();
  const pow = { b: 0, k: 1, m: 2, g: 3, t: 4 }[unit[0] as "b" | "k" | "m" | "g" | "t"];
  const base = unit.includes("i") ? 1024 : 1000;
  return Math.round(Number(m[1]) * base ** pow);
}

export function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "ms"];
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== s.length) throw new KilnError("USAGE", `invalid duration "${s}"`, { hint: "e.g. 24h, 30m, 1h30m" });
  return total;
}

export function ago(iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return "Less than a minute ago";
  if (s < 3600) return `${Math.floor(s / 60)} minutes ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} hours ago`;
  if (s < 86400 * 365) return `${Math.floor(s / 86400)} days ago`;
  return `${Math.floor(s / (86400 * 365))} years ago`;
}
