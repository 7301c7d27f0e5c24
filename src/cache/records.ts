// Step records: what a cached step produced (its layer's diffID, or none)
// and the inputs it was computed from, so a later miss can be explained
// against them. cache/steps/<key>.json; cache/last/<step-id>.json points at
// the newest record for one Dockerfile step, the "previous run" of a miss.
import { readFileSync, renameSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { mkdir, readFile, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { createHash } from "node:crypto";
import type { ContainerConfig, HistoryEntry } from "../oci/config.js";
import { digestHex, isDigest, parseDigest, type Digest } from "../oci/digest.js";
import { writeFileDurable } from "../store/durable-file.js";

export interface StepInputs {
  readonly instruction: string;
  readonly platform: string;
  readonly chainId: string;
  /** Base image manifest digest of the stage, to say "base image changed". */
  readonly base: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly args: Readonly<Record<string, string>>;
  readonly files?: Readonly<Record<string, string>>;
  /** COPY --from: the source stage's or image's filesystem (name and chainID). */
  readonly from?: string;
  /** SOURCE_DATE_EPOCH, or "" when times were not clamped. */
  readonly epoch?: string;
}

/** The instruction as a record shows it: the logical line, then each heredoc body. */
export function writtenInstruction(instr: { readonly original: string; readonly heredocs?: readonly { readonly name: string; readonly content: string }[] }): string {
  const docs = instr.heredocs ?? [];
  return instr.original + (docs.length ? `\n${docs.map((h) => `<<${h.name}\n${h.content}`).join("\n")}` : "");
}

export interface StepRecord {
  readonly version: 1;
  readonly key: Digest;
  readonly inputs: StepInputs;
  readonly diffId: Digest | null;
  readonly history: HistoryEntry;
  /** Config fields the step changed (WORKDIR's WorkingDir), re-applied on a hit. */
  readonly configPatch?: Partial<ContainerConfig>;
}

/** Whether an imported value (a cache from a registry or a directory) has the shape of a StepRecord. */
export function isStepRecord(v: unknown): v is StepRecord {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  const isObject = (x: unknown) => typeof x === "object" && x !== null && !Array.isArray(x);
  return (
    r.version === 1 &&
    typeof r.key === "string" &&
    isDigest(r.key) &&
    (r.diffId === null || (typeof r.diffId === "string" && isDigest(r.diffId))) &&
    isObject(r.inputs) &&
    isObject(r.history) &&
    (r.configPatch === undefined || isObject(r.configPatch))
  );
}

export class StepRecords {
  constructor(
    readonly dir: string,
    readonly tmpDir: string,
  ) {}

  /**
   * Content digests of paths inside immutable chains (RUN --mount=from=
   * sources, see steps/run-mount-sources.ts), remembered by chainID and path.
   */
  get mountDigestDir(): string {
    return path.join(this.dir, "mount-digests");
  }

  #file(key: Digest): string {
    // parseDigest: a key from an imported cache must never become "../" in a path.
    return path.join(this.dir, "steps", `${digestHex(parseDigest(key))}.json`);
  }

  // Records and `last/` pointers are small JSON files in the local store, read
  // one or two per cached step: synchronously, as one open/read/close, where
  // fs.promises.readFile is four thread-pool round trips (~0.2 ms here) that
  // a no-op rebuild spent idle, step after step.
  async get(key: Digest): Promise<StepRecord | undefined> {
    try {
      const r = JSON.parse(readFileSync(this.#file(key), "utf8")) as StepRecord;
      return r.version === 1 && r.key === key ? r : undefined;
    } catch {
      return undefined;
    }
  }

  async put(r: StepRecord, stepId: string): Promise<void> {
    await mkdir(path.join(this.dir, "steps"), { recursive: true });
    await mkdir(path.join(this.dir, "last"), { recursive: true });
    await writeFileDurable(this.#file(r.key), JSON.stringify(r), this.tmpDir);
    this.#setLast(stepId, r.key);
  }

  // Which record the step used last, to explain the next miss against: advisory,
  // so written atomically but not fsynced. A pointer that already names the
  // key is left alone: a no-op rebuild used to rewrite one per cached step,
  // and now only reads it. Synchronous, so two builds in this process never
  // interleave on the temp name (which carries only the pid).
  #setLast(stepId: string, key: Digest): void {
    const file = path.join(this.dir, "last", `${stepId}.json`);
    const text = JSON.stringify({ key });
    try {
      if (readFileSync(file, "utf8") === text) return;
    } catch {
      // none yet
    }
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, text);
      renameSync(tmp, file);
    } catch (e) {
      try {
        unlinkSync(tmp);
      } catch {
        // not created
      }
      throw e;
    }
  }

  /** Adds a record from an imported cache unless this store has one for the key. */
  async adopt(r: StepRecord): Promise<boolean> {
    if (r.version !== 1 || (await this.get(r.key))) return false;
    await mkdir(path.join(this.dir, "steps"), { recursive: true });
    await writeFileDurable(this.#file(r.key), JSON.stringify(r), this.tmpDir);
    return true;
  }

  async previous(stepId: string): Promise<StepRecord | undefined> {
    try {
      const { key } = JSON.parse(readFileSync(path.join(this.dir, "last", `${stepId}.json`), "utf8")) as { key: Digest };
      return await this.get(key);
    } catch {
      return undefined;
    }
  }

  async list(): Promise<{ record: StepRecord; size: number; mtimeMs: number }[]> {
    const out = [];
    for (const name of await readdir(path.join(this.dir, "steps")).catch(() => [] as string[])) {
      const p = path.join(this.dir, "steps", name);
      try {
        const st = await stat(p);
        out.push({ record: JSON.parse(await readFile(p, "utf8")) as StepRecord, size: st.size, mtimeMs: st.mtimeMs });
      } catch {
        // removed meanwhile
      }
    }
    return out;
  }

  /** Marks a record as just used: for least-recently-used pruning, and as the step's last run. */
  async touch(key: Digest, stepId: string): Promise<void> {
    // Both best effort, as before: the mtime orders `kiln cache prune`, the
    // pointer only words a later miss's explanation.
    const t = new Date();
    try {
      utimesSync(this.#file(key), t, t);
    } catch {
      // removed meanwhile
    }
    try {
      this.#setLast(stepId, key);
    } catch {
      // advisory
    }
  }

  async remove(key: Digest): Promise<void> {
    await rm(this.#file(key), { force: true });
  }
}

/** Identity of one Dockerfile step across runs: file, stage, position. */
export function stepIdentity(dockerfile: string, stage: number, index: number, platform: string): string {
  return createHash("sha256").update(`${dockerfile}\0${stage}\0${index}\0${platform}`).digest("hex").slice(0, 32);
}
