// One function per command: argv in, exit code out. The only place (with
// main.ts) that reads argv and the environment or writes to the terminal.
import { writeFile } from "node:fs/promises";
import { parseFlags } from "./flags.js";
import { build, type BuildResult } from "../build/build.js";
import type { Output } from "../build/options.js";
import { importRootfs } from "../import/rootfs-tarball.js";
import { hostPlatform, parsePlatform } from "../oci/platform.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import { parseSecretFlag } from "../exec/secret-source.js";
import { checkDockerfileCommand } from "./check-dockerfile.js";
import { formatBytes } from "./format.js";
import { formatLayerReport, layerReport } from "./layer-report.js";
import { rawJsonProgress, ttyProgress } from "./progress-tty.js";
import { parseBuildContexts } from "./parse-build-context.js";
import { parseCacheFrom, parseCacheTo } from "./parse-cache-flag.js";
import { outputAlias, parseCompression, parseOutput } from "./parse-output.js";
import { imageId, prepareOutputSinks } from "./build-outputs.js";
import { resolveBuildInputs, type BuildInputs } from "./build-inputs.js";
import { parseAddHost, parseAnnotation, parseLabels, parseNetwork, parsePlatformList } from "./parse-build-flags.js";
import { parseSshFlag } from "../exec/ssh-agent.js";
import { formatError } from "./errors.js";
import { parseSandboxFlags } from "./parse-sandbox.js";
import { isIndexMediaType } from "../oci/media-types.js";
import { progressPrinter, type ProgressMode } from "./progress.js";
import { parseAttestFlags } from "./parse-attest.js";
import { registryAccess, TRANSPORT } from "./registry-options.js";
import { wantsAttestations } from "../attest/attach.js";

export interface Io {
  /** Aborted on the first Ctrl-C / SIGTERM: the build stops and cleans up. */
  readonly signal?: AbortSignal;
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /**
   * The process's stdout as a stream, for bytes that are no text (`kiln save`
   * without -o writes its tar here): `out` takes strings. Absent where the
   * caller (the library, an in-process test) has no stdout to give.
   */
  readonly stdout?: NodeJS.WritableStream & { readonly isTTY?: boolean };
  /** The process's stdin (build contexts and Dockerfiles from `-`); process.stdin when absent. */
  readonly stdin?: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal (the live progress display); says nothing about stdout. */
  readonly isTty: boolean;
  /** Width of the terminal stderr writes to, when it is one (the live progress display cuts lines to it). */
  readonly columns?: number;
  /** Global --registry-mirror REGISTRY=MIRROR values (before the command name). */
  readonly registryMirrors?: readonly string[];
}

