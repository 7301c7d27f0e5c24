import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["./test/helpers/no-docker-hub.ts"],
    // The differential tier (kiln against dockerd's BuildKit on a corpus,
    // with apt/npm downloads) runs on its own: npm run test:differential.
    exclude: ["test/differential/**", "**/node_modules/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Integration tests mount overlays and run runc; two cores here.
    maxWorkers: 2,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
});
