// Finding helper programs on PATH without running them.
import { access, constants } from "node:fs/promises";
import path from "node:path";

export async function findOnPath(name: string, searchPath = process.env.PATH ?? ""): Promise<string | undefined> {
  for (const dir of searchPath.split(":").filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
