// `kiln build --check`: lint the Dockerfile without building. Prints each
// warning BuildKit-style and fails only when the file asks for it
// (`# check=error=true`), as `docker build --check` does.
import { readDockerfile } from "../context/read-dockerfile.js";
import { checkDockerfile, formatWarning, parseCheckDirective } from "../dockerfile/checks.js";
import { parseDockerfile } from "../dockerfile/parse.js";

export interface CheckRun {
  readonly contextDir: string;
  readonly dockerfile?: string;
  readonly err: (s: string) => void;
}

/** Returns the exit code: 0, or 1 when error=true and there were warnings. */
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
  return 0;
}
