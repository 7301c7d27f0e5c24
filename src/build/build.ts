// build(options): Dockerfile + context -> images for one or more platforms,
// in the store and in every output asked for (OCI layout, docker tar, local
// files, tar, registry pushes), with attestations and cache import/export.
// The one entry point: the CLI's `kiln build` and library users call it.
//
// The platforms build at the same time in one session (session.ts), so
// `--jobs N` bounds the whole build, a step they share runs once, and the
// first failure stops every platform and is the error reported. Results are
// gathered in the order the platforms were given, so the index (and its
// digest) is the one a one-after-the-other build would write.
import { exportCache } from "../cache/export-cache.js";
import { importCache } from "../cache/import-cache.js";
import { wantsAttestations } from "../attest/attach.js";
import type { Descriptor } from "../oci/descriptor.js";
import type { Digest } from "../oci/digest.js";
import { formatPlatform, hostPlatform, uniquePlatforms } from "../oci/platform.js";
import { KilnError } from "../util/errors.js";
import { buildPlatform, type PlatformRun } from "./build-platform.js";
import { deliver, type PlatformBuild, type PushedImage, type WrittenOutput } from "./deliver.js";
import { buildRegistryAccess, type BuildOptions } from "./options.js";
import { openSession, type BuildSession } from "./session.js";

export type { PlatformBuild, PushedImage, WrittenOutput } from "./deliver.js";

/**
 * The build: as a PlatformBuild whose counts are summed and stages united
 * over the platforms, and whose config, layers and trace are the first
 * platform's; with what was tagged, exported and pushed.
 */
export interface BuildResult extends Omit<PlatformBuild, "platform" | "manifest"> {
  /** What the build tagged and exported: the image manifest, or the image index. Absent when only files were asked for. */
  readonly manifest?: Descriptor;
  /** The image index, when one was made (several platforms, attestations, oci-mediatypes=false). */
  readonly index?: Descriptor;
  readonly tags: readonly string[];
  /** Each platform, in the order given. */
  readonly platforms: readonly PlatformBuild[];
  /** Registry outputs, in the order given. */
  readonly pushed: readonly PushedImage[];
  /** File outputs as written (type=local per platform). */
  readonly outputs: readonly WrittenOutput[];
}

export async function build(opts: BuildOptions): Promise<BuildResult> {
  const platforms = uniquePlatforms(opts.platforms?.length ? opts.platforms : [hostPlatform()]);
  refuseImpossibleOutputs(opts, platforms.length);
  // Attestations live in an image index, so an attested single-platform
  // build makes an index of one image (as buildx does).
  const asIndex = platforms.length > 1 || wantsAttestations(opts.attestations) || opts.ociMediaTypes === false;
  const s = await openSession(opts, asIndex);
  try {
    await importCaches(opts, s);
    const settled = await Promise.allSettled(
      platforms.map((p) => {
        if (platforms.length > 1) s.emit({ kind: "info", message: `building for ${formatPlatform(p)}` });
        return buildPlatform(opts, s, p).catch((err: unknown) => {
          s.fail(err);
          throw err;
        });
      }),
    );
    // Every platform has stopped and unmounted by now (allSettled). The error
    // the user sees is the one that happened first; the other platforms,
    // stopped by it, failed with INTERRUPTED after it.
    if (s.firstError) throw s.firstError.err;
    const failed = settled.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    const runs = creditFirstPlatform(settled.map((r) => (r as PromiseFulfilledResult<PlatformRun>).value));
    await s.memo.save(opts.store.paths.tmp);
    const used = new Set(runs.flatMap((r) => [...r.usedArgs]));
    for (const name of Object.keys(opts.buildArgs ?? {})) {
      if (!used.has(name)) s.emit({ kind: "warning", message: `build-arg ${name} was not consumed by any ARG in the Dockerfile` });
    }
    if (opts.cacheTo) await exportCaches(opts, s, runs.flatMap((r) => r.keys));
    const out = await deliver(opts, s, runs, asIndex);
    const first = out.platforms[0]!;
    return {
      ...out,
      config: first.config,
      executed: runs.reduce((n, r) => n + r.executed, 0),
      cached: runs.reduce((n, r) => n + r.cached, 0),
      stages: [...new Set(runs.flatMap((r) => r.stages))].sort((a, b) => a - b),
      layers: first.layers,
      trace: first.trace,
    };
  } finally {
    await s.close();
  }
}

