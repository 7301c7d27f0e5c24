// Locate the OCI runtime binary. A missing runtime is a setup problem, so the
// error says which package provides it.
import { access, constants } from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../util/errors.js";

export type RuntimeName = "runc" | "crun";

export async function findRuntime(name: RuntimeName, searchPath = process.env.PATH ?? ""): Promise<string> {
  for (const dir of searchPath.split(":").filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  throw new KilnError("NO_RUNTIME", `no OCI runtime found: "${name}" is not on PATH`, {
    hint: `install it (Debian: apt-get install ${name}) or pick another with --runtime`,
  });
}
