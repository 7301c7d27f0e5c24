// Where the Dockerfile is (-f, else CONTEXT/Dockerfile), how errors name it
// (relative to the working directory), and its text.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../util/errors.js";

export interface DockerfileSource {
  readonly path: string;
  /** The name errors and warnings show. */
  readonly displayName: string;
  readonly text: string;
}

export async function readDockerfile(contextDir: string, dockerfile?: string): Promise<DockerfileSource> {
  // A wrong context path is the likelier mistake than a missing Dockerfile: say that first.
  const ctx = await stat(contextDir).catch(() => undefined);
  if (!ctx) throw new KilnError("NO_CONTEXT", `build context "${contextDir}" does not exist`, { hint: "the last argument of kiln build is the context directory, e.g. kiln build -t app:1 ." });
  if (!ctx.isDirectory()) throw new KilnError("NO_CONTEXT", `build context "${contextDir}" is not a directory`, { hint: "to build from a tar, pipe it: kiln build - < context.tar" });
  const file = path.resolve(dockerfile ?? path.join(contextDir, "Dockerfile"));
  const displayName = path.relative(process.cwd(), file) || "Dockerfile";
  try {
    return { path: file, displayName, text: await readFile(file, "utf8") };
  } catch (err) {
    // Without -f, a context with only a lowercase `dockerfile` is built from it, as BuildKit does.
    if (dockerfile === undefined && (err as NodeJS.ErrnoException).code === "ENOENT") {
      const lower = path.join(path.resolve(contextDir), "dockerfile");
      const text = await readFile(lower, "utf8").catch(() => undefined);
      if (text !== undefined) return { path: lower, displayName: path.relative(process.cwd(), lower) || "dockerfile", text };
    }
    throw new KilnError("NO_DOCKERFILE", `cannot read Dockerfile ${displayName}`, { hint: "pass -f PATH, or put a Dockerfile in the context directory" });
  }
}
