import { KilnError } from "../util/errors.js";
import { buildInstruction, KEYWORDS, type RawInstruction } from "./instructions.js";
import { scanDockerfile, splitInstruction } from "./scan.js";
import { suggest } from "./suggest.js";
import type { ArgInstruction, Dockerfile, Heredoc, Instruction, Location, Stage } from "./types.js";

// Second pass: typed instructions grouped into stages, with the structural
// rules (FROM first, unique stage names) checked.

function unknownInstruction(written: string, location: Location): KilnError {
  const guess = suggest(written, KEYWORDS);
  return new KilnError(
    "DOCKERFILE_UNKNOWN_INSTRUCTION",
    `unknown instruction: ${written}`,
    { location, hint: guess ? `did you mean ${guess}?` : `instructions are ${KEYWORDS.join(", ")}` },
  );
}

export interface ParseOptions {
  /** Keep going past a duplicate stage name (lint mode reports it as DuplicateStageName). */
  readonly allowDuplicateStageNames?: boolean;
}

export function parseDockerfile(text: string, file = "Dockerfile", opts: ParseOptions = {}): Dockerfile {
  const { directives, instructions, lines } = scanDockerfile(text, file);
  const escape = directives.escape;
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  const stageNames = new Map<string, number>();

  const parseTrigger = (triggerText: string, location: Location, heredocs: Heredoc[]): Instruction => {
    const parts = splitInstruction(triggerText, escape);
    if (!KEYWORDS.includes(parts.keyword)) throw unknownInstruction(parts.written, location);
    const raw: RawInstruction = { ...parts, location, original: triggerText, escape, heredocs };
    const built = buildInstruction(raw, parseTrigger);
    if (built.kind === "from") throw new KilnError("DOCKERFILE_ARGS", "FROM isn't allowed as an ONBUILD trigger", { location });
    return built;
  };

  for (const raw of instructions) {
    if (!KEYWORDS.includes(raw.keyword)) throw unknownInstruction(raw.written, raw.location);
    const built = buildInstruction(raw, parseTrigger);
    if (built.kind === "from") {
      const stage: Stage = { index: stages.length, from: built, instructions: [] };
      if (built.stageName !== undefined) {
        const previous = stageNames.get(built.stageName);
        if (previous !== undefined && !opts.allowDuplicateStageNames) {
          throw new KilnError("DOCKERFILE_STAGE", `duplicate stage name "${built.stageName}"`, {
            location: raw.location,
            hint: `stage ${previous} already uses this name`,
          });
        }
        if (previous === undefined) stageNames.set(built.stageName, stage.index);
        stage.name = built.stageName;
      }
      stages.push(stage);
      continue;
    }
    const current = stages.at(-1);
    if (current !== undefined) current.instructions.push(built);
    else if (built.kind === "arg") metaArgs.push(built);
    else {
      throw new KilnError("DOCKERFILE_NO_FROM", `${raw.keyword} before the first FROM`, {
        location: raw.location,
        hint: "only ARG may come before the first FROM",
      });
    }
  }

  if (stages.length === 0) {
    throw new KilnError("DOCKERFILE_NO_FROM", "dockerfile contains no stages to build: the Dockerfile has no FROM instruction", {
      location: { file, line: 1, text: lines[0] ?? "" },
      hint: "start a build stage with FROM IMAGE",
    });
  }
  return { file, directives, metaArgs, stages };
}
