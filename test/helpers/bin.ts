// Running the CLI as users do: `node bin/kiln.js …` in a child process, for
// what only a real process has (its own stdout and stdin, redirections,
// pipes, a terminal, several kiln processes at once).
import { spawn, spawnSync } from "node:child_process";
import { stat } from "node:fs/promises";
import path from "node:path";
import { REPO } from "./kiln.js";

export const BIN = path.join(REPO, "bin/kiln.js");

/**
 * Throws unless dist/ (what bin/kiln.js runs) is at least as new as each of
 * `sources` (paths under src/): a stale build would test old code and fail
 * for no reason the test could name.
 */
export async function requireBuilt(...sources: string[]): Promise<void> {
  for (const src of sources) {
    const built = path.join(REPO, "dist", path.relative("src", src).replace(/\.ts$/, ".js"));
    const [s, d] = await Promise.all([stat(path.join(REPO, src)), stat(built).catch(() => undefined)]);
    if (!d || d.mtimeMs < s.mtimeMs) throw new Error(`${built} is older than ${src}: run npx tsc -p . (npm test does it through scripts/setup.sh)`);
  }
}

/** Quotes `s` for sh. */
export const sh = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

export interface ShellResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `script` with sh -c (so it can redirect and pipe), in which `kiln` is
 * `node bin/kiln.js` (a shell function; `$KILN_BIN` is bin/kiln.js).
 */
export function shell(script: string, env: NodeJS.ProcessEnv = {}): ShellResult {
  const r = spawnSync("sh", ["-c", `kiln() { node "$KILN_BIN" "$@"; }\n${script}`], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, KILN_BIN: BIN, ...env },
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * shell() without blocking this process: for scripts that talk to a server
 * the test itself runs (a proxy in this process could not answer a
 * synchronous child).
 */
export function shellAsync(script: string, env: NodeJS.ProcessEnv = {}): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", `kiln() { node "$KILN_BIN" "$@"; }\n${script}`], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, KILN_BIN: BIN, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
