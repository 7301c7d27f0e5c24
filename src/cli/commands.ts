// One function per command: argv in, exit code out. The only place (with
// main.ts) that reads argv and the environment or writes to the terminal.
import { parseArgs } from "node:util";
import { build } from "../build/build.js";
import { importRootfs } from "../import/rootfs-tarball.js";
import type { ImageConfig } from "../oci/config.js";
import type { ImageManifest } from "../oci/manifest.js";
import { hostPlatform, parsePlatform } from "../oci/platform.js";
import { familiarReference, parseReference } from "../oci/reference.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import { parseSecretFlag } from "../exec/secret-source.js";
import { checkDockerfileCommand } from "./check-dockerfile.js";
import { ago, formatBytes, table } from "./format.js";
import { parseOutput } from "./parse-output.js";
import { progressPrinter, type ProgressMode } from "./progress.js";

export interface Io {
  /** Aborted on the first Ctrl-C / SIGTERM: the build stops and cleans up. */
  readonly signal?: AbortSignal;
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly isTty: boolean;
}

export async function buildCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tag: { type: "string", short: "t", multiple: true },
      file: { type: "string", short: "f" },
      "build-arg": { type: "string", multiple: true },
      target: { type: "string" },
      platform: { type: "string" },
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
    },
  });
  if (positionals.length !== 1) throw new KilnError("USAGE", "kiln build needs exactly one CONTEXT directory", { hint: "e.g. kiln build -t app:1 ." });
  if (values.check) return checkDockerfileCommand({ contextDir: positionals[0]!, ...(values.file ? { dockerfile: values.file } : {}), err: io.err });
  const secrets = (values.secret ?? []).map((s) => parseSecretFlag(s, io.env));
  const network = values.network ?? "none";
  if (network !== "none" && network !== "host") throw new KilnError("USAGE", `--network must be none or host, not "${network}"`);
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
  const mode = progressMode(values.progress ?? "auto", io.isTty, values.quiet ?? false);
  const result = await build({
    store,
    contextDir: positionals[0]!,
    ...(values.file ? { dockerfile: values.file } : {}),
    tags: values.tag ?? [],
    buildArgs,
    network,
    runtime,
    ...(io.env.PATH !== undefined ? { runtimeSearchPath: io.env.PATH } : {}),
    ...(values.platform ? { platform: parsePlatform(values.platform) } : {}),
    ...(values.target ? { target: values.target } : {}),
    outputs: (values.output ?? []).map(parseOutput),
    ...(epochText !== undefined ? { sourceDateEpoch: Number(epochText) } : {}),
    onEvent: progressPrinter(mode, io.err),
    noCache: values["no-cache"] ?? false,
    noCacheFilter: (values["no-cache-filter"] ?? []).flatMap((v) => v.split(",")),
    explainCache: values["explain-cache"] ?? false,
    ...(io.signal ? { signal: io.signal } : {}),
    ...(secrets.length ? { secrets } : {}),
  });
  if (!values.quiet) io.err(`${result.executed} steps run, ${result.cached} cached\n`);
  if (values.quiet) io.out(`${result.manifest?.digest ?? ""}\n`);
  else {
    if (result.manifest) io.err(`writing image ${result.manifest.digest}\n`);
    for (const t of result.tags) io.err(`naming to ${t}\n`);
  }
  return 0;
}

function progressMode(value: string, isTty: boolean, quiet: boolean): ProgressMode {
  if (quiet) return "quiet";
  if (value === "auto") return isTty ? "tty" : "plain";
  if (value === "plain" || value === "tty" || value === "quiet") return value;
  throw new KilnError("USAGE", `--progress must be plain, tty, quiet or auto, not "${value}"`);
}

export async function importCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { platform: { type: "string" } } });
  if (positionals.length !== 2) throw new KilnError("USAGE", "kiln import needs FILE and NAME[:TAG]", { hint: "e.g. kiln import rootfs.tar.gz busybox:latest" });
  const platform = values.platform ? parsePlatform(values.platform) : hostPlatform();
  const created = io.env.SOURCE_DATE_EPOCH !== undefined ? Number(io.env.SOURCE_DATE_EPOCH) : undefined;
  const desc = await importRootfs({ store, file: positionals[0]!, name: positionals[1]!, platform, ...(created !== undefined ? { created } : {}) });
  io.out(`${desc.digest}\n`);
  return 0;
}

export async function imagesCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { quiet: { type: "boolean", short: "q" } } });
  const rows: string[][] = [];
  for (const ref of await store.listImages()) {
    const r = parseReference(ref.name);
    const manifest = await store.readJson<ImageManifest>(ref.descriptor.digest).catch(() => undefined);
    const config = manifest ? await store.readJson<ImageConfig>(manifest.config.digest).catch(() => undefined) : undefined;
    const size = manifest ? manifest.layers.reduce((n, l) => n + l.size, 0) + manifest.config.size : 0;
    const id = ref.descriptor.digest.slice(7, 19);
    if (values.quiet) {
      rows.push([id]);
      continue;
    }
    const repo = familiarReference({ registry: r.registry, repository: r.repository });
    rows.push([repo, r.tag ?? "<none>", id, config?.created ? ago(config.created) : "", formatBytes(size)]);
  }
  if (values.quiet) {
    for (const r of rows) io.out(`${r[0]}\n`);
    return 0;
  }
  io.out(table([["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], ...rows]));
  return 0;
}

export async function inspectCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
  if (positionals.length === 0) throw new KilnError("USAGE", "kiln inspect needs at least one IMAGE");
  const out = [];
  for (const name of positionals) {
    const img = await store.resolveImage(name);
    if (!img) throw new KilnError("IMAGE_NOT_FOUND", `no such image: ${name}`, { hint: "kiln images lists the images in the store" });
    const tags = (await store.listImages()).filter((r) => r.descriptor.digest === img.manifestDescriptor.digest).map((r) => familiarReference(parseReference(r.name)));
    out.push({
      Id: img.manifestDescriptor.digest,
      RepoTags: tags,
      Created: img.config.created,
      Architecture: img.config.architecture,
      Os: img.config.os,
      ...(img.config.variant ? { Variant: img.config.variant } : {}),
      Config: img.config.config ?? {},
      RootFS: { Type: "layers", Layers: img.config.rootfs.diff_ids },
      Size: img.manifest.layers.reduce((n, l) => n + l.size, 0),
      Manifest: img.manifest,
      History: img.config.history ?? [],
    });
  }
  io.out(`${JSON.stringify(out, null, 4)}\n`);
  return 0;
}
