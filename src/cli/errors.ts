// How an error reaches the terminal: one line with file:line and the hint,
// then the offending source line, docker-style.
import { KilnError } from "../util/errors.js";

export function formatError(err: unknown): string {
  if (err instanceof KilnError) {
    let s = `error: ${err.format()}\n`;
    if (err.location?.text) s += ` ${String(err.location.line).padStart(4)} | ${err.location.text}\n`;
    return s;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === "string" && e.message) return `error: ${e.message}\n`;
  return `error: internal: ${(err as Error)?.stack ?? String(err)}\n`;
}
