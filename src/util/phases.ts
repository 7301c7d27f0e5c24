// Where a step's time goes: the scheduler opens a recorder around each step
// and the code deep below it (overlay mount, the runtime, the diff walk,
// tar + digest, the snapshot commit) adds the time of its phase, without a
// timer threaded through every signature. AsyncLocalStorage carries the
// recorder along the step's async calls; outside a step nothing is recorded.
import { AsyncLocalStorage } from "node:async_hooks";

export interface Phase {
  readonly name: string;
  readonly ms: number;
}

const current = new AsyncLocalStorage<Map<string, number>>();

/** Runs fn with a fresh recorder; returns its result and the phases, in the order first seen. */
export async function withPhases<T>(fn: () => Promise<T>): Promise<{ result: T; phases: Phase[] }> {
  const rec = new Map<string, number>();
  const result = await current.run(rec, fn);
  return { result, phases: [...rec].map(([name, ms]) => ({ name, ms })) };
}

/** Adds ms to the current step's phase `name` (summed when a phase repeats). */
export function addPhase(name: string, ms: number): void {
  const rec = current.getStore();
  if (rec) rec.set(name, (rec.get(name) ?? 0) + ms);
}

/** Times fn as phase `name` of the current step, also when it throws. */
export async function timePhase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    addPhase(name, performance.now() - t);
  }
}
