// Where the gcpsecrets end-to-end tests get their secrets: the fake Google (test/servers/gcp.ts), or
// the real Secret Manager when SECRETWRAP_TEST_GCP_PROJECT is set (with credentials in this process's
// Application Default Credentials and roles/secretmanager.admin on that project). Real secrets are
// created with a random prefix and deleted afterwards.
import { randomBytes } from "node:crypto";
import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import type { FakeGcp } from "./gcp.ts";
import { GcpWriter } from "./gcp-writer.ts";

export const REAL_GCP_PROJECT = process.env["SECRETWRAP_TEST_GCP_PROJECT"];

export interface GcpBackend {
  /** The project that references name. */
  readonly project: string;
  /** Creates a secret with these versions (1..n); returns its secret id. */
  seed(versions: readonly (string | Uint8Array)[], location?: string): Promise<string>;
  /** Rotates a seeded secret through the write API (AddSecretVersion); the new version's number. */
  addVersion(secretId: string, value: string | Uint8Array, location?: string): Promise<string>;
  /** Environment and providers.gcpsecrets block the CLI needs to reach this backend. */
  readonly env: Readonly<Record<string, string>>;
  readonly options: Readonly<Record<string, unknown>>;
  cleanup(): Promise<void>;
}

let counter = 0;
const secretId = (): string => `swtest-${randomBytes(4).toString("hex")}-${++counter}`;

export function fakeBackend(fake: FakeGcp, env: Readonly<Record<string, string>>): GcpBackend {
  let writer: GcpWriter | undefined;
  return {
    project: "my-proj",
    env,
    options: { endpoint: fake.api.url },
    seed(versions, location) {
      const id = secretId();
      fake.addSecret("my-proj", id, versions, location);
      return Promise.resolve(id);
    },
    addVersion(secretId, value, location) {
      writer ??= new GcpWriter(fake);
      return writer.addVersion("my-proj", secretId, value, location);
    },
    cleanup: () => writer?.close() ?? Promise.resolve(),
  };
}

/** Passes this process's Google credentials on to the CLI. */
function adcEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "HOME", "GCE_METADATA_HOST"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export function realBackend(project: string): GcpBackend {
  const clients = new Map<string, SecretManagerServiceClient>();
  const client = (location?: string): SecretManagerServiceClient => {
    const key = location ?? "";
    let c = clients.get(key);
    if (c === undefined) {
      c = new SecretManagerServiceClient(
        location === undefined ? {} : { apiEndpoint: `secretmanager.${location}.rep.googleapis.com` },
      );
      clients.set(key, c);
    }
    return c;
  };
  const created: [string, string | undefined][] = [];
  return {
    project,
    env: adcEnv(),
    options: {},
    async seed(versions, location) {
      const id = secretId();
      const parent =
        location === undefined ? `projects/${project}` : `projects/${project}/locations/${location}`;
      const [secret] = await client(location).createSecret({
        parent,
        secretId: id,
        secret: location === undefined ? { replication: { automatic: {} } } : {},
      });
      created.push([secret.name ?? `${parent}/secrets/${id}`, location]);
      for (const v of versions)
        await client(location).addSecretVersion({
          parent: secret.name ?? "",
          payload: { data: Buffer.from(v) },
        });
      return id;
    },
    async addVersion(secretId, value, location) {
      const parent =
        location === undefined
          ? `projects/${project}/secrets/${secretId}`
          : `projects/${project}/locations/${location}/secrets/${secretId}`;
      const [version] = await client(location).addSecretVersion({
        parent,
        payload: { data: Buffer.from(value) },
      });
      return version.name?.split("/").pop() ?? "";
    },
    async cleanup() {
      for (const [name, location] of created) await client(location).deleteSecret({ name });
      await Promise.all([...clients.values()].map((c) => c.close()));
    },
  };
}
