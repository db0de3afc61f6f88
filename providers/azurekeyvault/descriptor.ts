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
  // No checkVersion, on purpose: Key Vault has no cheap way to learn a secret's current version.
  // Get Secret, the only call that names the current version, returns the value with it. Get Secret
  // Versions lists versions without values, but needs the secrets/list permission (an access policy
  // granting only Get lacks it), answers at most 25 a page in no documented order, so finding the
  // newest reads every page (a secret rotated daily has ~15 pages after a year): more requests than
  // one Get, not fewer. Get Secrets names no version at all, and Key Vault answers no conditional
  // request (no ETag / If-None-Match). So `--watch` fetches the secret and compares the bytes;
  // Fetched.version still carries the Key Vault version id (from the answer's id) for the audit line.
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
