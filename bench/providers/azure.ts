// Scenario 3, Azure: AKS workload identity (one Entra token request, the "login"), Key Vault over TLS
// with its 401 challenge, 10 secrets holding JSON documents of 5 keys. Ideal: 1 challenge, 1 token
// request, 10 reads, plus MSAL's openid discovery: MSAL has the metadata of the public clouds' login
// hosts built in, but the fake is a custom authority host, which MSAL must ask first (in parallel with
// the challenge; @azure/identity offers no way to hand MSAL that metadata).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AzureFake, isTokenRequest } from "../../test/servers/azure.ts";
import { azureSetup } from "../../test/servers/azure-client.ts";
import type { TestPki } from "../../test/servers/tls.ts";
import { declare, document, PATHS, type NetworkTarget } from "./target.ts";

export async function azureTarget(pki: TestPki, latencyMs: number, cwd: string): Promise<NetworkTarget> {
  const fake = await AzureFake.start({ pki, latencyMs });
  for (let path = 0; path < PATHS; path++)
    fake.putSecret(`p${path}`, JSON.stringify(document()), { contentType: "application/json" });
  const setup = azureSetup(fake, pki, "workloadIdentity", cwd);
  const config = join(cwd, "secretwrap-azure.json");
  writeFileSync(config, JSON.stringify({ version: 1, providers: { azurekeyvault: setup.options } }));
  return {
    name: "azurekeyvault",
    env: { ...setup.env, ...declare((e) => `ref+azurekeyvault://kv-test/p${e.path}#${e.key}`) },
    args: ["--config", config],
    cwd,
    servers: { vault: fake.vault, login: fake.login, msi: fake.msi },
    classify: (server, request) => {
      if (server === "vault")
        return typeof request.headers["authorization"] === "string" ? "read" : "challenge";
      const path = request.path.split("?")[0] ?? "";
      if (server === "login" && isTokenRequest(request)) return "token";
      // MSAL reads the tenant's metadata before its first token request.
      if (path.endsWith("/.well-known/openid-configuration")) return "openid discovery";
      return `${server} ${path}`;
    },
    expected: { challenge: 1, "openid discovery": 1, token: 1, read: PATHS },
    close: () => fake.close(),
  };
}
