// Progress events: the build reports, the CLI (or a library user) renders.
import type { SourceLocation } from "../util/errors.js";
import type { Phase } from "../util/phases.js";

export type BuildEvent =
  | { readonly kind: "step-start"; readonly id: number; readonly name: string }
  | { readonly kind: "step-log"; readonly id: number; readonly stream: "stdout" | "stderr"; readonly data: Buffer }
  | { readonly kind: "step-done"; readonly id: number; readonly ms: number; readonly note?: string; readonly phases?: readonly Phase[] }
  | { readonly kind: "step-failed"; readonly id: number; readonly ms: number }
  | { readonly kind: "cache-miss"; readonly id: number; readonly reason: string }
  | { readonly kind: "warning"; readonly message: string; readonly location?: SourceLocation }
  | { readonly kind: "info"; readonly message: string }
  /** Time of work outside any step (writing the image's layers), printed by --progress plain. */
  | { readonly kind: "phases"; readonly label: string; readonly phases: readonly Phase[] };

export type EventSink = (e: BuildEvent) => void;

export const ignoreEvents: EventSink = () => {};
