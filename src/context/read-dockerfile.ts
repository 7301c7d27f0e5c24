// Where the Dockerfile is (-f, else CONTEXT/Dockerfile), how errors name it
// (relative to the working directory), and its text.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../util/errors.js";

export interface DockerfileSource {
  readonly path: string;
  /** The name errors and warnings show. */
  readonly displayName: string;
  readonly text: string;
}

export async function readDockerfile(contextDir: string, dockerfile?: string): Promise<DockerfileSource> {
  const file = path.resolve(dockerfile ?? path.join(contextDir, "Dockerfile"));
  const displayName = path.relative(process.cwd(), file) || "Dockerfile";
  try {
    return { path: file, displayName, text: await readFile(file, "utf8") };
  } catch {
    throw new KilnError("NO_DOCKERFILE", `cannot read Dockerfile ${displayName}`, { hint: "pass -f PATH, or put a Dockerfile in the context directory" });
  }
}
