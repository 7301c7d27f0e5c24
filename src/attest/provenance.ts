// SLSA provenance v1 for one platform's image, from the build's trace.
// Pure: the same trace gives the same predicate.
//
// mode=min: who built it (builder id and version), from what (the
// Dockerfile's digest, the context's digest, every base image's resolved
// digest), with which parameters (build args, target, platform, secret ids
// — never a secret's value), and when. mode=max adds every step with its
// location, cache outcome, layer and the materials it read.
//
// Timestamps and the invocation id: with SOURCE_DATE_EPOCH the build promises
// the same digests anywhere, and the attestations are part of the pushed
// index, so the times are the epoch and the id is derived from the inputs.
// Without it they are the wall clock and a random id, as BuildKit records.
import { createHash, randomUUID } from "node:crypto";
import type { BuildTrace, StepTrace } from "./build-trace.js";
import { digestHex, type Digest } from "../oci/digest.js";
import { formatPlatform, type Platform } from "../oci/platform.js";
import { dockerPurl } from "./in-toto.js";

export const BUILD_TYPE = "https://kiln.dev/provenance/dockerfile/v1";
export const DEFAULT_BUILDER_ID = "https://kiln.dev/builder";

export type ProvenanceMode = "min" | "max";

export interface ProvenanceInput {
  readonly mode: ProvenanceMode;
  readonly trace: BuildTrace;
  readonly platform: Platform;
  /** --build-arg values as given; proxy variables are dropped here (they carry credentials). */
  readonly buildArgs: Readonly<Record<string, string>>;
  readonly target?: string;
  /** --secret ids. Values never come here. */
  readonly secretIds: readonly string[];
  readonly sourceDateEpoch?: number;
  readonly builderId: string;
  readonly kilnVersion: string;
  readonly builderPlatform: Platform;
  readonly network: string;
}

export interface ResourceDescriptor {
  readonly uri?: string;
  readonly name?: string;
  readonly digest: { readonly sha256: string };
}

export interface SlsaProvenance {
  readonly buildDefinition: {
    readonly buildType: string;
    readonly externalParameters: Record<string, unknown>;
    readonly internalParameters: Record<string, unknown>;
    readonly resolvedDependencies: readonly ResourceDescriptor[];
  };
  readonly runDetails: {
    readonly builder: { readonly id: string; readonly version: Record<string, string> };
    readonly metadata: { readonly invocationID: string; readonly startedOn: string; readonly finishedOn: string };
  };
}

const PROXY = /^(https?|ftp|no|all)_proxy$/i;
/** A step's material list stops here; its digest still covers every file. */
const MAX_MATERIALS_PER_STEP = 500;

export function provenancePredicate(p: ProvenanceInput): SlsaProvenance {
  const t = p.trace;
  const args = Object.fromEntries(
    Object.entries(p.buildArgs)
      .filter(([k]) => !PROXY.test(k))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => [`build-arg:${k}`, v]),
  );
  const context = contextDigest(t.steps);
  const externalParameters = {
    configSource: { path: t.dockerfile.path, digest: { sha256: digestHex(t.dockerfile.digest) } },
    request: {
      frontend: "dockerfile.v0",
      args: { ...args, ...(p.target ? { target: p.target } : {}), platform: formatPlatform(p.platform) },
      ...(p.secretIds.length ? { secrets: [...p.secretIds].sort().map((id) => ({ id })) } : {}),
    },
  };
  const internalParameters: Record<string, unknown> = {
    builderPlatform: formatPlatform(p.builderPlatform),
    network: p.network,
    ...(p.sourceDateEpoch !== undefined ? { sourceDateEpoch: String(p.sourceDateEpoch) } : {}),
    ...(p.mode === "max" ? { buildConfig: { steps: t.steps.map((s, i) => stepEntry(s, i, t.dockerfile.path, p.sourceDateEpoch === undefined)) } } : {}),
  };
  const resolvedDependencies: ResourceDescriptor[] = [
    ...t.bases.map((b) => ({ uri: `${dockerPurl(b.ref)}?platform=${encodeURIComponent(formatPlatform(b.platform))}`, digest: { sha256: digestHex(b.digest) } })),
    ...(context ? [{ name: "context", digest: { sha256: context } }] : []),
  ];
  const invocationID =
    p.sourceDateEpoch !== undefined
      ? createHash("sha256").update(JSON.stringify([externalParameters, resolvedDependencies, p.sourceDateEpoch])).digest("hex").slice(0, 32)
      : randomUUID();
  return {
    buildDefinition: { buildType: BUILD_TYPE, externalParameters, internalParameters, resolvedDependencies },
    runDetails: {
      builder: { id: p.builderId, version: { kiln: p.kilnVersion } },
      metadata: { invocationID, startedOn: t.startedOn, finishedOn: t.finishedOn },
    },
  };
}

/** The context as far as the build read it: every file any step read, path and content (owner left out: it is the checkout's, not the source's). */
export function contextDigest(steps: readonly StepTrace[]): string | undefined {
  const all = new Map<string, string>();
  for (const s of steps) for (const [rel, fp] of Object.entries(s.files ?? {})) all.set(rel, withoutOwner(fp));
  if (all.size === 0) return undefined;
  const h = createHash("sha256");
  for (const rel of [...all.keys()].sort()) h.update(`${rel}\0${all.get(rel)}\n`);
  return h.digest("hex");
}

// content-digest.ts fingerprints are "PERM UID:GID WHAT".
function withoutOwner(fp: string): string {
  const parts = fp.split(" ");
  return parts.length >= 3 ? [parts[0], ...parts.slice(2)].join(" ") : fp;
}

// Whether a step hit the cache, and its cache key (which hashes the context
// files' owners), say how this machine built the image, not what it is
// made of: a reproducible build (SOURCE_DATE_EPOCH) leaves them out, so a
// cached rebuild and another machine's cold build attest the same bytes.
function stepEntry(s: StepTrace, i: number, dockerfile: string, withCacheFacts: boolean): Record<string, unknown> {
  const materials: ResourceDescriptor[] = [];
  const files = Object.entries(s.files ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const [rel, fp] of files.slice(0, MAX_MATERIALS_PER_STEP)) {
    const hex = /file:([0-9a-f]{64})/.exec(fp)?.[1];
    if (hex) materials.push({ name: `context/${rel}`, digest: { sha256: hex } });
  }
  for (const m of (s.from ?? "").matchAll(/from:([^;]*?):(sha256:[0-9a-f]{64})/g)) {
    materials.push({ name: `from/${m[1]}`, digest: { sha256: digestHex(m[2] as Digest) } });
  }
  return {
    id: `step${i}`,
    stage: s.stageName ?? String(s.stage),
    instruction: s.instruction,
    location: { file: dockerfile, line: s.line },
    // Only filesystem steps consult the cache; metadata steps just apply.
    ...(withCacheFacts && (s.key || s.layer) ? { cached: s.cached } : {}),
    ...(withCacheFacts && s.key ? { cacheKey: s.key } : {}),
    ...(s.layer ? { layer: s.layer } : {}),
    ...(materials.length ? { materials } : {}),
    ...(files.length > MAX_MATERIALS_PER_STEP ? { materialsOmitted: files.length - MAX_MATERIALS_PER_STEP } : {}),
  };
}
