// `kiln imagetools create|inspect`, as `docker buildx imagetools`: working
// on the registry, moving manifests only (registry/imagetools.ts).
import { createRemoteIndex, inspectRemote } from "../registry/imagetools.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { Io } from "./commands.js";
import { parseFlags } from "./flags.js";
import { formatInspect } from "./inspect-format.js";
import { registryAccess, TRANSPORT } from "./registry-options.js";

export const IMAGETOOLS_USAGE = `Usage: kiln imagetools create -t REPO:TAG [-t REPO:TAG]... [--dry-run] SOURCE...
       kiln imagetools inspect [--raw] REF

  create   Make an image index on the registry from images already pushed
           there (REPO@sha256:… or REPO:TAG; an index SOURCE adds all its
           images and attestations) and tag it. Only manifests move: images
           in another repository of the same registry are mounted, no layer
           is downloaded or uploaded. Prints the index digest.
             -t, --tag REPO:TAG   Where to put the index (repeatable)
             --dry-run            Print the index instead of pushing it
  inspect  Show what REF is on the registry (platforms, digests); --raw
           prints the manifest or index exactly as the registry holds it.
`;

export async function imagetoolsCommand(_store: Store, argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "create") {
    const { values, positionals } = parseFlags({
      command: "imagetools create",
      args: rest,
      allowPositionals: true,
      options: { ...TRANSPORT, tag: { type: "string", short: "t", multiple: true }, "dry-run": { type: "boolean" } },
    });
    if (positionals.length === 0) throw new KilnError("USAGE", "kiln imagetools create needs at least one SOURCE", { hint: IMAGETOOLS_USAGE.split("\n")[0] });
    const r = await createRemoteIndex({
      ...(await registryAccess(values, io)),
      sources: positionals,
      tags: values.tag ?? [],
      dryRun: values["dry-run"] ?? false,
      onEvent: (e) => {
        if (e.type === "blob" && e.result === "mounted") io.err(`mounted ${e.digest} into ${e.repository}\n`);
        if (e.type === "manifest" && e.result === "copied") io.err(`copied manifest ${e.digest} into ${e.repository}\n`);
        if (e.type === "tagged") io.err(`pushed ${e.reference}@${e.digest}\n`);
      },
    });
    io.out(values["dry-run"] ? `${r.bytes.toString("utf8")}\n` : `${r.descriptor.digest}\n`);
    return 0;
  }
  if (sub === "inspect") {
    const { values, positionals } = parseFlags({ command: "imagetools inspect", args: rest, allowPositionals: true, options: { ...TRANSPORT, raw: { type: "boolean" } } });
    if (positionals.length !== 1) throw new KilnError("USAGE", "kiln imagetools inspect needs one REF", { hint: IMAGETOOLS_USAGE.split("\n")[1]!.trim() });
    const r = await inspectRemote({ ...(await registryAccess(values, io)), ref: positionals[0]! });
    if (values.raw) io.out(`${r.bytes.toString("utf8")}\n`);
    else io.out(formatInspect(r.reference, r.descriptor, { ...(r.manifests ? { manifests: r.manifests } : {}), ...(r.platform ? { platform: r.platform } : {}) }));
    return 0;
  }
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    io.out(IMAGETOOLS_USAGE);
    return sub === undefined ? 1 : 0;
  }
  throw new KilnError("USAGE", `unknown imagetools subcommand "${sub}"`, { hint: "kiln imagetools create | kiln imagetools inspect" });
}
