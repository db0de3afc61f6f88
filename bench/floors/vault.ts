// The floor of scenario 2: node-vault (with its own axios transport) alone, doing what `secretwrap
// run` does for the bench's Vault target and nothing else. AppRole login, KV version detection once
// per mount (sys/internal/ui/mounts, as `vault kv get` does), each mount's reads as soon as its
// detection answers, all in parallel, then exec. Settings come from the target's environment
// (VAULT_ADDR, VAULT_CACERT, VAULT_ROLE_ID, VAULT_SECRET_ID); no retries, no checks. Bundled at bench
// time by bench/build-sdk-floors.mjs; any failed request rejects, so the process exits non-zero.
import { readFileSync } from "node:fs";
import createClient from "node-vault";
import { execApp, wanted } from "./app.ts";

const env = process.env;
const { entries, locators } = wanted("vault");
const vault = createClient({
  endpoint: env["VAULT_ADDR"] ?? "",
  // Keep-alive, as secretwrap's transport: the reads reuse the connections of the detections.
  requestOptions: { ca: readFileSync(env["VAULT_CACERT"] ?? ""), agentOptions: { keepAlive: true } },
});
// Sets vault.token from the answer.
await vault.approleLogin({ role_id: env["VAULT_ROLE_ID"], secret_id: env["VAULT_SECRET_ID"] });

interface MountInfo {
  readonly data: { readonly path: string; readonly options: { readonly version?: string } | null };
}

const byMount = new Map<string, string[]>();
for (const locator of locators) {
  const mount = locator.split("/")[0] ?? "";
  byMount.set(mount, [...(byMount.get(mount) ?? []), locator]);
}
const documents = new Map<string, unknown>();
await Promise.all(
  [...byMount].map(async ([mount, paths]) => {
    const info = (await vault.read(`sys/internal/ui/mounts/${mount}`)) as MountInfo;
    const kv2 = info.data.options?.version === "2";
    await Promise.all(
      paths.map(async (locator) => {
        const rest = locator.slice(info.data.path.length);
        const body = (await vault.read(kv2 ? `${info.data.path}data/${rest}` : locator)) as {
          data: { data?: unknown };
        };
        documents.set(locator, kv2 ? body.data.data : body.data);
      }),
    );
  }),
);
execApp(entries, documents);
