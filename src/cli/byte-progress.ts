// Byte progress of blob transfers (kiln pull): on a terminal one line per
// blob redrawn with a bar, as docker pull does; in plain output a line per
// large blob at most every PLAIN_EVERY_MS, so a CI log shows a slow pull
// moving without a line per chunk.
import { formatBytes } from "./format.js";

const PLAIN_EVERY_MS = 1000;
/** Blobs smaller than this finish too fast to be worth a progress line. */
const LARGE = 1024 * 1024;

export function byteProgress(err: (s: string) => void, opts: { readonly tty: boolean; readonly verb: string }): (digest: string, bytes: number, size: number) => void {
  const lastPrint = new Map<string, number>();
  return (digest, bytes, size) => {
    if (size < LARGE) return;
    const short = digest.slice(7, 19);
    const text = `${formatBytes(bytes)}/${formatBytes(size)}`;
    if (opts.tty) {
      const width = 30;
      const done = Math.round((bytes / size) * width);
      err(`\r${short}: ${opts.verb} [${"=".repeat(Math.max(0, done - 1))}${done > 0 ? ">" : ""}${" ".repeat(width - done)}] ${text}\u001b[K${bytes >= size ? "\n" : ""}`);
      return;
    }
    if (bytes >= size) return;
    const now = Date.now();
    if (now - (lastPrint.get(digest) ?? 0) < PLAIN_EVERY_MS) return;
    lastPrint.set(digest, now);
    err(`${short}: ${opts.verb} ${text}\n`);
  };
}
