// The floor of scenario 3, Azure: @azure/keyvault-secrets and @azure/identity alone, doing what
// `secretwrap run` does for the bench's Azure target and nothing else. Workload identity (the SDK's
// WorkloadIdentityCredential reads AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE and
// AZURE_AUTHORITY_HOST from the target's environment), one SecretClient for the vault URL, CA file and
// options of the target's config file, then every getSecret at once, then exec. Unlike secretwrap it
// lets each read take its own 401 challenge (the SDK's default when reads start together). No
// retries. Bundled at bench time by bench/build-sdk-floors.mjs; any failed request rejects, so the
// process exits non-zero.
import { readFileSync } from "node:fs";
import { WorkloadIdentityCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";
import { configBlock, execApp, wanted } from "./app.ts";

interface Block {
  readonly vaultUrls: Record<string, string>;
  readonly caFile: string;
  readonly disableChallengeResourceVerification: boolean;
  readonly auth: { readonly disableInstanceDiscovery: boolean };
}

const { entries, locators } = wanted("azurekeyvault");
const block = configBlock("azurekeyvault") as unknown as Block;
const common = { retryOptions: { maxRetries: 0 }, tlsOptions: { ca: readFileSync(block.caFile, "utf8") } };
const credential = new WorkloadIdentityCredential({
  ...common,
  disableInstanceDiscovery: block.auth.disableInstanceDiscovery,
});
const clients = new Map<string, SecretClient>();
const documents = new Map<string, unknown>();
await Promise.all(
  locators.map(async (locator) => {
    const [vault = "", name = ""] = locator.split("/");
    const url = block.vaultUrls[vault] ?? "";
    let client = clients.get(url);
    if (client === undefined) {
      const options = {
        ...common,
        disableChallengeResourceVerification: block.disableChallengeResourceVerification,
      };
      client = new SecretClient(url, credential, options);
      clients.set(url, client);
    }
    const secret = await client.getSecret(name);
    documents.set(locator, JSON.parse(secret.value ?? "null"));
  }),
);
execApp(entries, documents);
