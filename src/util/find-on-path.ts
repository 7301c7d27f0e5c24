// Finding a program on PATH without running it (the runtime, newuidmap,
// fuse-overlayfs, pigz...): the first executable of that name.
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
