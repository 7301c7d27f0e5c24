// MAINTAINER (deprecated, still honoured): sets the image's `author`, as
// docker and BuildKit do. ImageState has no author field yet, so the
// state carries it as an extra property until it does (see the report).
import type { MaintainerInstruction } from "../dockerfile/types.js";
import { withConfig, type ImageState } from "../image/image-state.js";
import { historyFor, type StepContext } from "./step-context.js";

export type StateWithAuthor = ImageState & { readonly author?: string };

export function applyMaintainer(ctx: StepContext, state: ImageState, instr: MaintainerInstruction): StateWithAuthor {
  // Not expanded: MAINTAINER is not among the instructions BuildKit expands.
  const author = instr.maintainer;
  const next: StateWithAuthor = { ...withConfig(state, {}, historyFor(ctx, `MAINTAINER ${author}`)), author };
  return next;
}
