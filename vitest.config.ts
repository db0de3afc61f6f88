import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global/shm-leftovers.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: the end-to-end suites start many processes and servers.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
