// How a test points secretwrap at the Azure fake: the environment and the providers.azurekeyvault
// block for each credential method, as an AKS pod, an App Service, a VM or a developer would have them.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AzureFake } from "./azure.ts";
import type { TestPki } from "./tls.ts";

export type AzureMethod = "workloadIdentity" | "appService" | "imds" | "clientSecret" | "azureCli";

export interface AzureSetup {
  /** Environment variables as the platform would set them (no secretwrap settings). */
  readonly env: Record<string, string>;
  /** The providers.azurekeyvault block. */
  readonly options: Record<string, unknown>;
}

/** `dir` receives the federated token file. `vaults` are the vault names routed to the fake. */
export function azureSetup(
  fake: AzureFake,
  pki: TestPki,
  method: AzureMethod,
  dir: string,
  vaults: readonly string[] = ["kv-test"],
): AzureSetup {
  const options: Record<string, unknown> = {
    vaultUrls: Object.fromEntries(vaults.map((v) => [v, fake.vault.url])),
    caFile: pki.caFile,
    // The fake's host is 127.0.0.1, not <name>.vault.azure.net.
    disableChallengeResourceVerification: true,
  };
  const identity = fake.identity;
  switch (method) {
    case "workloadIdentity": {
      const tokenFile = join(dir, "azure-identity-token");
      writeFileSync(tokenFile, identity.federatedToken);
      options["auth"] = { method: "workloadIdentity", disableInstanceDiscovery: true };
      return {
        options,
        env: {
          AZURE_TENANT_ID: identity.tenantId,
          AZURE_CLIENT_ID: identity.clientId,
          AZURE_FEDERATED_TOKEN_FILE: tokenFile,
          AZURE_AUTHORITY_HOST: fake.login.url,
        },
      };
    }
    case "clientSecret":
      options["auth"] = { method: "clientSecret", disableInstanceDiscovery: true };
      return {
        options,
        env: {
          AZURE_TENANT_ID: identity.tenantId,
          AZURE_CLIENT_ID: identity.clientId,
          AZURE_CLIENT_SECRET: identity.clientSecret,
          AZURE_AUTHORITY_HOST: fake.login.url,
        },
      };
    case "appService":
      options["auth"] = { method: "managedIdentity" };
      return {
        options,
        env: { IDENTITY_ENDPOINT: `${fake.msi.url}/msi/token`, IDENTITY_HEADER: identity.identityHeader },
      };
    case "azureCli":
      // The `az` on PATH is the test's (fakeAzureCli); nothing else is needed, as on a laptop.
      options["auth"] = { method: "azureCli" };
      return { options, env: {} };
    case "imds":
      options["auth"] = { method: "managedIdentity" };
      // msal-node's documented override of the IMDS host (it also skips the availability probe).
      return { options, env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: fake.msi.url } };
  }
}

/**
 * A stand-in `az` in `dir`/bin: `account get-access-token` prints `token` as Azure CLI 2.54+ does, or,
 * when `token` is undefined, fails the way an Azure CLI without `az login` does. Every call's
 * arguments are appended to `dir`/az-calls.log. Returns the bin directory to put first on PATH.
 */
export function fakeAzureCli(dir: string, token: string | undefined): string {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  const expires = Math.floor(Date.now() / 1000) + 3600;
  const answer =
    token === undefined
      ? `echo "ERROR: Please run 'az login' to setup account." >&2; exit 1`
      : `printf '%s' '${JSON.stringify({ accessToken: token, expiresOn: new Date(expires * 1000).toISOString().replace("T", " ").slice(0, 19), expires_on: expires, subscription: "00000000-0000-0000-0000-000000000000", tenant: "t", tokenType: "Bearer" })}'`;
  writeFileSync(join(bin, "az"), `#!/bin/sh\necho "$*" >> "${join(dir, "az-calls.log")}"\n${answer}\n`);
  chmodSync(join(bin, "az"), 0o755);
  return bin;
}
