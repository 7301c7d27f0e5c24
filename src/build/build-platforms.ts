// buildPlatforms(options): one build per target platform, then one OCI image
// index naming each platform's image (as `buildx build --platform a,b`).
//
// The platforms are built one after the other. Stages that do not depend on
// the target (`FROM --platform=$BUILDPLATFORM`) run once: the second
// platform's build finds their steps in the build cache (same base, same
// inputs) and reuses them. Each per-platform build tags nothing; the index is
// written and tagged at the end, then the outputs are written from it.
import path from "node:path";
import { exportOciIndexLayout } from "../export/oci-layout.js";
import { indexEntry, putIndex } from "../export/image-index.js";
import { toDockerMediaTypes } from "../export/docker-media-types.js";
import type { Descriptor } from "../oci/descriptor.js";
import { formatPlatform, normalizePlatform, parsePlatform, type Platform } from "../oci/platform.js";
import { familiarReference, normalizeReference, parseReference } from "../oci/reference.js";
import { GC_LOCK, Lease } from "../store/leases.js";
import { withStoreLock } from "../store/lock.js";
import { KilnError } from "../util/errors.js";
import { attestationEntries, wantsAttestations, type AttestationOptions } from "../attest/attach.js";
import { build, type BuildResult } from "./build.js";
import { ignoreEvents } from "./events.js";
import type { BuildOptions, Output } from "./options.js";

export interface MultiPlatformOptions extends Omit<BuildOptions, "platform"> {
  readonly platforms: readonly Platform[];
  /** false: tag and export a Docker manifest list instead of an OCI index (buildx's oci-mediatypes=false). */
  readonly ociMediaTypes?: boolean;
  /** Provenance and SBOM attestation manifests in the index (--provenance, --sbom). */
  readonly attestations?: AttestationOptions;
}

export interface PlatformBuild {
  readonly platform: Platform;
  /** The platform's image manifest (absent when only local files were asked for). */
  readonly manifest?: Descriptor;
  readonly result: BuildResult;
}

export interface MultiPlatformResult {
  /** The image index (absent when only `type=local` outputs were asked for and no tag). */
  readonly index?: Descriptor;
  readonly tags: readonly string[];
  readonly platforms: readonly PlatformBuild[];
  /** Steps run and answered by the cache, over all platforms. */
  readonly executed: number;
  readonly cached: number;
}

/** "linux/amd64,linux/arm64" as the user wrote it, deduplicated, order kept. */
export function uniquePlatforms(platforms: readonly Platform[]): Platform[] {
  const seen = new Set<string>();
  const out: Platform[] = [];
  for (const p of platforms.map(normalizePlatform)) {
    const k = formatPlatform(p);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(p);
    }
  }
  return out;
}

