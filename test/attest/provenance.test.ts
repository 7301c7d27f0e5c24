// The provenance predicate from a build trace: what goes in, what never
// does, and what a reproducible build makes deterministic.
import { describe, expect, it } from "vitest";
import { contextDigest, provenancePredicate, type ProvenanceInput } from "../../src/attest/provenance.js";
import type { StepTrace } from "../../src/attest/build-trace.js";
import { sha256Digest, type Digest } from "../../src/oci/digest.js";

const hex = (s: string) => sha256Digest(s).slice(7);
const copy = (files: Record<string, string>): StepTrace => ({ stage: 0, instruction: "COPY . /src", line: 2, cached: false, key: sha256Digest("k"), layer: sha256Digest("l"), files });

function input(over: Partial<ProvenanceInput> = {}): ProvenanceInput {
  return {
    mode: "max",
    trace: {
      startedOn: "2026-01-01T00:00:00.000Z",
      finishedOn: "2026-01-01T00:00:05.000Z",
      dockerfile: { path: "Dockerfile", digest: sha256Digest("FROM busybox\n") },
      bases: [{ ref: "busybox:latest", digest: sha256Digest("m") as Digest, platform: { os: "linux", architecture: "arm64" } }],
      steps: [copy({ "a.txt": `644 1000:1000 file:${hex("a")}` })],
    },
    platform: { os: "linux", architecture: "arm64" },
    buildArgs: { VERSION: "2", HTTPS_PROXY: "http://user:pass@proxy:3128", no_proxy: "x" },
    secretIds: ["npm", "aws"],
    builderId: "https://kiln.dev/builder",
    kilnVersion: "0.1.0",
    builderPlatform: { os: "linux", architecture: "amd64" },
    network: "none",
    ...over,
  };
}

describe("provenance predicate", () => {
  it("records build args but never proxy variables (they carry credentials), and secret ids only", () => {
    const p = provenancePredicate(input());
    const req = p.buildDefinition.externalParameters.request as { args: Record<string, string>; secrets: { id: string }[] };
    expect(req.args).toEqual({ "build-arg:VERSION": "2", platform: "linux/arm64" });
    expect(req.secrets).toEqual([{ id: "aws" }, { id: "npm" }]);
    expect(JSON.stringify(p)).not.toContain("user:pass");
  });

  it("names each base by purl with its platform and resolved digest", () => {
    const deps = provenancePredicate(input()).buildDefinition.resolvedDependencies;
    expect(deps[0]).toEqual({ uri: "pkg:docker/busybox@latest?platform=linux%2Farm64", digest: { sha256: hex("m") } });
    expect(deps[1]!.name).toBe("context");
  });

  it("mode=min has no step list; mode=max lists steps with materials", () => {
    expect(provenancePredicate(input({ mode: "min" })).buildDefinition.internalParameters.buildConfig).toBeUndefined();
    const steps = (provenancePredicate(input()).buildDefinition.internalParameters.buildConfig as { steps: Record<string, unknown>[] }).steps;
    expect(steps[0]).toMatchObject({ instruction: "COPY . /src", location: { file: "Dockerfile", line: 2 }, cached: false, materials: [{ name: "context/a.txt", digest: { sha256: hex("a") } }] });
  });

  it("a step that read thousands of files lists 500 and says how many more", () => {
    const files = Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`f${String(i).padStart(4, "0")}`, `644 0:0 file:${hex(String(i))}`]));
    const steps = (provenancePredicate(input({ trace: { ...input().trace, steps: [copy(files)] } })).buildDefinition.internalParameters.buildConfig as { steps: Record<string, unknown>[] }).steps;
    expect((steps[0]!.materials as unknown[]).length).toBe(500);
    expect(steps[0]!.materialsOmitted).toBe(700);
  });

  it("without SOURCE_DATE_EPOCH every invocation is its own; with it the predicate is a function of the inputs (no cache facts)", () => {
    expect(provenancePredicate(input()).runDetails.metadata.invocationID).not.toBe(provenancePredicate(input()).runDetails.metadata.invocationID);
    const a = provenancePredicate(input({ sourceDateEpoch: 1700000000 }));
    const cachedRebuild = input({ sourceDateEpoch: 1700000000 });
    const b = provenancePredicate({ ...cachedRebuild, trace: { ...cachedRebuild.trace, steps: [{ ...copy({ "a.txt": `644 0:0 file:${hex("a")}` }), cached: true, key: sha256Digest("other") }] } });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(a)).not.toContain('"cached"');
  });

  it("the context digest covers paths, modes and content, not the checkout's owner", () => {
    const base = contextDigest([copy({ "a.txt": `644 1000:1000 file:${hex("a")}` })]);
    expect(contextDigest([copy({ "a.txt": `644 0:0 file:${hex("a")}` })])).toBe(base);
    expect(contextDigest([copy({ "a.txt": `755 0:0 file:${hex("a")}` })])).not.toBe(base);
    expect(contextDigest([copy({ "b.txt": `644 0:0 file:${hex("a")}` })])).not.toBe(base);
    expect(contextDigest([copy({ "a.txt": `644 0:0 file:${hex("b")}` })])).not.toBe(base);
    expect(contextDigest([])).toBeUndefined();
  });
});