function parseBuildFlags(argv: readonly string[]) {
  return parseFlags({
    command: "build",
    args: argv,
    allowPositionals: true,
    options: {
      tag: { type: "string", short: "t", multiple: true },
      file: { type: "string", short: "f" },
      "build-arg": { type: "string", multiple: true },
      target: { type: "string" },
      platform: { type: "string", multiple: true },
      network: { type: "string" },
      runtime: { type: "string" },
      output: { type: "string", short: "o", multiple: true },
      progress: { type: "string" },
      reproducible: { type: "boolean" },
      "no-cache": { type: "boolean" },
      "no-cache-filter": { type: "string", multiple: true },
      "explain-cache": { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      check: { type: "boolean" },
      secret: { type: "string", multiple: true },
      iidfile: { type: "string" },
      "metadata-file": { type: "string" },
      "cache-to": { type: "string", multiple: true },
      "build-context": { type: "string", multiple: true },
      jobs: { type: "string" },
      "cache-from": { type: "string", multiple: true },
      push: { type: "boolean" },
      pull: { type: "boolean" },
      ...TRANSPORT,
      provenance: { type: "string" },
      sbom: { type: "string" },
      attest: { type: "string", multiple: true },
      "attest-legacy": { type: "boolean" },
      "attest-referrers": { type: "boolean" },
      label: { type: "string", multiple: true },
      "add-host": { type: "string", multiple: true },
      annotation: { type: "string", multiple: true },
      ssh: { type: "string", multiple: true },
      load: { type: "boolean" },
      // Accepted and ignored, as buildx does: kiln keeps no intermediate containers.
      rm: { type: "boolean" },
      "force-rm": { type: "boolean" },
      ulimit: { type: "string", multiple: true },
      "shm-size": { type: "string" },
      "pids-limit": { type: "string" },
      "security-opt": { type: "string", multiple: true },
      allow: { type: "string", multiple: true },
    },
  });
}

type BuildFlags = ReturnType<typeof parseBuildFlags>["values"];

export async function buildCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseBuildFlags(argv);
  if (positionals.length !== 1) throw new KilnError("USAGE", "kiln build needs exactly one CONTEXT (a directory, a git URL, or - for a tar on stdin)", { hint: "e.g. kiln build -t app:1 ." });
  const inputs = await resolveBuildInputs({ context: positionals[0]!, ...(values.file ? { file: values.file } : {}), tmpDir: store.paths.tmp, stdin: io.stdin ?? process.stdin });
  try {
    if (values.check) return await checkDockerfileCommand({ contextDir: inputs.contextDir, ...(inputs.dockerfile ? { dockerfile: inputs.dockerfile } : {}), err: io.err });
    const mode = progressMode(values.progress ?? "auto", io.isTty, values.quiet ?? false);
    try {
      return await runBuild(store, values, inputs, io, mode);
    } catch (err) {
      // rawjson: stderr stays pure JSON lines, the error included.
      if (mode !== "rawjson") throw err;
      io.err(`${JSON.stringify({ kind: "error", time: new Date().toISOString(), code: (err as { code?: string }).code ?? "INTERNAL", message: formatError(err).replace(/^error: /, "").trimEnd() })}\n`);
      return (err as { code?: string }).code === "USAGE" ? 2 : (err as { code?: string }).code === "INTERRUPTED" ? 130 : 1;
    }
  } finally {
    await inputs.cleanup();
  }
}

