// What every instruction handler may use. Handlers take this plus the image
// state and return the next state; nothing else is shared between them.
import type { IgnoreMatcher } from "../context/dockerignore.js";
import type { VarLookup } from "../dockerfile/expand.js";
import type { Location } from "../dockerfile/types.js";
import type { RuntimeName } from "../exec/find-runtime.js";
import type { NetworkMode } from "../exec/runtime-spec.js";
import type { SandboxOptions } from "../exec/sandbox.js";
import type { SecretSource } from "../exec/secret-source.js";
import type { SshSource } from "../exec/ssh-agent.js";
import { envLookup } from "../oci/config.js";
import type { ImageState } from "../image/image-state.js";
import type { FromSource } from "../snapshot/source-view.js";
import type { LayerStepEnv } from "../snapshot/layer-step.js";

export interface StepContext {
  /** HTTP_PROXY & co. from --build-arg: RUN's environment only (proxy-args.ts). */
  readonly proxyEnv?: readonly string[];
  /** Layers of an earlier stage or an image in the store (COPY --from, RUN --mount=from). */
  readonly fromSource?: (name: string) => Promise<FromSource>;
  readonly stepId: number;
  readonly layerEnv: LayerStepEnv;
  readonly contextDir: string;
  readonly ignore: IgnoreMatcher;
  readonly network: NetworkMode;
  readonly runtime: RuntimeName;
  readonly runtimeSearchPath?: string;
  /** Timestamp written into history entries. */
  readonly created: string;
  /** RUN's output, as it comes (the build turns it into step-log events). */
  readonly log: (stream: "stdout" | "stderr", data: Buffer) => void;
  /** ARGs declared in this stage so far, with their values (undefined = declared, no value). */
  readonly args: ReadonlyMap<string, string | undefined>;
  readonly signal?: AbortSignal;
  /** Build secrets by id, for RUN --mount=type=secret. */
  readonly secrets?: readonly SecretSource[];
  /**
   * Set when the step runs without the cache (--no-cache): each cache mount
   * directory starts empty the first time this build uses it (as BuildKit);
   * the set holds the directories already emptied.
   */
  readonly emptyCacheMounts?: Set<string>;
  /** --ssh agents by id, for RUN --mount=type=ssh. */
  readonly sshSources?: readonly SshSource[];
  /** Seccomp, --allow security.insecure and the process limits for RUN. */
  readonly sandbox?: SandboxOptions;
  /** Directory for RUN --mount=type=cache (the store's cache/mounts). */
  readonly cacheMountsDir?: string;
}

/** Expansion scope: ENV wins over ARG, as in docker. */
export function varsOf(ctx: Pick<StepContext, "args">, state: ImageState): VarLookup {
  return (name) => envLookup(state.config.Env, name) ?? ctx.args.get(name);
}

/** History entry for an instruction, in BuildKit's style. */
export function historyFor(ctx: Pick<StepContext, "created">, createdBy: string) {
  return { created: ctx.created, created_by: createdBy, comment: "buildkit.dockerfile.v0" };
}

export function locationOf(l: Location) {
  return { file: l.file, line: l.line, text: l.text, ...(l.more ? { more: l.more } : {}) };
}
