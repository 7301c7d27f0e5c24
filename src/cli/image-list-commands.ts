// `kiln images`, `kiln inspect`, `kiln history`.
import { parseFlags } from "./flags.js";
import { familiarReference, parseReference } from "../oci/reference.js";
import type { ResolvedImage, Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { Io } from "./commands.js";
import { ago, formatBytes, table } from "./format.js";
import { parseTemplate } from "./go-template.js";
import { layerHistory, layerReport } from "./layer-report.js";
import { filterRows, formatItems, imageRows, shortId } from "./image-rows.js";
import { requireImage } from "../images/remove.js";

export async function imagesCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags({ command: "images",
    args: argv,
    allowPositionals: true,
    options: {
      quiet: { type: "boolean", short: "q" },
      all: { type: "boolean", short: "a" },
      digests: { type: "boolean" },
      "no-trunc": { type: "boolean" },
      filter: { type: "string", short: "f", multiple: true },
      format: { type: "string" },
    },
  });
  if (positionals.length > 1) throw new KilnError("USAGE", "kiln images takes at most one REPOSITORY[:TAG]");
  const filters = [...(values.filter ?? []), ...positionals.map((p) => `reference=${p}`)];
  const rows = (await filterRows(store, await imageRows(store), filters)).sort(
    (a, b) => Date.parse(b.created ?? "") - Date.parse(a.created ?? "") || a.repository.localeCompare(b.repository) || a.tag.localeCompare(b.tag),
  );
  const noTrunc = values["no-trunc"] ?? false;
  if (values.quiet) {
    const ids = [...new Set(rows.map((r) => shortId(r.digest, noTrunc)))];
    io.out(ids.map((i) => `${i}\n`).join(""));
    return 0;
  }
  const items = rows.map((r) => ({
    Containers: "N/A",
    CreatedAt: r.created ?? "",
    CreatedSince: r.created ? ago(r.created) : "N/A",
    Digest: r.repoDigest,
    ID: shortId(r.digest, noTrunc),
    Repository: r.repository,
    SharedSize: "N/A",
    Size: formatBytes(r.size),
    Tag: r.tag,
    UniqueSize: "N/A",
    VirtualSize: formatBytes(r.size),
  }));
  if (values.format) {
    io.out(formatItems(values.format, items, { ID: "IMAGE ID", CreatedSince: "CREATED", CreatedAt: "CREATED AT" }));
    return 0;
  }
  const header = ["REPOSITORY", "TAG", ...(values.digests ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"];
  io.out(table([header, ...items.map((i) => [i.Repository, i.Tag, ...(values.digests ? [i.Digest] : []), i.ID, i.CreatedSince, i.Size])]));
  return 0;
}

// ---------------------------------------------------------------- inspect

async function inspectObject(store: Store, img: ResolvedImage): Promise<Record<string, unknown>> {
  const refs = await store.listImages();
  const mine = refs.filter((r) => r.descriptor.digest === img.manifestDescriptor.digest || (img.name !== undefined && r.name === img.name));
  const tags = [...new Set(mine.map((r) => familiarReference(parseReference(r.name))))];
  const repoDigests = [...new Set(mine.map((r) => {
    const p = parseReference(r.name);
    return familiarReference({ registry: p.registry, repository: p.repository, digest: r.descriptor.digest });
  }))];
  const c = img.config;
  return {
    // docker's image ID: the config digest (the manifest digest is in RepoDigests and Descriptor).
    Id: img.manifest.config.digest,
    RepoTags: tags,
    RepoDigests: repoDigests,
    Parent: "",
    Comment: c.history?.at(-1)?.comment ?? "",
    Created: c.created ?? "",
    Author: c.author ?? "",
    Config: c.config ?? {},
    Architecture: c.architecture,
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os,
    Size: img.manifest.layers.reduce((n, l) => n + l.size, 0),
    RootFS: { Type: "layers", Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: "" },
    Descriptor: { mediaType: img.manifestDescriptor.mediaType, digest: img.manifestDescriptor.digest, size: img.manifestDescriptor.size },
    Manifest: img.manifest,
    History: c.history ?? [],
  };
}

export async function inspectCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags({ command: "inspect", args: argv, allowPositionals: true, options: { format: { type: "string", short: "f" }, type: { type: "string" } } });
  if (positionals.length === 0) throw new KilnError("USAGE", "kiln inspect needs at least one IMAGE", { hint: 'e.g. kiln inspect --format "{{.Id}}" busybox' });
  const tpl = values.format && values.format !== "json" ? parseTemplate(values.format) : undefined;
  const out: Record<string, unknown>[] = [];
  let failed = false;
  for (const name of positionals) {
    const img = await store.resolveImage(name);
    if (!img) {
      io.err(`error: no such image: ${name}\n`);
      failed = true;
      continue;
    }
    out.push(await inspectObject(store, img));
  }
  if (tpl) io.out(out.map((o) => `${tpl.execute(o)}\n`).join(""));
  else if (values.format === "json") io.out(out.map((o) => `${JSON.stringify(o)}\n`).join(""));
  else io.out(`${JSON.stringify(out, null, 4)}\n`);
  return failed ? 1 : 0;
}

// ---------------------------------------------------------------- history

export async function historyCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseFlags({ command: "history",
    args: argv,
    allowPositionals: true,
    options: {
      "no-trunc": { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      format: { type: "string" },
      wasted: { type: "boolean" },
      human: { type: "boolean", short: "H", default: true },
    },
  });
  if (positionals.length !== 1) throw new KilnError("USAGE", "kiln history needs exactly one IMAGE", { hint: "e.g. kiln history --no-trunc myapp:1" });
  const img = await requireImage(store, positionals[0]!);
  const noTrunc = values["no-trunc"] ?? false;
  const report = await layerReport(store, img);
  const history = img.config.history?.length ? img.config.history : layerHistory(undefined, img.manifest.layers.length);
  // Pair history entries with layers: empty_layer entries take none.
  let li = 0;
  const entries = history.map((h) => {
    const layer = h.empty_layer ? undefined : report.layers[li++];
    return { h, layer };
  });
  entries.reverse(); // newest first, like docker
  const items = entries.map(({ h, layer }, i) => {
    const createdBy = h.created_by ?? "";
    return {
      ID: i === 0 ? shortId(img.manifestDescriptor.digest, noTrunc) : "<missing>",
      CreatedAt: h.created ?? "",
      CreatedSince: h.created ? ago(h.created) : "N/A",
      CreatedBy: noTrunc || createdBy.length <= 45 ? createdBy : `${createdBy.slice(0, 44)}…`,
      Size: formatBytes(layer?.size ?? 0),
      Wasted: layer && layer.wasted > 0 ? formatBytes(layer.wasted) : "",
      Comment: h.comment ?? "",
    };
  });
  if (values.quiet) {
    io.out(`${items[0]?.ID ?? ""}\n`);
    return 0;
  }
  if (values.format) {
    io.out(formatItems(values.format, items, { ID: "IMAGE", CreatedSince: "CREATED", CreatedBy: "CREATED BY", CreatedAt: "CREATED AT" }));
    return 0;
  }
  const header = ["IMAGE", "CREATED", "CREATED BY", "SIZE", ...(values.wasted ? ["WASTED"] : []), "COMMENT"];
  io.out(table([header, ...items.map((i) => [i.ID, i.CreatedSince, i.CreatedBy, i.Size, ...(values.wasted ? [i.Wasted] : []), i.Comment])]));
  if (values.wasted) {
    io.out(`\n${formatBytes(report.totalSize)} in ${report.layers.length} layers, ${formatBytes(report.totalWasted)} wasted (files that later layers overwrite or delete)\n`);
    for (const h of report.hints) io.out(`hint: ${formatBytes(h.bytes)} wasted: ${h.message}\n`);
  }
  return 0;
}

// ---------------------------------------------------------------- tag, rmi
