import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Integration tests mount overlays and run runc; two cores here.
    maxWorkers: 2,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