export async function buildPlatforms(opts: MultiPlatformOptions): Promise<MultiPlatformResult> {
  const platforms = uniquePlatforms(opts.platforms);
  if (platforms.length === 0) throw new KilnError("USAGE", "--platform needs at least one platform", { hint: "e.g. --platform linux/amd64,linux/arm64" });
  const outputs = opts.outputs ?? [];
  const multi = platforms.length > 1;
  if (multi && outputs.some((o) => o.kind === "docker")) {
    // docker's own words: a docker-load tarball holds one platform.
    throw new KilnError("DOCKER_EXPORT_MULTI_PLATFORM", "docker exporter does not currently support exporting manifest lists", {
      hint: "build one platform for --output type=docker, or use --output type=oci for all of them",
    });
  }
  const emit = opts.onEvent ?? ignoreEvents;
  const tags = (opts.tags ?? []).map(normalizeReference);
  const blobOutputs = outputs.filter((o) => o.kind !== "local");
  const needIndex = tags.length > 0 || blobOutputs.length > 0 || outputs.length === 0;
  // Files this run creates are protected from a concurrent prune until the
  // index names them (a lease covers everything newer than itself).
  const lease = await Lease.open(opts.store.paths);
  try {
    const built: PlatformBuild[] = [];
    for (const platform of platforms) {
      if (multi) emit({ kind: "info", message: `building for ${formatPlatform(platform)}` });
      // type=local with several platforms: one folder per platform, as buildx (dest/linux_arm64/).
      const local: Output[] = outputs
        .filter((o) => o.kind === "local")
        .map((o) => ({ kind: "local", dest: multi ? path.join(o.dest, formatPlatform(platform).replaceAll("/", "_")) : o.dest }));
      const { platforms: _p, ...rest } = opts;
      const result = await build({
        ...rest,
        platform,
        // Nothing tagged per platform; a per-platform image is needed only
        // for the index (an empty output list makes build() write one).
        tags: [],
        outputs: needIndex ? [] : local,
      });
      // build() makes no image when asked only for files, so with a tag or an
      // image output as well the files come from a second, fully cached, pass.
      if (needIndex && local.length) await build({ ...rest, platform, tags: [], outputs: local });
      built.push({ platform, ...(result.manifest ? { manifest: result.manifest } : {}), result });
    }
    const executed = built.reduce((n, b) => n + b.result.executed, 0);
    const cached = built.reduce((n, b) => n + b.result.cached, 0);
    if (!needIndex) return { tags, platforms: built, executed, cached };
    const images = built.map((b) => {
      if (!b.manifest) throw new Error(`internal: no manifest for ${formatPlatform(b.platform)}`);
      return { platform: b.platform, manifest: b.manifest, layers: b.result.layers, trace: b.result.trace };
    });
    const entries = images.map((i) => indexEntry(i.manifest, i.platform));
    if (wantsAttestations(opts.attestations)) {
      if (opts.ociMediaTypes === false) throw new KilnError("USAGE", "attestations need OCI media types: a Docker manifest list cannot hold them", { hint: "drop oci-mediatypes=false, or add --provenance=false --sbom=false" });
      emit({ kind: "info", message: `attesting ${[opts.attestations.provenance ? `provenance (mode=${opts.attestations.provenance.mode})` : "", opts.attestations.sbom ? "sbom" : ""].filter(Boolean).join(" and ")}` });
      entries.push(
        ...(await attestationEntries(
          opts.store,
          images,
          {
            tags,
            buildArgs: opts.buildArgs ?? {},
            ...(opts.target !== undefined ? { target: opts.target } : {}),
            secretIds: (opts.secrets ?? []).map((s) => s.id),
            network: opts.network ?? "none",
            ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
          },
          opts.attestations,
        )),
      );
    }
    const index = await withStoreLock(
      opts.store.root,
      async () => {
        const oci = await putIndex(opts.store, entries);
        const idx = opts.ociMediaTypes === false ? await toDockerMediaTypes(opts.store, oci) : oci;
        for (const t of tags) await opts.store.tag(t, idx);
        return idx;
      },
      { name: GC_LOCK },
    );
    const name = tags[0] ? familiarReference(parseReference(tags[0])) : undefined;
    for (const o of blobOutputs) {
      if (o.kind === "oci") {
        await exportOciIndexLayout({
          store: opts.store,
          index,
          dest: o.dest,
          tar: o.tar,
          ...(name ? { name } : {}),
          ...(opts.sourceDateEpoch !== undefined ? { mtime: opts.sourceDateEpoch } : {}),
        });
      } else if (o.kind === "docker") {
        // One platform: the docker archive of its image.
        const { exportDockerArchive } = await import("../export/docker-archive.js");
        const img = await opts.store.resolveImage(built[0]!.manifest!.digest, platforms[0]);
        if (!img) throw new Error("internal: built image not in the store");
        await exportDockerArchive({ store: opts.store, image: img, dest: o.dest, repoTags: tags.map((t) => familiarReference(parseReference(t))) });
      }
    }
    return { index, tags, platforms: built, executed, cached };
  } finally {
    await lease.release();
  }
}

/**
 * The multi-platform result in build()'s shape, for callers that print one
 * result (the CLI): `manifest` is the index, `config` the first platform's,
 * counts summed, stages the union.
 */
export function asBuildResult(r: MultiPlatformResult): BuildResult {
  const first = r.platforms[0]!.result;
  return {
    ...(r.index ? { manifest: r.index } : {}),
    config: first.config,
    tags: r.tags,
    executed: r.executed,
    cached: r.cached,
    stages: [...new Set(r.platforms.flatMap((p) => p.result.stages))].sort((a, b) => a - b),
    layers: first.layers,
    trace: first.trace,
  };
}

/** `--platform linux/amd64,linux/arm64` (also repeated flags) -> platforms, deduplicated. */
export function parsePlatformList(values: readonly string[]): Platform[] {
  return uniquePlatforms(values.flatMap((v) => v.split(",")).map((s) => s.trim()).filter(Boolean).map(parsePlatform));
}
