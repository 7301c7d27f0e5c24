// Locate the OCI runtime binary. A missing runtime is a setup problem, so the
// error says which package provides it.
import { findOnPath } from "../util/find-on-path.js";
import { KilnError } from "../util/errors.js";

export type RuntimeName = "runc" | "crun";

export async function findRuntime(name: RuntimeName, searchPath = process.env.PATH ?? ""): Promise<string> {
  const found = await findOnPath(name, searchPath);
  if (found) return found;
  throw new KilnError("NO_RUNTIME", `no OCI runtime found: "${name}" is not on PATH`, {
    hint: `install it (Debian: apt-get install ${name}) or pick another with --runtime`,
  });
}