/** Refused before any step runs, not after the build. */
function refuseImpossibleOutputs(opts: BuildOptions, platformCount: number): void {
  const outputs = opts.outputs ?? [];
  if (wantsAttestations(opts.attestations) && opts.ociMediaTypes === false) {
    throw new KilnError("USAGE", "attestations need OCI media types: a Docker manifest list cannot hold them", { hint: "drop oci-mediatypes=false, or add --provenance=false --sbom=false" });
  }
  if (platformCount < 2) return;
  if (outputs.some((o) => o.kind === "docker")) {
    // docker's own words: a docker-load tarball holds one platform.
    throw new KilnError("DOCKER_EXPORT_MULTI_PLATFORM", "docker exporter does not currently support exporting manifest lists", {
      hint: "build one platform for --output type=docker, or use --output type=oci for all of them",
    });
  }
  if (outputs.some((o) => o.kind === "tar")) throw new KilnError("USAGE", "--output type=tar takes one platform", { hint: "use type=local (one folder per platform) or type=oci" });
}

/** --cache-from, once for all platforms; its layers are fetched when a hit first needs them. */
async function importCaches(opts: BuildOptions, s: BuildSession): Promise<void> {
  for (const from of opts.cacheFrom ?? []) {
    const r = await importCache(s.store, s.records, from, s.cacheLayers, buildRegistryAccess(opts));
    s.emit({ kind: "info", message: `imported cache from ${from.kind === "local" ? from.dir : from.ref}: ${r.records} new records, ${r.layers} layers, ${r.mounts} cache mounts` });
  }
}

/** --cache-to: every platform's keys, exported once, in platform order. */
async function exportCaches(opts: BuildOptions, s: BuildSession, keys: readonly Digest[]): Promise<void> {
  const cacheTo = opts.cacheTo!;
  const c = await s.gcLocked(() => exportCache(s.store, s.snapshots, s.records, [...keys], cacheTo, buildRegistryAccess(opts)));
  const to = cacheTo.to;
  s.emit({ kind: "info", message: `exported cache to ${to.kind === "local" ? to.dir : to.ref}: ${c.records} records, ${c.mounts} cache mounts (${c.manifest.digest})` });
}

/**
 * A step the platforms share ran once, in whichever platform's build reached
 * it first: a matter of scheduling. It is reported as a one-after-the-other
 * build reports it, run by the first platform (in the order given) that
 * uses it and cached for the others, so the per-platform counts and the
 * provenance's `cached` facts do not change from one run to the next.
 * (The progress output still says which build really ran it.)
 */
function creditFirstPlatform(runs: readonly PlatformRun[]): PlatformRun[] {
  const uses = new Map<Digest, { p: number; s: number; cached: boolean }[]>();
  runs.forEach((b, p) =>
    b.trace.steps.forEach((st, s) => {
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
  if (flips.size === 0) return [...runs];
  return runs.map((b, p) => {
    let moreRun = 0;
    const steps = b.trace.steps.map((st, s) => {
      const cached = flips.get(`${p}/${s}`);
      if (cached === undefined) return st;
      moreRun += cached ? -1 : 1;
      return { ...st, cached };
    });
    if (moreRun === 0 && steps.every((st, s) => st === b.trace.steps[s])) return b;
    return { ...b, executed: b.executed + moreRun, cached: b.cached - moreRun, trace: { ...b.trace, steps } };
  });
}