async function runBuild(store: Store, values: BuildFlags, inputs: BuildInputs, io: Io, mode: ProgressMode | "rawjson"): Promise<number> {
  const secrets = (values.secret ?? []).map((s) => parseSecretFlag(s, io.env));
  const ssh = (values.ssh ?? []).map((s) => parseSshFlag(s, io.env));
  const network = parseNetwork(values.network);
  if ((values["cache-to"] ?? []).length > 1) throw new KilnError("USAGE", "kiln exports one --cache-to per build", { hint: "export to one place; --cache-from may name several" });
  const sandbox = parseSandboxFlags(values);
  const runtime = values.runtime ?? "runc";
  if (runtime !== "runc" && runtime !== "crun") throw new KilnError("USAGE", `--runtime must be runc or crun, not "${runtime}"`);
  const buildArgs: Record<string, string> = {};
  for (const a of values["build-arg"] ?? []) {
    const eq = a.indexOf("=");
    if (eq < 0) {
      const fromEnv = io.env[a];
      if (fromEnv !== undefined) buildArgs[a] = fromEnv;
    } else buildArgs[a.slice(0, eq)] = a.slice(eq + 1);
  }
  const epochText = buildArgs.SOURCE_DATE_EPOCH ?? io.env.SOURCE_DATE_EPOCH ?? (values.reproducible ? "0" : undefined);
  if (epochText !== undefined && !/^\d+$/.test(epochText)) throw new KilnError("USAGE", `SOURCE_DATE_EPOCH must be whole seconds, not "${epochText}"`);
  const { signal: _signal, ...registry } = await registryAccess(values, io);
  // --output type=registry,name=R is a tag that is also pushed (as buildx); --push pushes every -t.
  const outputSpecs = (values.output ?? []).map(outputAlias);
  if (values.push && (values.tag ?? []).length === 0) throw new KilnError("USAGE", "--push needs at least one -t NAME to push to");
  const pushTo = [
    ...(values.push ? (values.tag ?? []).map((name) => ({ kind: "registry" as const, name })) : []),
    ...outputSpecs.filter((o) => /(^|,)type=registry(,|$)/.test(o)).map(parseRegistryOutput),
  ].map((o) => (values["attest-referrers"] ? { ...o, referrers: true } : o));
  const display =
    mode === "tty"
      ? ttyProgress(io.err, { columns: io.columns ?? 80 })
      : mode === "rawjson"
        ? rawJsonProgress(io.err)
        : { onEvent: progressPrinter(mode, io.err), close: () => {} };
  const platforms = parsePlatformList(values.platform ?? []);
  if (values.load && platforms.length > 1) throw new KilnError("USAGE", "--load takes one platform: docker load reads a single image", { hint: "drop --load, or build one --platform" });
  // buildx's oci-mediatypes=false: a Docker manifest list instead of an OCI index.
  const ociMediaTypes = !outputSpecs.some((o) => /(^|,)oci-mediatypes=false(,|$)/.test(o));
  const attestations = parseAttestFlags(
    {
      ...(values.provenance !== undefined ? { provenance: values.provenance } : {}),
      ...(values.sbom !== undefined ? { sbom: values.sbom } : {}),
      ...(values.attest ? { attest: values.attest } : {}),
      legacy: values["attest-legacy"] ?? false,
    },
    // A Docker manifest list cannot hold attestations: no default provenance there.
    pushTo.length > 0 && ociMediaTypes,
  );
  if (values["attest-referrers"] && !wantsAttestations(attestations)) throw new KilnError("USAGE", "--attest-referrers needs attestations to push", { hint: "add --provenance=mode=max or --sbom=true" });
  if (values["attest-referrers"] && attestations.form === "legacy") throw new KilnError("USAGE", "--attest-referrers needs the artifact form (its manifests carry a subject); drop --attest-legacy");
  const outputs = outputSpecs.filter((o) => !/(^|,)type=registry(,|$)/.test(o)).map(parseOutput);
  const compression = parseCompression(outputSpecs);
  const sinks = await prepareOutputSinks(outputs, values.load ?? false, store.paths.tmp, io);
  let result: BuildResult;
  try {
    if (!ociMediaTypes && platforms.length < 2) {
      throw new KilnError("USAGE", "oci-mediatypes=false makes a Docker manifest list, which needs --platform with two or more platforms");
    }
    result = await build({
      store,
      contextDir: inputs.contextDir,
      ...(inputs.dockerfile ? { dockerfile: inputs.dockerfile } : {}),
      ...(values.tag ? { tags: values.tag } : {}),
      buildArgs,
      network,
      ...(values["add-host"] ? { extraHosts: values["add-host"].map(parseAddHost) } : {}),
      ...(values.label ? { labels: parseLabels(values.label) } : {}),
      ...(values.annotation ? { annotations: values.annotation.flatMap(parseAnnotation) } : {}),
      ...(ssh.length ? { ssh } : {}),
      runtime,
      ...(io.env.PATH !== undefined ? { runtimeSearchPath: io.env.PATH } : {}),
      ...(values.target ? { target: values.target } : {}),
      platforms,
      ...(ociMediaTypes ? {} : { ociMediaTypes }),
      ...(wantsAttestations(attestations) ? { attestations } : {}),
      outputs: [...sinks.outputs, ...pushTo],
      ...(compression ? { compression } : {}),
      ...(epochText !== undefined ? { sourceDateEpoch: Number(epochText) } : {}),
      onEvent: display.onEvent,
      noCache: values["no-cache"] ?? false,
      noCacheFilter: (values["no-cache-filter"] ?? []).flatMap((v) => v.split(",")),
      explainCache: values["explain-cache"] ?? false,
      ...(io.signal ? { signal: io.signal } : {}),
      ...(secrets.length ? { secrets } : {}),
      ...(sandbox ? { sandbox } : {}),
      ...(values["cache-to"]?.[0] ? { cacheTo: parseCacheTo(values["cache-to"][0]) } : {}),
      ...(values["cache-from"] ? { cacheFrom: values["cache-from"].map(parseCacheFrom) } : {}),
      pull: values.pull ?? false,
      // Pushed next: layers already in a registry stay there (the push mounts or skips them).
      // An SBOM scans the final filesystem, so it needs them all here.
      ...(pushTo.length > 0 && !attestations.sbom ? { remoteLayers: "on-demand" as const } : {}),
      ...(values.jobs !== undefined ? { jobs: parseJobs(values.jobs) } : {}),
      ...(values["build-context"] ? { buildContexts: parseBuildContexts(values["build-context"]) } : {}),
      registry,
    });
  } catch (err) {
    await sinks.discard();
    throw err;
  } finally {
    display.close();
  }
  await sinks.deliver();
  // docker's image ID is the config digest; an index's ID is its own digest.
  if (values.iidfile) await writeFile(values.iidfile, await imageId(store, result.manifest));
  if (values["metadata-file"]) await writeFile(values["metadata-file"], `${JSON.stringify(await buildMetadata(store, result), null, 2)}\n`);
  // The report reads every layer; after a no-op rebuild it would repeat the
  // last one at the cost of the fastest path kiln has, so it follows real work.
  if ((mode === "plain" || mode === "tty") && result.executed > 0) {
    const image = result.manifest ? await store.resolveImage(result.manifest.digest).catch(() => undefined) : undefined;
    // A layer a pushed build left in its registry (store/remote-blobs.ts) is not read just for the report.
    const local = image && (await Promise.all(image.manifest.layers.map((l) => store.hasBlob(l.digest)))).every(Boolean);
    if (image && local) io.err(formatLayerReport(await layerReport(store, image), formatBytes));
  }
  for (const p of result.pushed) {
    io.err(`pushed ${p.reference}@${p.digest}\n`);
    // push-by-digest: the digest printed is what a later `kiln index create` merges (one CI runner per platform).
    if (p.byDigest) io.out(`${p.reference}@${p.digest}\n`);
  }
  if (mode === "rawjson") return 0; // stderr holds only the events
  if (!values.quiet) io.err(`${result.executed} steps run, ${result.cached} cached\n`);
  if (values.quiet) {
    if (!sinks.usesStdout) io.out(`${await imageId(store, result.manifest)}\n`);
  } else {
    if (result.manifest) io.err(`writing image ${result.manifest.digest}\n`);
    for (const t of result.tags) io.err(`naming to ${t}\n`);
  }
  return 0;
}

