// Instructions that only change the image config: no filesystem, no layer.
import { expandWord, expandWords } from "../dockerfile/expand.js";
import type {
  CmdInstruction, EntrypointInstruction, EnvInstruction, ExposeInstruction, LabelInstruction, ShellInstruction,
  StopsignalInstruction, UserInstruction, VolumeInstruction, CommandForm,
} from "../dockerfile/types.js";
import { envSet } from "../oci/config.js";
import { DEFAULT_SHELL } from "../plan/resolve-run.js";
import { KilnError } from "../util/errors.js";
import { withConfig, type ImageState } from "../image/image-state.js";
import { historyFor, locationOf, varsOf, type StepContext } from "./step-context.js";

export type MetadataInstruction =
  | EnvInstruction | LabelInstruction | ExposeInstruction | VolumeInstruction | EntrypointInstruction
  | CmdInstruction | ShellInstruction | StopsignalInstruction | UserInstruction;


export function shellOf(state: ImageState): string[] {
  return [...(state.config.Shell ?? DEFAULT_SHELL)];
}

export function commandArgs(state: ImageState, c: CommandForm): string[] {
  return c.form === "exec" ? [...c.args] : [...shellOf(state), c.command];
}

export function applyMetadata(ctx: StepContext, state: ImageState, instr: MetadataInstruction): ImageState {
  const vars = varsOf(ctx, state);
  const expand = (w: string) => expandWord(w, vars);
  const history = historyFor(ctx, createdBy(state, instr));
  switch (instr.kind) {
    case "env": {
      // Every pair is expanded with the environment from before the
      // instruction (the Dockerfile reference: `ENV abc=bye def=$abc` gives
      // def the old abc), as BuildKit expands the whole command first.
      let env = state.config.Env;
      for (const p of instr.pairs) env = envSet(env, expand(p.key), expand(p.value));
      return withConfig(state, { Env: env ?? [] }, history);
    }
    case "label": {
      const labels = { ...(state.config.Labels ?? {}) };
      for (const p of instr.pairs) labels[expand(p.key)] = expand(p.value);
      return withConfig(state, { Labels: labels }, history);
    }
    case "expose": {
      const ports = { ...(state.config.ExposedPorts ?? {}) };
      for (const raw of instr.ports) {
        for (const word of expandWords(raw, vars)) {
          const port = word.includes("/") ? word.toLowerCase() : `${word}/tcp`;
          if (!/^\d+(-\d+)?\/(tcp|udp|sctp)$/.test(port)) {
            throw new KilnError("INVALID_PORT", `invalid port "${word}" in EXPOSE`, { location: locationOf(instr.location), hint: "use PORT or PORT/tcp|udp|sctp" });
          }
          ports[port] = {};
        }
      }
      return withConfig(state, { ExposedPorts: ports }, history);
    }
    case "volume": {
      const volumes = { ...(state.config.Volumes ?? {}) };
      for (const p of instr.paths) {
        const v = expand(p);
        if (v === "") throw new KilnError("INVALID_VOLUME", "VOLUME needs a non-empty path", { location: locationOf(instr.location) });
        volumes[v] = {};
      }
      return withConfig(state, { Volumes: volumes }, history);
    }
    case "entrypoint": {
      const next = withConfig(state, { Entrypoint: commandArgs(state, instr), ...(state.cmdFromBase ? { Cmd: null } : {}) }, history);
      return { ...next, cmdFromBase: false };
    }
    case "cmd":
      return { ...withConfig(state, { Cmd: commandArgs(state, instr) }, history), cmdFromBase: false };
    case "shell":
      return withConfig(state, { Shell: [...instr.shell] }, history);
    case "stopsignal":
      return withConfig(state, { StopSignal: expand(instr.signal) }, history);
    case "user":
      return withConfig(state, { User: expand(instr.user) }, history);
  }
}

function createdBy(state: ImageState, instr: MetadataInstruction): string {
  switch (instr.kind) {
    case "cmd":
    case "entrypoint":
      return `${instr.kind.toUpperCase()} ${JSON.stringify(commandArgs(state, instr))}`;
    default:
      return instr.original;
  }
}
