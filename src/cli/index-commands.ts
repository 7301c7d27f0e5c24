// `kiln index create -t REPO:TAG SRC...`: merge single-platform images (or
// indexes) in the store into one OCI image index, as `docker buildx
// imagetools create` does for a registry — the last step of building each
// platform on its own runner. `kiln index inspect NAME`: what an index holds.
import { parseFlags } from "./flags.js";
import { createIndex, inspectIndex } from "../images/create-index.js";
import { KilnError } from "../util/errors.js";
import type { Store } from "../store/store.js";
import type { Io } from "./commands.js";
import { formatInspect } from "./inspect-format.js";

export const INDEX_USAGE = `Usage: kiln index create [-t REPO:TAG]... [--dry-run] SOURCE...
       kiln index inspect [--raw] NAME

  create   Merge images in the store into one OCI image index. A SOURCE is a
           name (app:amd64), a name by digest (app@sha256:…) or a digest; an
           index SOURCE adds all its images. Two different images for one
           platform are an error. Prints the index digest.
             -t, --tag REPO:TAG   Name the index (repeatable)
             --dry-run            Print the index instead of storing it
  inspect  Show the platforms and digests an index holds (--raw: its JSON)
`;

export async function indexCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === "create") {
    const { values, positionals } = parseFlags({ command: "index create",
      args: rest,
      allowPositionals: true,
      options: { tag: { type: "string", short: "t", multiple: true }, "dry-run": { type: "boolean" } },
    });
    if (positionals.length === 0) throw new KilnError("USAGE", "kiln index create needs at least one SOURCE image", { hint: INDEX_USAGE.split("\n")[0] });
    const dryRun = values["dry-run"] ?? false;
    const r = await createIndex(store, positionals, { tags: values.tag ?? [], dryRun });
    if (dryRun) {
      io.out(`${r.json}\n`);
      return 0;
    }
    for (const t of r.tags) io.err(`tagged ${t}\n`);
    io.out(`${r.index.digest}\n`);
    return 0;
  }
  if (sub === "inspect") {
    const { values, positionals } = parseFlags({ command: "index inspect", args: rest, allowPositionals: true, options: { raw: { type: "boolean" } } });
    if (positionals.length !== 1) throw new KilnError("USAGE", "kiln index inspect needs one NAME", { hint: INDEX_USAGE.split("\n")[1]!.trim() });
    const r = await inspectIndex(store, positionals[0]!);
    io.out(values.raw ? `${r.raw.toString("utf8")}\n` : formatInspect(positionals[0]!, r.descriptor, { ...(r.manifests ? { manifests: r.manifests } : {}), ...(r.platform ? { platform: r.platform } : {}) }));
    return 0;
  }
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    io.out(INDEX_USAGE);
    return sub === undefined ? 1 : 0;
  }
  throw new KilnError("USAGE", `unknown index subcommand "${sub}"`, { hint: "kiln index create | kiln index inspect" });
}
