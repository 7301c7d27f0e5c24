// `kiln cache ls` and `kiln cache prune`.
import { parseFlags } from "./flags.js";
import { pruneCache, snapshotSizes } from "../cache/prune.js";
import { StepRecords } from "../cache/records.js";
import type { Digest } from "../oci/digest.js";
import { chainIdOf, SnapshotIndex } from "../store/snapshot-index.js";
import type { Store } from "../store/store.js";
import { KilnError } from "../util/errors.js";
import type { Io } from "./commands.js";
import { formatBytes, parseBytes, parseDuration, table } from "./format.js";

export async function cacheCommand(store: Store, argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const snapshots = new SnapshotIndex(store.paths.snapshots);
  const records = new StepRecords(store.paths.cache, store.paths.tmp);
  if (sub === "ls") {
    parseFlags({ command: "cache ls", args: rest, options: {} });
    const sizes = await snapshotSizes(snapshots);
    const rows = (await records.list())
      .sort((a, b) => b.mtimeMs - a.mtimeMs)
      .map(({ record: r, mtimeMs }) => {
        const chain = r.diffId ? chainIdOf((r.inputs.chainId || null) as Digest | null, r.diffId) : undefined;
        const size = chain ? (sizes.get(snapshots.idOf(chain)) ?? 0) : 0;
        return [r.key.slice(7, 19), formatBytes(size), new Date(mtimeMs).toISOString().replace(/\.\d+Z$/, "Z"), r.inputs.instruction.split("\n")[0]!.slice(0, 60)];
      });
    io.out(table([["ID", "SIZE", "LAST USED", "STEP"], ...rows]));
    return 0;
  }
  if (sub === "prune") {
    const { values } = parseFlags({ command: "cache prune",
      args: rest,
      options: { all: { type: "boolean", short: "a" }, "keep-storage": { type: "string" }, filter: { type: "string", multiple: true }, force: { type: "boolean", short: "f" } },
    });
    let olderThanMs: number | undefined;
    for (const f of values.filter ?? []) {
      const m = /^until=(.+)$/.exec(f);
      if (!m) throw new KilnError("USAGE", `unsupported --filter "${f}"`, { hint: "use --filter until=24h" });
      olderThanMs = parseDuration(m[1]!);
    }
    const keepBytes = values["keep-storage"] !== undefined ? parseBytes(values["keep-storage"]) : undefined;
    const r = await pruneCache(store, snapshots, records, {
      // With no criterion, prune everything (docker's `builder prune -a`).
      all: values.all ?? (olderThanMs === undefined && keepBytes === undefined),
      ...(olderThanMs !== undefined ? { olderThanMs } : {}),
      ...(keepBytes !== undefined ? { keepBytes } : {}),
    });
    io.out(`Removed ${r.records} cache records, ${r.snapshots} snapshots, ${r.blobs} blobs\nTotal reclaimed blob space: ${formatBytes(r.bytes)}\n`);
    return 0;
  }
  throw new KilnError("USAGE", `unknown cache command "${sub ?? ""}"`, { hint: "kiln cache ls | kiln cache prune [--keep-storage 5GB] [--filter until=24h] [--all]" });
}
