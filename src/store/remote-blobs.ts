// Blobs an image in the store names but the store does not hold: they are
// in a registry (a base image's layers, a --cache-from layer) and nothing
// has needed their bytes yet. A build that is pushed next leaves them there
// (the push mounts or skips them, as BuildKit's lazy refs do), and whatever
// needs the bytes later (an export, `kiln save`, a RUN on top) fetches them
// from the origin recorded here: cache/remote-blobs/<hex>.json.
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { digestHex, type Digest } from "../oci/digest.js";
import { writeFileDurable } from "./durable-file.js";
import type { StorePaths } from "./root.js";

/** A repository of a registry that holds the blob (by registry name, as in references: mirrors apply). */
export interface RemoteOrigin {
  readonly registry: string;
  readonly repository: string;
}

function recordPath(paths: StorePaths, digest: Digest): string {
  return path.join(paths.cache, "remote-blobs", `${digestHex(digest)}.json`);
}

export async function recordRemoteBlob(paths: StorePaths, digest: Digest, origin: RemoteOrigin): Promise<void> {
  const p = recordPath(paths, digest);
  await mkdir(path.dirname(p), { recursive: true });
  await writeFileDurable(p, JSON.stringify({ registry: origin.registry, repository: origin.repository }), paths.tmp);
}

/** Where the blob can be fetched from, if the store knows (a ~60-byte file, read synchronously). */
export function remoteOrigin(paths: StorePaths, digest: Digest): RemoteOrigin | undefined {
  try {
    const o = JSON.parse(readFileSync(recordPath(paths, digest), "utf8")) as Partial<RemoteOrigin>;
    return typeof o.registry === "string" && typeof o.repository === "string" ? { registry: o.registry, repository: o.repository } : undefined;
  } catch {
    return undefined;
  }
}
