// Where the local store lives. The environment is passed in (defaulting to
// this process's) so callers and tests can resolve a root without mutating
// process.env.
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KILN_ROOT) return resolve(env.KILN_ROOT);
  if (env.XDG_DATA_HOME) return resolve(env.XDG_DATA_HOME, "kiln");
  return join(env.HOME || homedir(), ".local", "share", "kiln");
}

/** The folders of a store root. The OCI layout itself is root/oci-layout,
 * root/index.json and root/blobs; the rest sit beside it and are ignored by
 * skopeo and umoci. */
export interface StorePaths {
  readonly root: string;
  readonly blobs: string;
  readonly snapshots: string;
  readonly cache: string;
  readonly tmp: string;
  readonly locks: string;
  readonly index: string;
  readonly layout: string;
}

export function storePaths(root: string): StorePaths {
  return {
    root,
    blobs: join(root, "blobs"),
    snapshots: join(root, "snapshots"),
    cache: join(root, "cache"),
    tmp: join(root, "tmp"),
    locks: join(root, "locks"),
    index: join(root, "index.json"),
    layout: join(root, "oci-layout"),
  };
}
