// Progress events: the build reports, the CLI (or a library user) renders.
import type { SourceLocation } from "../util/errors.js";

export type BuildEvent =
  | { readonly kind: "step-start"; readonly id: number; readonly name: string }
  | { readonly kind: "step-log"; readonly id: number; readonly stream: "stdout" | "stderr"; readonly data: Buffer }
  | { readonly kind: "step-done"; readonly id: number; readonly ms: number; readonly note?: string }
  | { readonly kind: "step-failed"; readonly id: number; readonly ms: number }
  | { readonly kind: "cache-miss"; readonly id: number; readonly reason: string }
  | { readonly kind: "warning"; readonly message: string; readonly location?: SourceLocation }
  | { readonly kind: "info"; readonly message: string };

export type EventSink = (e: BuildEvent) => void;

export const ignoreEvents: EventSink = () => {};
