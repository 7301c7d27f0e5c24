// buildPlatforms(options): one build per target platform, then one OCI image
// index naming each platform's image (as `buildx build --platform a,b`).
//
// The platforms build at the same time, in this process, sharing what makes
// that safe and cheap (options.ts PlatformShare): one --jobs semaphore, so
// `--jobs N` bounds the steps of the whole build; one in-flight map, so a
// stage that does not depend on the target (`FROM --platform=$BUILDPLATFORM`)
// runs once, the other platform waiting for its cache record instead of
// running it again (inflight-steps.ts); one stop signal, so the first
// failure stops every platform and is the error reported. Results are
// gathered in the order the user gave the platforms, so the index (and its
// digest) is the one a one-after-the-other build would write. Each
// per-platform build tags nothing; the index is written and tagged at the
// end, then the outputs are written from it.
import { availableParallelism } from "node:os";
import path from "node:path";
import { exportCache } from "../cache/export-cache.js";
import { StepRecords } from "../cache/records.js";
import { StatMemo } from "../cache/stat-memo.js";
import { exportOciIndexLayout } from "../export/oci-layout.js";
import { indexEntry, putIndex } from "../export/image-index.js";
import { toDockerMediaTypes } from "../export/docker-media-types.js";
import type { Descriptor } from "../oci/descriptor.js";
import { formatPlatform, normalizePlatform, parsePlatform, type Platform } from "../oci/platform.js";
import { familiarReference, normalizeReference, parseReference } from "../oci/reference.js";
import { GC_LOCK, Lease } from "../store/leases.js";
import { withStoreLock } from "../store/lock.js";
import { SnapshotIndex } from "../store/snapshot-index.js";
import { KilnError } from "../util/errors.js";
import { Semaphore } from "../util/semaphore.js";
import type { Digest } from "../oci/digest.js";
import { attestationEntries, wantsAttestations, writeLocalAttestations, type AttestationOptions, type BuildParameters } from "../attest/attach.js";
import { build, type BuildResult } from "./build.js";
import { ignoreEvents } from "./events.js";
import { InflightSteps } from "./inflight-steps.js";
import { annotationsFor, buildRegistryAccess, type BuildOptions, type Output, type PlatformShare } from "./options.js";
import { DEFAULT_NETWORK } from "../exec/runtime-spec.js";

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
  // Refused before any step runs, not after the build.
  if (wantsAttestations(opts.attestations) && opts.ociMediaTypes === false) {
    throw new KilnError("USAGE", "attestations need OCI media types: a Docker manifest list cannot hold them", { hint: "drop oci-mediatypes=false, or add --provenance=false --sbom=false" });
  }
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
  const attestParams: BuildParameters = {
    tags,
    buildArgs: opts.buildArgs ?? {},
    ...(opts.target !== undefined ? { target: opts.target } : {}),
    secretIds: (opts.secrets ?? []).map((s) => s.id),
    network: opts.network ?? DEFAULT_NETWORK,
    ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
  };
  const blobOutputs = outputs.filter((o) => o.kind !== "local" && o.kind !== "tar");
  if (multi && outputs.some((o) => o.kind === "tar")) throw new KilnError("USAGE", "--output type=tar takes one platform", { hint: "use type=local (one folder per platform) or type=oci" });
  const needIndex = tags.length > 0 || blobOutputs.length > 0 || outputs.length === 0;
  // Files this run creates are protected from a concurrent prune until the
  // index names them (a lease covers everything newer than itself).
  const lease = await Lease.open(opts.store.paths);
  // The first failure stops every platform's running steps.
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();
  try {
    const memo = await StatMemo.load(path.join(opts.store.paths.cache, "stat-memo.json"));
    let eventId = 0;
    const share: Omit<PlatformShare, "exportKeys"> = {
      jobs: new Semaphore(opts.jobs ?? availableParallelism()),
      inflight: new InflightSteps(),
      memo,
      nextEventId: () => ++eventId,
      serial: new Semaphore(1),
      emptyCacheMounts: new Set<string>(),
    };
    // --cache-to: each platform's keys, exported once, in platform order, at the end.
    const cacheKeys: Digest[][] = platforms.map(() => []);
    const { platforms: _p, signal: _s, ...rest } = opts;
    const buildOne = async (platform: Platform, i: number): Promise<PlatformBuild> => {
      if (multi) emit({ kind: "info", message: `building for ${formatPlatform(platform)}` });
      // type=local with several platforms: one folder per platform, as buildx (dest/linux_arm64/).
      const local: Output[] = outputs
        .filter((o) => o.kind === "local" || o.kind === "tar")
        .map((o) => (o.kind === "tar" ? o : { kind: "local", dest: multi ? path.join(o.dest, formatPlatform(platform).replaceAll("/", "_")) : o.dest }));
      const common = {
        ...rest,
        platform,
        signal: stop.signal,
        multiPlatform: { ...share, exportKeys: (keys: readonly Digest[]) => cacheKeys[i]!.push(...keys) },
        // Nothing tagged per platform.
        tags: [],
      };
      // A per-platform image is needed only for the index (an empty output list makes build() write one).
      const result = await build({ ...common, outputs: needIndex ? [] : local });
      // build() makes no image when asked only for files, so with a tag or an
      // image output as well the files come from a second, fully cached, pass.
      if (needIndex && local.length) await build({ ...common, outputs: local });
      if (wantsAttestations(opts.attestations)) {
        for (const o of local) await writeLocalAttestations(opts.store, o.dest, { platform, layers: result.layers, trace: result.trace }, attestParams, opts.attestations);
      }
      return { platform, ...(result.manifest ? { manifest: result.manifest } : {}), result };
    };
    let firstError: { err: unknown } | undefined;
    const settled = await Promise.allSettled(
      platforms.map((p, i) =>
        buildOne(p, i).catch((err: unknown) => {
          // The error the user sees is the one that happened first; the other
          // platforms, stopped by it, fail with INTERRUPTED after it.
          firstError ??= { err };
          stop.abort();
          throw err;
        }),
      ),
    );
    // Every platform has stopped and unmounted by now (allSettled).
    if (firstError) throw firstError.err;
    const built = creditFirstPlatform(settled.map((r) => (r as PromiseFulfilledResult<PlatformBuild>).value));
    await memo.save(opts.store.paths.tmp);
    if (opts.cacheTo) {
      const cacheTo = opts.cacheTo;
      const records = new StepRecords(opts.store.paths.cache, opts.store.paths.tmp);
      const snapshots = new SnapshotIndex(opts.store.paths.snapshots);
      const c = await withStoreLock(opts.store.root, () => exportCache(opts.store, snapshots, records, cacheKeys.flat(), cacheTo, buildRegistryAccess(opts)), { name: GC_LOCK });
      const to = cacheTo.to;
      emit({ kind: "info", message: `exported cache to ${to.kind === "local" ? to.dir : to.ref}: ${c.records} records, ${c.mounts} cache mounts (${c.manifest.digest})` });
    }
    const executed = built.reduce((n, b) => n + b.result.executed, 0);
    const cached = built.reduce((n, b) => n + b.result.cached, 0);
    if (!needIndex) return { tags, platforms: built, executed, cached };
    const images = built.map((b) => {
      if (!b.manifest) throw new Error(`internal: no manifest for ${formatPlatform(b.platform)}`);
      return { platform: b.platform, manifest: b.manifest, layers: b.result.layers, trace: b.result.trace };
    });
    const entries = images.map((i) => indexEntry(i.manifest, i.platform, annotationsFor(opts.annotations, "manifest-descriptor", i.platform)));
    if (wantsAttestations(opts.attestations)) {
      emit({ kind: "info", message: `attesting ${[opts.attestations.provenance ? `provenance (mode=${opts.attestations.provenance.mode})` : "", opts.attestations.sbom ? "sbom" : ""].filter(Boolean).join(" and ")}` });
      entries.push(...(await attestationEntries(opts.store, images, attestParams, opts.attestations)));
    }
    const index = await withStoreLock(
      opts.store.root,
      async () => {
        const oci = await putIndex(opts.store, entries, annotationsFor(opts.annotations, "index", undefined));
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
    opts.signal?.removeEventListener("abort", onOuterAbort);
    await lease.release();
  }
}

/**
 * A step the platforms share ran once, in whichever platform's build reached
 * it first: a matter of scheduling. It is reported as a one-after-the-other
 * build reports it, run by the first platform (in the order given) that
 * uses it and cached for the others, so the per-platform counts and the
 * provenance's `cached` facts do not change from one run to the next.
 * (The progress output still says which build really ran it.)
 */
function creditFirstPlatform(built: readonly PlatformBuild[]): PlatformBuild[] {
  const uses = new Map<Digest, { p: number; s: number; cached: boolean }[]>();
  built.forEach((b, p) =>
    b.result.trace.steps.forEach((st, s) => {
      if (st.key) uses.set(st.key, [...(uses.get(st.key) ?? []), { p, s, cached: st.cached }]);
    }),
  );
  const flips = new Map<string, boolean>(); // "platform/step" -> cached
  for (const u of uses.values()) {
    const ran = u.filter((x) => !x.cached);
    // Run by several (--no-cache) or by none (all cached before): nothing to credit.
    if (ran.length !== 1 || ran[0] === u[0]) continue;
    flips.set(`${u[0]!.p}/${u[0]!.s}`, false);
    flips.set(`${ran[0]!.p}/${ran[0]!.s}`, true);
  }
  if (flips.size === 0) return [...built];
  return built.map((b, p) => {
    let moreRun = 0;
    const steps = b.result.trace.steps.map((st, s) => {
      const cached = flips.get(`${p}/${s}`);
      if (cached === undefined) return st;
      moreRun += cached ? -1 : 1;
      return { ...st, cached };
    });
    if (moreRun === 0 && steps.every((st, s) => st === b.result.trace.steps[s])) return b;
    const result = { ...b.result, executed: b.result.executed + moreRun, cached: b.result.cached - moreRun, trace: { ...b.result.trace, steps } };
    return { ...b, result };
  });
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
