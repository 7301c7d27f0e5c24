// Image rows as `kiln images` and friends list them: sizes, filters, --format.
import { Annotation } from "../oci/descriptor.js";
import { type Digest } from "../oci/digest.js";
import { familiarReference, parseReference } from "../oci/reference.js";
import { type ImageRef } from "../store/refs.js";
import type { ResolvedImage, Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import { imageSize } from "../images/image-blobs.js";
import { parseDuration, table } from "./format.js";
import { parseTemplate } from "./go-template.js";

export interface ImageRow {
  readonly ref: ImageRef;
  readonly repository: string;
  readonly tag: string;
  /** The digest the name points at (an index for multi-platform images). */
  readonly digest: Digest;
  /**
   * The image's digest in its registry, as docker's DIGEST column: for
   * platforms pulled from a registry's index, that index; otherwise `digest`.
   */
  readonly repoDigest: Digest;
  readonly image?: ResolvedImage;
  readonly size: number;
  readonly created?: string;
}

export async function imageRows(store: Store): Promise<ImageRow[]> {
  const rows: ImageRow[] = [];
  for (const ref of await store.listImages()) {
    const r = parseReference(ref.name);
    const image = await store.resolveImage(ref.name).catch(() => undefined);
    const size = image ? await imageSize(store, ref.descriptor) : 0;
    rows.push({
      ref,
      repository: familiarReference({ registry: r.registry, repository: r.repository }),
      tag: r.tag ?? "<none>",
      digest: ref.descriptor.digest,
      repoDigest: (ref.descriptor.annotations?.[Annotation.pulledFromIndex] as Digest | undefined) ?? ref.descriptor.digest,
      ...(image ? { image } : {}),
      size,
      ...(image?.config.created ? { created: image.config.created } : {}),
    });
  }
  return rows;
}

export function shortId(d: string, noTrunc: boolean): string {
  return noTrunc ? d : d.slice(7, 19);
}

/** docker's filter glob (Go path.Match): `*` and `?` never cross a `/`. */
export function globRegex(pattern: string): RegExp {
  const re = pattern.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]");
  return new RegExp(`^${re}$`);
}

export async function filterRows(store: Store, rows: ImageRow[], filters: readonly string[]): Promise<ImageRow[]> {
  let out = rows;
  for (const f of filters) {
    const eq = f.indexOf("=");
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? "" : f.slice(eq + 1);
    switch (key) {
      case "reference": {
        const re = globRegex(value);
        out = out.filter((r) => re.test(r.repository) || re.test(`${r.repository}:${r.tag}`));
        break;
      }
      case "dangling":
        // Untagged images are never listed: kiln keeps an image only while a name reaches it.
        if (value !== "true" && value !== "false") throw new KilnError("USAGE", `dangling filter must be true or false, not "${value}"`);
        if (value === "true") out = [];
        break;
      case "label": {
        const le = value.indexOf("=");
        const lk = le < 0 ? value : value.slice(0, le);
        out = out.filter((r) => {
          const labels = r.image?.config.config?.Labels ?? {};
          return lk in labels && (le < 0 || labels[lk] === value.slice(le + 1));
        });
        break;
      }
      case "before":
      case "since": {
        const pivot = await store.resolveImage(value);
        if (!pivot) throw new KilnError("IMAGE_NOT_FOUND", `no such image: ${value}`, { hint: "kiln images lists the images in the store" });
        const t = Date.parse(pivot.config.created ?? "");
        out = out.filter((r) => {
          const c = Date.parse(r.created ?? "");
          return key === "before" ? c < t : c > t;
        });
        break;
      }
      case "until": {
        const cutoff = untilCutoff(value);
        out = out.filter((r) => Date.parse(r.created ?? "") < cutoff);
        break;
      }
      default:
        throw new KilnError("USAGE", `unsupported filter "${f}"`, { hint: "use reference=, dangling=, label=, before=, since= or until=" });
    }
  }
  return out;
}

/** until=24h (a duration before now) or an RFC 3339 time / unix seconds. */
export function untilCutoff(value: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  if (!Number.isNaN(t)) return t;
  return Date.now() - parseDuration(value);
}

/** Runs a --format TEMPLATE over items: "json" (one object per line), "table …" (aligned, with headers), or a plain template per line. */
export function formatItems(format: string, items: readonly Record<string, unknown>[], headers: Record<string, string>): string {
  if (format === "json") return items.map((i) => `${JSON.stringify(i)}\n`).join("");
  const isTable = format.startsWith("table");
  // docker users write a literal \t in shell quotes; it means a tab.
  const body = (isTable ? format.slice(5).trim() : format).replace(/\\t/g, "\t").replace(/\\n/g, "\n");
  const tpl = parseTemplate(body);
  if (!isTable) return items.map((i) => `${tpl.execute(i)}\n`).join("");
  const header = body.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, f: string) => headers[f] ?? f.toUpperCase()).split("\t");
  return table([header, ...items.map((i) => tpl.execute(i).split("\t"))]);
}
