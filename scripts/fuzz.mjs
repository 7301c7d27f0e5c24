#!/usr/bin/env node
// `npm run fuzz [-- COUNT [SEED]]`: the Dockerfile parser/expander fuzz test
// (test/security/dockerfile-fuzz.test.ts) with more inputs than the 5,000
// `npm test` runs, and any seed. Default: 200,000 inputs, a seed from the clock
// (printed, so a failure can be replayed with the same seed).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [countArg, seedArg] = process.argv.slice(2);
const count = Number(countArg ?? 200_000);
const seed = Number(seedArg ?? Date.now() % 2 ** 31);
if (!Number.isSafeInteger(count) || count <= 0 || !Number.isSafeInteger(seed)) {
  console.error("usage: npm run fuzz -- [COUNT] [SEED]   (positive integers)");
  process.exit(2);
}
console.log(`fuzz: ${count} inputs, seed ${seed}`);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const r = spawnSync("npx", ["vitest", "run", "test/security/dockerfile-fuzz.test.ts"], {
  cwd: repo,
  stdio: "inherit",
  env: { ...process.env, FUZZ_INPUTS: String(count), FUZZ_SEED: String(seed) },
});
process.exit(r.status ?? 1);
