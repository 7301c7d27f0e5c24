// kiln's own version, from package.json (read once, on demand).
import { readFile } from "node:fs/promises";

let cached: Promise<string> | undefined;

export function kilnVersion(): Promise<string> {
  cached ??= readFile(new URL("../package.json", import.meta.url), "utf8").then((t) => (JSON.parse(t) as { version: string }).version);
  return cached;
}
