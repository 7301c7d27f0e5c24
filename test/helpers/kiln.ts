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
export async function storeWithBusybox(opts: { sourceDateEpoch?: string } = {}): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "kiln-store-"));
  // The same file name everywhere: it is recorded in the image's history.
  const tarball = path.join(await mkdtemp(path.join(tmpdir(), "kiln-busybox-")), "busybox.tar.gz");
  execFileSync("bash", [path.join(REPO, "scripts/busybox-rootfs.sh"), tarball]);
  // With a fixed creation time every such store holds the identical busybox
  // image, as two CI runners pulling the same base would.
  const r = await kiln(["--root", root, "import", tarball, "busybox:latest"], opts.sourceDateEpoch !== undefined ? { SOURCE_DATE_EPOCH: opts.sourceDateEpoch } : {});
  if (r.code !== 0) throw new Error(`import failed: ${r.stderr}`);
  return root;
}
