// The exit status of every kiln command, decided here and nowhere else:
// 0 on success; 2 for a usage error (a flag or argument kiln cannot take,
// including node:util parseArgs's own ERR_PARSE_ARGS_*), as docker and
// getopt tools do; 128 + the signal's number when interrupted (130 for
// SIGINT, 143 for SIGTERM), as shells report it; 1 for every other error.
// docs/errors.md lists the codes.
import { KilnError, type KilnErrorCode } from "../util/errors.js";

/** Codes whose exit status is not 1. */
const EXIT_CODES: { readonly [C in KilnErrorCode]?: number } = { USAGE: 2 };

/** The exit status for a command that failed with `err` (after Ctrl-C: pass the command's signal). */
export function exitCodeFor(err: unknown, signal?: AbortSignal): number {
  if (signal?.aborted || isInterruption(err)) return (signal?.reason as { exitCode?: number } | undefined)?.exitCode ?? 130;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (err instanceof KilnError) return EXIT_CODES[err.code] ?? 1;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS") ? 2 : 1;
}

export function isInterruption(err: unknown): boolean {
  return (err as { code?: unknown })?.code === "INTERRUPTED" || (err as { name?: unknown })?.name === "AbortError";
}
