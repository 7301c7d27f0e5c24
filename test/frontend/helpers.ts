// Shared by the frontend tests: build a Dockerfile over a small context
// with the real CLI, into a local rootfs and/or an OCI layout.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { kiln, type CliResult } from "../helpers/kiln.js";
import { writeContext } from "../helpers/workspace.js";

export interface Built extends CliResult {
  readonly out: string;
  readonly oci: string;
  readonly ctx: string;
}

export async function buildIn(
  root: string,
  work: string,
  name: string,
  dockerfile: string,
  files: Record<string, string> = {},
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<Built> {
  const ctx = await writeContext(path.join(work, name, "ctx"), { Dockerfile: dockerfile, ...files });
  const out = path.join(work, name, "rootfs");
  const oci = path.join(work, name, "oci");
  const r = await kiln(
    ["--root", root, "build", "--progress", "plain", "--output", `type=local,dest=${out}`, "--output", `type=oci,dest=${oci},tar=false`, ...extraArgs, ctx],
    env,
  );
  return { ...r, out, oci, ctx };
}

/** The image config written to an OCI layout by a build. */
export async function ociConfig(oci: string): Promise<Record<string, any>> {
  const index = JSON.parse(await readFile(path.join(oci, "index.json"), "utf8"));
  const blob = (d: string) => readFile(path.join(oci, "blobs", ...d.split(":")), "utf8");
  const manifest = JSON.parse(await blob(index.manifests[0].digest));
  return JSON.parse(await blob(manifest.config.digest));
}

/** Every layer of an OCI layout, uncompressed, concatenated (for "is X anywhere in a layer" checks). */
export async function allLayerBytes(oci: string): Promise<Buffer> {
  const index = JSON.parse(await readFile(path.join(oci, "index.json"), "utf8"));
  const manifest = JSON.parse(await readFile(path.join(oci, "blobs", ...index.manifests[0].digest.split(":")), "utf8"));
  const parts: Buffer[] = [];
  for (const l of manifest.layers) {
    const raw = await readFile(path.join(oci, "blobs", ...l.digest.split(":")));
    parts.push(l.mediaType.endsWith("gzip") ? gunzipSync(raw) : raw);
  }
  return Buffer.concat(parts);
}

/** Paths of every entry under dir, relative, sorted. */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) await walk(path.join(d, e.name), r);
    }
  };
  await walk(dir, "");
  return out.sort();
}