function parseJobs(v: string): number {
  if (!/^[1-9]\d*$/.test(v)) throw new KilnError("USAGE", `--jobs must be a positive whole number, not "${v}"`);
  return Number(v);
}

function parseRegistryOutput(spec: string): Extract<Output, { kind: "registry" }> {
  const name = /(?:^|,)name=([^,]+)/.exec(spec)?.[1];
  if (!name) throw new KilnError("USAGE", `--output ${spec}: name= is required for type=registry`, { hint: "e.g. --output type=registry,name=127.0.0.1:5000/app:1" });
  return { kind: "registry", name, ...(/(?:^|,)push-by-digest=true(,|$)/.test(spec) ? { pushByDigest: true } : {}) };
}

function progressMode(value: string, isTty: boolean, quiet: boolean): ProgressMode | "rawjson" {
  if (quiet) return "quiet";
  if (value === "auto") return isTty ? "tty" : "plain";
  if (value === "plain" || value === "tty" || value === "quiet" || value === "rawjson") return value;
  throw new KilnError("USAGE", `--progress must be plain, tty, rawjson, quiet or auto, not "${value}"`);
}

/** buildx's --metadata-file keys, so CI scripts written for buildx read kiln's file as they are. */
async function buildMetadata(store: Store, result: BuildResult): Promise<Record<string, unknown>> {
  const m = result.manifest;
  return {
    ...(m
      ? {
          ...(isIndexMediaType(m.mediaType) ? {} : { "containerimage.config.digest": (await store.readJson<{ config: { digest: string } }>(m.digest)).config.digest }),
          "containerimage.descriptor": { mediaType: m.mediaType, digest: m.digest, size: m.size, ...(m.platform ? { platform: m.platform } : {}) },
          "containerimage.digest": m.digest,
        }
      : {}),
    ...(result.tags.length ? { "image.name": result.tags.join(",") } : {}),
  };
}

export async function importCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags({ command: "import", args: argv, allowPositionals: true, options: { platform: { type: "string" } } });
  if (positionals.length !== 2) throw new KilnError("USAGE", "kiln import needs FILE and NAME[:TAG]", { hint: "e.g. kiln import rootfs.tar.gz busybox:latest" });
  const platform = values.platform ? parsePlatform(values.platform) : hostPlatform();
  const created = io.env.SOURCE_DATE_EPOCH !== undefined ? Number(io.env.SOURCE_DATE_EPOCH) : undefined;
  const desc = await importRootfs({
    store,
    file: positionals[0]!,
    name: positionals[1]!,
    platform,
    ...(created !== undefined ? { created } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
  });
  io.out(`${desc.digest}\n`);
  return 0;
}

