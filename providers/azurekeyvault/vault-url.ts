// Where a vault name points.
import { checkEndpoint } from "../kit/endpoint.ts";
import { NAME, type Options } from "./options.ts";

/** `vaultUrls[name]`, else `endpoint`, else https://<name>.<dnsSuffix>. */
export function vaultUrlFor(vault: string, options: Options): string {
  const named = options.vaultUrls?.[vault] ?? options.vaultUrls?.[vault.toLowerCase()];
  const raw =
    named ?? options.endpoint ?? `https://${vault.toLowerCase()}.${options.dnsSuffix ?? "vault.azure.net"}`;
  return checkEndpoint(raw, NAME, options.allowHttp ?? false).href.replace(/\/+$/, "");
}
