// ONBUILD: the trigger is stored as written in config.OnBuild; it runs
// when a later build uses this image as its base (onbuildTriggers parses
// them back for the builder to apply right after FROM).
import { parseDockerfile } from "../dockerfile/parse.js";
import type { Instruction, Location, OnbuildInstruction } from "../dockerfile/types.js";
import type { ContainerConfig } from "../oci/config.js";
import { KilnError } from "../util/errors.js";
import type { ImageState } from "../image/image-state.js";
import type { StepContext } from "./step-context.js";

/** No history entry: BuildKit's frontend records ONBUILD in the config only (the classic builder committed one). */
export function applyOnbuild(_ctx: StepContext, state: ImageState, instr: OnbuildInstruction): ImageState {
  return { ...state, config: { ...state.config, OnBuild: [...(state.config.OnBuild ?? []), instr.expression] } };
}

/**
 * The base image's triggers as instructions, located at the FROM line
 * that pulled them in (where a failing trigger is reported). The builder
 * applies them in order, then clears config.OnBuild: docker does not pass
 * triggers on to grandchildren.
 */
export function onbuildTriggers(config: ContainerConfig | undefined, from: Location): Instruction[] {
  const out: Instruction[] = [];
  for (const trigger of config?.OnBuild ?? []) {
    const keyword = (trigger.trim().split(/\s/, 1)[0] ?? "").toUpperCase();
    if (keyword === "ONBUILD" || keyword === "FROM" || keyword === "MAINTAINER") {
      throw new KilnError("ONBUILD_TRIGGER", `the base image's ONBUILD ${keyword} trigger is not allowed`, { location: from });
    }
    let parsed: Instruction | undefined;
    try {
      parsed = parseDockerfile(`FROM scratch\n${trigger}\n`, from.file).stages[0]?.instructions[0];
    } catch (err) {
      const msg = err instanceof KilnError ? err.message : String(err);
      // Keep the parser's hint ("did you mean RUN?"): the trigger's own line is not the user's to see.
      const hint = err instanceof KilnError ? err.hint : undefined;
      throw new KilnError("ONBUILD_TRIGGER", `the base image's ONBUILD trigger "${trigger}" is invalid: ${msg}`, { location: from, cause: err, hint });
    }
    if (!parsed) continue;
    out.push({ ...parsed, location: { ...from, text: `${from.text}  (ONBUILD ${trigger})` } } as Instruction);
  }
  return out;
}

/**
 * The stage to run over a base image: the base's ONBUILD triggers first
 * (reported at the FROM line), then the stage's own instructions; the
 * base state loses its OnBuild list, as in docker.
 */
export function stageWithOnbuildTriggers<S extends { from: { location: Location }; instructions: Instruction[] }>(stage: S, base: ImageState): { stage: S; state: ImageState } {
  const triggers = onbuildTriggers(base.config.OnBuild ? base.config : undefined, stage.from.location);
  if (!base.config.OnBuild) return { stage, state: base };
  const { OnBuild: _dropped, ...config } = base.config;
  return { stage: { ...stage, instructions: [...triggers, ...stage.instructions] }, state: { ...base, config } };
}
