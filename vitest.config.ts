import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { bundleCoreFromSource } from "./test/helpers/bundle-core-from-source.ts";

export default defineConfig({
  plugins: bundleCoreFromSource(
    fileURLToPath(new URL(".", import.meta.url)),
    process.env["SECRETWRAP_TEST_PROVIDERS_FROM"],
  ),
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
