// Progress names as BuildKit gives them: only the steps that make a
// filesystem vertex are shown and numbered, per stage (`[base 2/3] RUN …`),
// with the stage's name (`stage-N` when unnamed; none when the Dockerfile
// has a single stage) and, in a multi-platform build, the platform first
// (`[linux/arm64 base 2/3]`). FROM counts only when it loads an image (not
// scratch, not another stage); ENV, ARG, USER and the other config-only
// instructions are not steps at all.
import type { Instruction } from "../dockerfile/types.js";

/** RUN, COPY, ADD and WORKDIR: the instructions BuildKit shows as a step. */
export function isShownStep(instr: Instruction): boolean {
  return instr.kind === "run" || instr.kind === "copy" || instr.kind === "add" || instr.kind === "workdir";
}

export class StageStepNames {
  #index = 0;
  #total: number;
  readonly #prefix: string;

  /** `total`: the shown steps of the stage, FROM included when it loads an image. */
  constructor(opts: { platformLabel?: string; stageLabel?: string; total: number }) {
    this.#prefix = [opts.platformLabel, opts.stageLabel].filter((p) => p).map((p) => `${p} `).join("");
    this.#total = opts.total;
  }

  /** A base image's ONBUILD triggers add steps once the base is known. */
  grow(n: number): void {
    this.#total += n;
  }

  /** The next step's name, its number right-aligned to the width of the total (`[ 3/12]`). */
  next(text: string): string {
    this.#index++;
    const width = String(this.#total).length;
    return `[${this.#prefix}${String(this.#index).padStart(width)}/${this.#total}] ${text}`;
  }
}

/** The stage's label in step names: its name, else `stage-N`; none for a single-stage Dockerfile. */
export function stageLabel(stage: { index: number; name?: string }, stageCount: number): string | undefined {
  if (stageCount === 1) return undefined;
  return stage.name ?? `stage-${stage.index}`;
}
