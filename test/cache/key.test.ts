// The key format is forever once caches live in registries: pinned here.
import { describe, expect, it } from "vitest";
import { stepKey } from "../../src/cache/key.js";
import { StatMemo } from "../../src/cache/stat-memo.js";
import type { FileStat } from "../../src/cache/stat-memo.js";

describe("cache keys", () => {
  const input = {
    chainId: "sha256:6b58b1ebf1b908868285395059223585e192b66b12f2f3e251a947fbc6190907",
    platform: "linux/amd64",
    instruction: "RUN echo hi",
    config: '{"Env":["PATH=/bin"],"User":"","WorkingDir":"","Shell":null}',
    args: [["VERSION", "1.2"]] as [string, string][],
    content: "",
    epoch: "",
  };

  it("golden key for a fixed input", () => {
    expect(stepKey(input)).toBe(GOLDEN);
  });

  it("fields cannot bleed into each other (no separator ambiguity)", () => {
    const a = stepKey({ ...input, args: [["A", "bc"]] });
    const b = stepKey({ ...input, args: [["Ab", "c"]] });
    expect(a).not.toBe(b);
    expect(stepKey({ ...input, instruction: "RUN echo h", config: `i${input.config}` })).not.toBe(stepKey(input));
    expect(stepKey({ ...input, epoch: "0" })).not.toBe(stepKey(input));
  });
});

describe("stat memo", () => {
  const st = (ctimeNs: bigint) => ({ dev: 1n, ino: 2n, size: 3n, mtimeNs: 10n, ctimeNs }) as FileStat;
  it("trusts an entry only when the file is older than the memo by the racy margin", async () => {
    const memo = await StatMemo.load("/nonexistent/memo.json");
    const taken = 5_000_000_000n;
    memo.remember("/f", st(1_000_000_000n), "old", taken);
    expect(memo.lookup("/f", st(1_000_000_000n))).toBe("old");
    memo.remember("/g", st(4_500_000_000n), "racy", taken);
    expect(memo.lookup("/g", st(4_500_000_000n))).toBeUndefined();
    expect(memo.lookup("/f", st(1_000_000_001n))).toBeUndefined();
  });
});

const GOLDEN = "sha256:0627a168a7e3e6ca8d2d0e3f8136569d0191e7d15b3b9301102f18706ef32fb0";
