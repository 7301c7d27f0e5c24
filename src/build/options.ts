import type { RuntimeName } from "../exec/find-runtime.js";
import type { NetworkMode } from "../exec/runtime-spec.js";
import type { Platform } from "../oci/platform.js";
import type { Store } from "../store/store.js";
import type { EventSink } from "./events.js";

export type Output =
  | { readonly kind: "oci"; readonly dest: string; readonly tar: boolean }
  | { readonly kind: "docker"; readonly dest: string }
  | { readonly kind: "local"; readonly dest: string };

export interface BuildOptions {
  readonly store: Store;
  readonly contextDir: string;
  /** Path of the Dockerfile on the host (default: CONTEXT/Dockerfile). */
  readonly dockerfile?: string;
  readonly tags?: readonly string[];
  readonly buildArgs?: Readonly<Record<string, string>>;
  readonly network?: NetworkMode;
  readonly runtime?: RuntimeName;
  /** PATH searched for the runtime binary (default: this process's PATH). */
  readonly runtimeSearchPath?: string;
  readonly platform?: Platform;
  readonly target?: string;
  readonly outputs?: readonly Output[];
  /** Clamp file times and image timestamps: same inputs, same digests. */
  readonly sourceDateEpoch?: number;
  readonly onEvent?: EventSink;
  /** Abort to stop the build cleanly: the running step is stopped and nothing is committed. */
  readonly signal?: AbortSignal;
}
