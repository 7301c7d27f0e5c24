// Which stages a target needs, and what each waits for: FROM <stage>,
// COPY --from=<stage> and RUN --mount=from=<stage>. Pure: no I/O. A stage is
// named by its AS name or its index; a name that is no stage is an image.
// A stage that a --build-context of its name replaces is no stage here: its
// name then resolves like an image name (to that context).
import type { Dockerfile, Instruction, Stage } from "../dockerfile/types.js";
import { KilnError } from "../util/errors.js";

export interface StageNode {
  readonly stage: Stage;
  /** Indexes of stages this one reads from. */
  readonly deps: readonly number[];
}

/** Resolve a --from / FROM name to an earlier stage's index, if it names one (and no context replaces it). */
export function stageRef(df: Dockerfile, name: string, before: number, replaced: ReadonlySet<number> = new Set()): number | undefined {
  const lower = name.toLowerCase();
  const byName = df.stages.findIndex((s) => s.name === lower);
  if (byName >= 0) return byName < before && !replaced.has(byName) ? byName : undefined;
  if (/^\d+$/.test(name)) {
    const i = Number(name);
    if (i < before) return i;
    throw new KilnError("STAGE_REF", `stage ${name} is not an earlier stage`, { hint: "refer only to stages defined above this one" });
  }
  return undefined;
}

/** BuildKit refuses COPY --from / --mount from= a stage defined at or after the current one. */
function checkOrder(df: Dockerfile, instr: Instruction, name: string, current: number): void {
  const later = df.stages.findIndex((s) => s.name === name.toLowerCase());
  if (later < current) return;
  const here = df.stages[current]!.name ?? `stage-${current}`;
  const what = instr.kind === "copy" ? "copy" : "mount";
  throw new KilnError("STAGE_ORDER", `cannot ${what} from stage "${name}", it needs to be defined before current stage "${here}"`, {
    location: instr.location,
    hint: `stage "${name}" is defined at ${df.stages[later]!.from.location.file}:${df.stages[later]!.from.location.line}: move it above this stage`,
  });
}

function refsOf(instr: Instruction): string[] {
  if (instr.kind === "copy" && instr.from !== undefined) return [instr.from];
  if (instr.kind === "run") return instr.flags.mounts.flatMap((m) => (m.from !== undefined ? [m.from] : []));
  return [];
}

/**
 * The stages `target` needs, each once, dependencies before dependents.
 * Names are taken literally here (the builder expands ARGs in FROM first and
 * passes the expanded base name in `fromNames`).
 */
export function neededStages(df: Dockerfile, target: number, fromNames: readonly string[], replaced: ReadonlySet<number> = new Set()): StageNode[] {
  const nodes = new Map<number, StageNode>();
  const order: StageNode[] = [];
  const visit = (i: number, path: number[]): void => {
    if (nodes.has(i)) return;
    if (path.includes(i)) throw new KilnError("STAGE_CYCLE", `stages depend on each other in a cycle: ${[...path, i].join(" -> ")}`);
    const stage = df.stages[i]!;
    const deps = new Set<number>();
    const fromStage = replaced.has(i) ? undefined : stageRef(df, fromNames[i]!, i, replaced);
    if (fromStage !== undefined) deps.add(fromStage);
    for (const instr of replaced.has(i) ? [] : stage.instructions) {
      for (const r of refsOf(instr)) {
        const d = stageRef(df, r, i, replaced);
        if (d !== undefined) deps.add(d);
        else checkOrder(df, instr, r, i);
      }
    }
    for (const d of deps) visit(d, [...path, i]);
    const node = { stage, deps: [...deps] };
    nodes.set(i, node);
    order.push(node);
  };
  visit(target, []);
  return order;
}
