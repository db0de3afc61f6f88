// Scenario 2: Vault over TLS with AppRole, 10 paths split over a KV v2 and a KV v1 mount, so the ideal
// run is 1 login, 1 mount detection per mount (2) and 1 read per path (10).
import { FakeVault } from "../../test/servers/vault.ts";
import type { TestPki } from "../../test/servers/tls.ts";
import { declare, document, PATHS, type NetworkTarget } from "./target.ts";

const mountOf = (path: number): string => (path < PATHS / 2 ? "secret" : "kv");

export async function vaultTarget(pki: TestPki, latencyMs: number, cwd: string): Promise<NetworkTarget> {
  const vault = await FakeVault.start({ tls: pki.valid, latencyMs });
  await vault.mountKv("secret", 2);
  await vault.mountKv("kv", 1);
  for (let path = 0; path < PATHS; path++) await vault.putKv(mountOf(path), `app/p${path}`, document());
  const approle = await vault.addAppRole("bench", ["secret/data/app/*", "kv/app/*"]);
  return {
    name: "vault",
    env: {
      VAULT_ADDR: vault.url,
      VAULT_CACERT: pki.caFile,
      VAULT_ROLE_ID: approle.roleId,
      // Multi-use: every run logs in with the same SecretID, as a restarted container would.
      VAULT_SECRET_ID: await approle.secretId(),
      ...declare((e) => `ref+vault://${mountOf(e.path)}/app/p${e.path}#${e.key}`),
    },
    args: [],
    cwd,
    servers: { vault: vault.server },
    classify: (_server, request) => {
      const path = request.path.split("?")[0] ?? "";
      if (/^\/v1\/auth\/.+\/login$/.test(path)) return "login";
      if (path.startsWith("/v1/sys/internal/ui/mounts/")) return "mount detection";
      if (path.startsWith("/v1/secret/") || path.startsWith("/v1/kv/")) return "read";
      return `other ${request.method} ${path}`;
    },
    expected: { login: 1, "mount detection": 2, read: PATHS },
    close: () => vault.close(),
  };
}
