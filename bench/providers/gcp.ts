// Scenario 3, GCP: the metadata server as on GKE/Cloud Run (one token request, the "login"), then 10
// secrets whose payloads are JSON documents of 5 keys. Ideal: 1 token request and 10 accesses.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FakeGcp } from "../../test/servers/gcp.ts";
import { declare, document, PATHS, type NetworkTarget } from "./target.ts";

export async function gcpTarget(latencyMs: number, cwd: string): Promise<NetworkTarget> {
  const fake = await FakeGcp.start({ latencyMs });
  // FakeGcp delays only the Secret Manager API; the metadata server is remote from the app's point of
  // view too (a node-local agent on GKE), so give it the same latency.
  if (latencyMs > 0) fake.metadata.script(() => true, [{ kind: "delay", ms: latencyMs }], { forever: true });
  for (let path = 0; path < PATHS; path++)
    fake.addSecret("bench-proj", `p${path}`, [JSON.stringify(document())]);
  const config = join(cwd, "secretwrap-gcp.json");
  writeFileSync(
    config,
    JSON.stringify({ version: 1, providers: { gcpsecrets: { endpoint: fake.api.url } } }),
  );
  return {
    name: "gcpsecrets",
    env: {
      GCE_METADATA_HOST: `127.0.0.1:${fake.metadata.port}`,
      ...declare((e) => `ref+gcpsecrets://bench-proj/p${e.path}#${e.key}`),
    },
    args: ["--config", config],
    cwd,
    servers: { api: fake.api, metadata: fake.metadata, sts: fake.sts },
    classify: (server, request) => {
      const path = request.path.split("?")[0] ?? "";
      if (server === "api") return path.endsWith(":access") ? "access" : `api ${path}`;
      if (server === "metadata") return path.endsWith("/token") ? "metadata token" : `metadata ${path}`;
      return `${server} ${path}`;
    },
    expected: { "metadata token": 1, access: PATHS },
    close: () => fake.close(),
  };
}
