// Runs the kiln CLI in-process (same code path as bin/kiln.js) and captures
// what a user would see.
import { execFileSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { main } from "../../src/cli/main.js";

export const REPO = path.resolve(import.meta.dirname, "../..");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function kiln(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    out: (s) => (stdout += s),
    err: (s) => (stderr += s),
    env: { ...process.env, ...env },
    isTty: false,
  });
  return { code, stdout, stderr };
}

/** A fresh store with busybox:latest imported from Debian's busybox-static. */
export async function storeWithBusybox(): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "kiln-store-"));
  const tarball = path.join(root, "..", `${path.basename(root)}-busybox.tar.gz`);
  execFileSync("bash", [path.join(REPO, "scripts/busybox-rootfs.sh"), tarball]);
  const r = await kiln(["--root", root, "import", tarball, "busybox:latest"]);
  if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`);
  return root;
}
