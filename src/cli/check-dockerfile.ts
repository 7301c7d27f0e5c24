// `kiln build --check`: lint the Dockerfile without building. Prints each
// warning BuildKit-style and exits 1 when there is any, as
// `docker build --check` does.
import { readDockerfile } from "../context/read-dockerfile.js";
import { checkDockerfile, formatWarning, parseCheckDirective } from "../dockerfile/checks.js";
import { parseDockerfile } from "../dockerfile/parse.js";

export interface CheckRun {
  readonly contextDir: string;
  readonly dockerfile?: string;
  readonly err: (s: string) => void;
}

/** Returns the exit code: 0 when clean, 1 when there were warnings. */
export async function checkDockerfileCommand(run: CheckRun): Promise<number> {
  const { displayName: display, text } = await readDockerfile(run.contextDir, run.dockerfile);
  const df = parseDockerfile(text, display, { allowDuplicateStageNames: true });
  const warnings = checkDockerfile(df, text);
  for (const w of warnings) run.err(`${formatWarning(w)}\n`);
  const { error } = parseCheckDirective(df.directives.check);
  if (warnings.length === 0) {
    run.err("Check complete, no warnings found.\n");
    return 0;
  }
  if (error) {
    run.err(`ERROR: lint violation found for rules: ${[...new Set(warnings.map((w) => w.rule))].join(", ")}\n`);
    return 1;
  }
  // As buildx: --check fails on any warning, so CI can gate on it.
  run.err(`Check complete, ${warnings.length} warning${warnings.length === 1 ? " has" : "s have"} been found!\n`);
  return 1;
}
