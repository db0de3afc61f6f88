// A provider bundle imports secretwrap's own code from ../core.js (scripts/build.mjs). When a suite runs
// a built provider (SECRETWRAP_TEST_PROVIDERS_FROM, test/helpers/provider-under-test.ts), that import is
// served from src/core.ts, the module core.js is built from: the suite's own src/ imports then share
// one SecretwrapError class (and every cache) with the provider, as core.js and the provider do in a
// run. core.js itself is what the end-to-end suites run.
import { dirname, join, resolve } from "node:path";
import type { Plugin } from "vitest/config";

export function bundleCoreFromSource(repo: string, providersFrom: string | undefined): Plugin[] {
  if (providersFrom === undefined) return [];
  const providers = resolve(repo, providersFrom, "providers");
  return [
    {
      name: "bundle-core-from-source",
      enforce: "pre",
      resolveId(source, importer) {
        if (source !== "../core.js" || importer === undefined || dirname(importer) !== providers) return null;
        return join(repo, "src/core.ts");
      },
    },
  ];
}
