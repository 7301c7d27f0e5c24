// How a COPY/ADD source is named, as plain strings: what the planner needs
// to classify and normalise a source without touching a file (plan/ is
// pure), and what the context readers use so both agree.
import path from "node:path";

/** ADD's remote sources: http and https URLs (others are context paths). */
export function isRemoteUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

/** Normalise a source as docker does: relative to the context, never above it. */
export function cleanSource(src: string): string {
  const norm = path.posix.normalize(`/${src}`);
  return norm === "/" ? "" : norm.slice(1).replace(/\/+$/, "");
}
