// What the core knows of the azurekeyvault provider without loading it (src/provider-api.ts).
import type { ProviderDescriptor } from "../../src/provider-api.ts";
import type { Options } from "./options.ts";

const VAULT = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$/;
const SECRET = /^[0-9A-Za-z-]{1,127}$/;
const VERSION = /^[0-9a-fA-F]{32}$/;

export const descriptor: ProviderDescriptor<Options> = {
  scheme: "azurekeyvault",
  summary: "Azure Key Vault",
  example: "ref+azurekeyvault://my-kv/db-pass",
  ownBundle: true,
  capabilities: {},
  options: async () => (await import("./options.ts")).schema,
  load: async () => (await import("./index.ts")).provider,
  envPrefixes: ["AZURE_", "IDENTITY_", "MSI_", "IMDS_"],
  // @azure/logger's level: it prints request details.
  appOnlyVariables: ["AZURE_LOG_LEVEL"],
  locator: {
    params: [],
    check(locator) {
      const [vault, secret, version, ...rest] = locator.split("/");
      if (vault === undefined || secret === undefined || rest.length > 0) {
        return "an Azure locator is <vault-name>/<secret>[/<version>]";
      }
      if (!VAULT.test(vault))
        return "a vault name is 3-24 letters, digits and single hyphens, starting with a letter";
      if (!SECRET.test(secret)) return "a secret name is 1-127 letters, digits and hyphens";
      if (version !== undefined && !VERSION.test(version)) return "a version is 32 hexadecimal characters";
      return undefined;
    },
  },
};
