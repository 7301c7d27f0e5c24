// Dockerfile text → typed instructions, and the word expander the planner
// applies to them.

export { parseDockerfile } from "./parse.js";
export { expandWord, expandWordAt, expandWords, expandWordWithMatches, lookupFrom, type ExpandOptions, type ExpandResult, type VarLookup } from "./expand.js";
export { dumpDockerfile } from "./dump.js";
export type * from "./types.js";
