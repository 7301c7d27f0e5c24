// The key format is forever once caches live in registries: pinned here.
import { describe, expect, it } from "vitest";
import { digestFields } from "../../src/cache/key.js";
import { StatMemo } from "../../src/cache/stat-memo.js";
import type { FileStat } from "../../src/cache/stat-memo.js";

describe("canonical key encoding", () => {
  // The fields of a v1 step key (the encoding every key kind shares): the digest is unchanged since v1.
  const fields = [
    "kiln.cache.step.v1",
    "sha256:6b58b1ebf1b908868285395059223585e192b66b12f2f3e251a947fbc6190907",
    "linux/amd64",
    "RUN echo hi",
    '{"Env":["PATH=/bin"],"User":"","WorkingDir":"","Shell":null}',
    "1",
    "VERSION",
    "1.2",
    "",
    "",
  ];

  it("golden digest for fixed fields", () => {
    expect(digestFields(fields)).toBe(GOLDEN);
  });

  it("fields cannot bleed into each other (no separator ambiguity)", () => {
    expect(digestFields(["A", "bc"])).not.toBe(digestFields(["Ab", "c"]));
    expect(digestFields(["RUN echo h", "iX"])).not.toBe(digestFields(["RUN echo hi", "X"]));
    expect(digestFields([...fields, ""])).not.toBe(digestFields(fields));
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
