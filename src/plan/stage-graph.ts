// Which stages a target needs, and what each waits for: FROM <stage>,
// COPY --from=<stage> and RUN --mount=from=<stage>. Pure: no I/O. A stage is
// named by its AS name or its index; a name that is no stage is an image.
import type { Dockerfile, Instruction, Stage } from "../dockerfile/types.js";
import { KilnError } from "../util/errors.js";

export interface StageNode {
  readonly stage: Stage;
  /** Indexes of stages this one reads from. */
  readonly deps: readonly number[];
}

/** Resolve a --from / FROM name to an earlier stage's index, if it names one. */
export function stageRef(df: Dockerfile, name: string, before: number): number | undefined {
  const lower = name.toLowerCase();
  const byName = df.stages.findIndex((s) => s.name === lower);
  if (byName >= 0) return byName < before ? byName : undefined;
  if (/^\d+$/.test(name)) {
    const i = Number(name);
    if (i < before) return i;
    throw new KilnError("STAGE_REF", `stage ${name} is not an earlier stage`, { hint: "refer only to stages defined above this one" });
  }
  return undefined;
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
export function neededStages(df: Dockerfile, target: number, fromNames: readonly string[]): StageNode[] {
  const nodes = new Map<number, StageNode>();
  const order: StageNode[] = [];
  const visit = (i: number, path: number[]): void => {
    if (nodes.has(i)) return;
    if (path.includes(i)) throw new KilnError("STAGE_CYCLE", `stages depend on each other in a cycle: ${[...path, i].join(" -> ")}`);
    const stage = df.stages[i]!;
    const deps = new Set<number>();
    const fromStage = stageRef(df, fromNames[i]!, i);
    if (fromStage !== undefined) deps.add(fromStage);
    for (const instr of stage.instructions) {
      for (const r of refsOf(instr)) {
        const d = stageRef(df, r, i);
        if (d !== undefined) deps.add(d);
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
