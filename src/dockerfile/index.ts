// Dockerfile text → typed instructions, and the word expander the planner
// applies to them.

export { parseDockerfile } from "./parse.js";
export { expandWord, expandWords, expandWordWithMatches, lookupFrom, type ExpandOptions, type ExpandResult, type VarLookup } from "./expand.js";
export { dumpDockerfile } from "./dump.js";
export type * from "./types.js";
