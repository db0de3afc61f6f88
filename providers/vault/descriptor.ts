// What the core knows of the vault provider without loading it (src/provider-api.ts).
import type { ProviderDescriptor } from "../../src/provider-api.ts";
import type { Options } from "./options.ts";

const POSITIVE_INT = /^[1-9][0-9]{0,9}$/;
const SEGMENT = /^[^/\s?#]+$/;

export const descriptor: ProviderDescriptor<Options> = {
  scheme: "vault",
  summary: "HashiCorp Vault and OpenBao: KV v1/v2 and other engines",
  example: "ref+vault://secret/myapp/db#password",
  ownBundle: true,
  // session.ts: KV v2 metadata versions, dynamic-secret leases, and the session's own login token.
  capabilities: { checkVersion: true, renew: true, revoke: true, renewToken: true, revokeToken: true },
  options: async () => (await import("./options.ts")).schema,
  load: async () => (await import("./index.ts")).provider,
  envPrefixes: ["VAULT_"],
  appOnlyVariables: [],
  locator: {
    params: ["version", "api_path", "write"],
    check(locator, params) {
      const segments = locator.split("/");
      if (segments.length < 2 || !segments.every((s) => SEGMENT.test(s))) {
        return "a Vault locator is <mount>/<path> with no empty segment, e.g. secret/myapp/db";
      }
      if (segments.some((s) => s === "." || s === "..")) return "a Vault path may not contain . or ..";
      // vals decodes %-escapes in the path and secretwrap takes a locator as written: the same text
      // would name two different paths, so neither reading is guessed (docs/vals-compatibility.md).
      if (locator.includes("%")) return "a Vault path is taken as written: write it without %-escapes";
      if (params["version"] !== undefined && !POSITIVE_INT.test(params["version"])) {
        return "version must be a positive whole number (KV v2)";
      }
      if (params["api_path"] !== undefined && params["api_path"] !== "true") {
        return "api_path takes only true (the locator is Vault's API path, as vault-env writes it)";
      }
      if (params["write"] !== undefined) {
        if (!isJsonObject(params["write"]))
          return "write takes the request body, a JSON object (%-encoded), e.g. write=%7B%7D for none";
        if (params["version"] !== undefined) return "write and version cannot go together";
      }
      return undefined;
    },
    unwatchable(params) {
      return params["write"] === undefined
        ? undefined
        : "it writes to Vault (?write), and a write issues something new each time: --watch does not re-issue on a schedule";
    },
  },
};

/**
 * The write body as vault-env takes it: a JSON object (Go's json.Unmarshal into a map). JSON.parse
 * only judges the text here (a descriptor takes no value from src/, which loads it); the provider
 * reads the body with parseJson when it sends it.
 */
function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value);
  } catch {
    return false;
  }
}
