// `npm run test:differential`: kiln against a real BuildKit on testdata/differential
// (see test/differential/differential.test.ts). Not part of `npm test`: it
// starts dockerd and downloads Debian and npm packages for a few cases.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/differential/**/*.test.ts"],
    testTimeout: 15 * 60_000,
    hookTimeout: 5 * 60_000,
    pool: "forks",
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
