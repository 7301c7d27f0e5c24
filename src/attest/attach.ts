// The attestations of a build: for each platform image, its provenance and
// SBOM as in-toto statements in one attestation manifest, returned as the
// index entries that follow the images (BuildKit's order: images first).
import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { BuildTrace } from "./build-trace.js";
import { hashFile } from "../cache/content-digest.js";
import type { LayerRecord } from "../store/snapshot-index.js";
import { withRootfsView } from "../export/outputs.js";
import type { Descriptor } from "../oci/descriptor.js";
import { sha256Digest } from "../oci/digest.js";
import { hostPlatform, type Platform } from "../oci/platform.js";
import { GC_LOCK } from "../store/leases.js";
import { withStoreLock } from "../store/lock.js";
import { SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";
import { kilnVersion } from "../version.js";
import { putAttestationManifest, type AttestationForm } from "./attestation-manifest.js";
import { imageSubjects, PredicateType, statement, type Statement, type Subject } from "./in-toto.js";
import { DEFAULT_BUILDER_ID, provenancePredicate, type ProvenanceMode } from "./provenance.js";

export interface AttestationOptions {
  /** SLSA provenance (absent: none). */
  readonly provenance?: { readonly mode: ProvenanceMode; readonly builderId?: string };
  /** An SPDX SBOM of each platform's final filesystem. */
  readonly sbom?: boolean;
  /** "artifact" (default): OCI 1.1 artifact with `subject`; "legacy": BuildKit's older placeholder-config form. */
  readonly form?: AttestationForm;
}

export interface AttestedImage {
  readonly platform: Platform;
  readonly manifest: Descriptor;
  readonly layers: readonly LayerRecord[];
  readonly trace: BuildTrace;
}

export interface BuildParameters {
  readonly tags: readonly string[];
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly target?: string;
  readonly secretIds: readonly string[];
  readonly network: string;
  readonly sourceDateEpoch?: number;
}

export function wantsAttestations(o: AttestationOptions | undefined): o is AttestationOptions {
  return !!o && (!!o.provenance || !!o.sbom);
}

export async function attestationEntries(store: Store, images: readonly AttestedImage[], params: BuildParameters, opts: AttestationOptions): Promise<Descriptor[]> {
  const entries: Descriptor[] = [];
  for (const img of images) {
    const subject = imageSubjects(params.tags, img.platform, img.manifest.digest);
    const statements = await attestationStatements(store, img, subject, img.manifest.digest, params, opts);
    entries.push(await putAttestationManifest(store, img.manifest, statements, opts.form ?? "artifact"));
  }
  return entries;
}

/**
 * `--output type=local` with attestations: the statements as files beside
 * the exported root filesystem, as BuildKit's local exporter writes them
 * (provenance.json, sbom.spdx.json). There is no image, so the subjects are
 * the exported files themselves, each with its sha256.
 */
export async function writeLocalAttestations(store: Store, dest: string, img: Omit<AttestedImage, "manifest">, params: BuildParameters, opts: AttestationOptions): Promise<void> {
  const subject = await fileSubjects(dest);
  const seed = sha256Digest(JSON.stringify(subject));
  const statements = await attestationStatements(store, img, subject, seed, params, opts);
  for (const st of statements) {
    const name = st.predicateType === PredicateType.spdx ? "sbom.spdx.json" : "provenance.json";
    await writeFile(path.join(dest, name), `${JSON.stringify(st, null, 2)}\n`);
  }
}

/** One statement per attestation asked for, about `subject`. */
async function attestationStatements(
  store: Store,
  img: Omit<AttestedImage, "manifest">,
  subject: readonly Subject[],
  namespaceSeed: string,
  params: BuildParameters,
  opts: AttestationOptions,
): Promise<Statement[]> {
  const version = await kilnVersion();
  const statements: Statement[] = [];
  if (opts.provenance) {
    const predicate = provenancePredicate({
      mode: opts.provenance.mode,
      trace: img.trace,
      platform: img.platform,
      buildArgs: params.buildArgs,
      ...(params.target !== undefined ? { target: params.target } : {}),
      secretIds: params.secretIds,
      ...(params.sourceDateEpoch !== undefined ? { sourceDateEpoch: params.sourceDateEpoch } : {}),
      builderId: opts.provenance.builderId ?? DEFAULT_BUILDER_ID,
      kilnVersion: version,
      builderPlatform: hostPlatform(),
      network: params.network,
    });
    statements.push(statement(PredicateType.slsaProvenance, subject, predicate));
  }
  if (opts.sbom) {
    const { scanRootfs, spdxDocument } = await import("./sbom/index.js");
    const snapshots = new SnapshotIndex(store.paths.snapshots);
    // Under the GC lock: a prune must not remove a snapshot being read.
    const packages = await withStoreLock(store.root, () => withRootfsView(store, snapshots, img.layers, (dir) => scanRootfs(dir)), { name: GC_LOCK });
    const created = params.sourceDateEpoch !== undefined ? new Date(params.sourceDateEpoch * 1000).toISOString() : img.trace.finishedOn;
    const doc = spdxDocument({ name: params.tags[0] ?? "image", packages, created, namespaceSeed, creatorTool: `kiln-${version}` });
    statements.push(statement(PredicateType.spdx, subject, doc));
  }
  return statements;
}

/** Every regular file under `dir` (links not followed), by path relative to it, with its sha256; sorted. */
async function fileSubjects(dir: string): Promise<Subject[]> {
  const out: Subject[] = [];
  const buf = Buffer.allocUnsafe(1 << 20);
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(child);
      else if (e.isFile()) out.push({ name: child, digest: { sha256: await hashFile(path.join(dir, child), buf) } });
    }
  };
  await walk("");
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
