// What the core knows of the file provider without loading it (src/provider-api.ts). It has no SDK:
// its implementation is part of core.js.
import type { ProviderDescriptor } from "../../src/provider-api.ts";
import type { FileOptions } from "./options.ts";

export const descriptor: ProviderDescriptor<FileOptions> = {
  scheme: "file",
  summary: "local files (development, secrets mounted by an orchestrator)",
  example: "ref+file://./dev/token",
  ownBundle: false,
  capabilities: { checkVersion: true },
  options: async () => (await import("./options.ts")).schema,
  load: async () => (await import("./index.ts")).provider,
  envPrefixes: [],
  appOnlyVariables: [],
  locator: {
    params: [],
    check(locator) {
      if (locator.includes("\0")) return "a path may not contain NUL";
      return undefined;
    },
  },
};
