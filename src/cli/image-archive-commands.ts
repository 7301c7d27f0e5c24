// `kiln save` and `kiln load`: docker and OCI archives.
import { PassThrough } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseFlags } from "./flags.js";
import { dockerArchiveEntries } from "../export/docker-archive.js";
import { type TarOptions, type TreeEntry, writeTar, writeTarFile } from "../export/file-tree.js";
import { ociLayoutEntries } from "../export/oci-layout.js";
import { loadArchive } from "../import/load-archive.js";
import type { Descriptor } from "../oci/descriptor.js";
import type { ImageIndex } from "../oci/manifest.js";
import { familiarReference, parseReference } from "../oci/reference.js";
import { normalizeTagName } from "../store/refs.js";
import type { ResolvedImage, Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { Io } from "./commands.js";
import { refNamed, requireImage } from "../images/remove.js";

export async function saveCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags({ command: "save",
    args: argv,
    allowPositionals: true,
    options: { output: { type: "string", short: "o" }, format: { type: "string" } },
  });
  if (positionals.length === 0) throw new KilnError("USAGE", "kiln save needs at least one IMAGE", { hint: "e.g. kiln save -o app.tar myapp:1" });
  const dest = values.output ?? saveStdout(io);
  const format = values.format ?? "docker";
  if (format !== "docker" && format !== "oci") throw new KilnError("USAGE", `--format must be docker or oci, not "${format}"`);
  // Group the names by image, so one image saved under two names is stored once.
  const groups = new Map<string, { image: ResolvedImage; names: string[] }>();
  for (const arg of positionals) {
    const image = await requireImage(store, arg);
    const g = groups.get(image.manifestDescriptor.digest) ?? { image, names: [] };
    if (await refNamed(store, arg)) g.names.push(normalizeTagName(arg));
    groups.set(image.manifestDescriptor.digest, g);
  }
  const files = new Map<string, TreeEntry>();
  const manifestJson: unknown[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const indexEntries: Descriptor[] = [];
  for (const { image, names } of groups.values()) {
    const entries =
      format === "docker"
        ? await dockerArchiveEntries({ store, image, repoTags: names })
        : names.length
          ? (await Promise.all(names.map((name) => ociLayoutEntries({ store, image, name })))).flat()
          : await ociLayoutEntries({ store, image });
    for (const e of entries) {
      if (e.kind !== "bytes" || !["manifest.json", "repositories", "index.json"].includes(e.path)) {
        files.set(e.path, e);
        continue;
      }
      const doc = JSON.parse(Buffer.from(e.data).toString("utf8")) as unknown;
      if (e.path === "manifest.json") manifestJson.push(...(doc as unknown[]));
      else if (e.path === "repositories") for (const [repo, tags] of Object.entries(doc as typeof repositories)) Object.assign((repositories[repo] ??= {}), tags);
      else for (const m of (doc as ImageIndex).manifests) if (!indexEntries.some((x) => JSON.stringify(x) === JSON.stringify(m))) indexEntries.push(m);
    }
  }
  files.set("index.json", { path: "index.json", kind: "bytes", data: JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: indexEntries }) });
  if (format === "docker") {
    files.set("manifest.json", { path: "manifest.json", kind: "bytes", data: JSON.stringify(manifestJson) });
    files.set("repositories", { path: "repositories", kind: "bytes", data: JSON.stringify(repositories) });
  }
  const tarOptions = io.signal ? { signal: io.signal } : {};
  if (typeof dest === "string") await writeTarFile([...files.values()], dest, tarOptions);
  else await writeTarToStream([...files.values()], dest, tarOptions);
  return 0;
}

/** Where save writes without -o, as docker: stdout, unless that is a terminal (a tar there is garbage on the screen, not a saved image). */
function saveStdout(io: Io): NodeJS.WritableStream {
  if (!io.stdout) throw new KilnError("USAGE", "kiln save needs -o FILE here (there is no stdout to write the tar to)", { hint: "e.g. kiln save -o app.tar myapp:1" });
  if (io.stdout.isTTY) throw new KilnError("USAGE", "cowardly refusing to save to a terminal. Use the -o flag or redirect", { hint: "kiln save -o app.tar IMAGE, or kiln save IMAGE > app.tar" });
  return io.stdout;
}

/** Writes the tar to `out` without ending it (process.stdout is never closed), and returns once every byte is handed to it. */
async function writeTarToStream(entries: TreeEntry[], out: NodeJS.WritableStream, opts: TarOptions): Promise<void> {
  const tarStream = new PassThrough();
  const piped = pipeline(tarStream, out, { end: false, ...(opts.signal ? { signal: opts.signal } : {}) });
  await Promise.all([writeTar(entries, tarStream, opts), piped]);
  // A pipe may still hold the last chunks in its write queue, and bin/kiln.js
  // calls process.exit as soon as the command returns.
  await new Promise<void>((resolve, reject) => out.write("", (err) => (err ? reject(err) : resolve())));
}

export async function loadCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values } = parseFlags({ command: "load", args: argv, options: { input: { type: "string", short: "i" }, quiet: { type: "boolean", short: "q" } } });
  const input = values.input ?? process.stdin;
  if (!values.input && process.stdin.isTTY) {
    throw new KilnError("USAGE", "kiln load reads an archive from -i FILE or from stdin, and stdin is a terminal", { hint: "kiln load -i app.tar" });
  }
  const r = await loadArchive({ store, input, ...(io.signal ? { signal: io.signal } : {}) });
  for (const img of r.images) {
    if (img.names.length === 0) io.out(`Loaded image ID: ${img.manifest.digest}\n`);
    for (const n of img.names) if (!values.quiet) io.out(`Loaded image: ${familiarReference(parseReference(n))}\n`);
  }
  if (r.images.some((i) => i.names.length === 0)) {
    io.err("warning: the archive names no tag for some images; kiln keeps only named images, so tag them now (kiln tag ID NAME) or they go at the next prune\n");
  }
  return 0;
}

// ---------------------------------------------------------------- `kiln image …`
