// An operator rotating a secret on the fake Google: the real @google-cloud/secret-manager client
// (REST transport, as the provider uses) with a service account key the fake knows, calling
// AddSecretVersion with the payload's CRC32C, as Google's samples do. So a new version reaches the
// fake through its write API, in the wire format Google's own client sends.
import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { crc32c } from "../../providers/gcpsecrets/crc32c.ts";
import type { FakeGcp } from "./gcp.ts";

export class GcpWriter {
  readonly #client: SecretManagerServiceClient;

  /** For a fake whose API is plain http (FakeGcp.start() without tls). */
  constructor(fake: FakeGcp) {
    const url = new URL(fake.api.url);
    this.#client = new SecretManagerServiceClient({
      fallback: true,
      protocol: "http",
      apiEndpoint: url.hostname,
      port: Number(url.port),
      credentials: fake.serviceAccountKey("operator-project"),
      universeDomain: "googleapis.com",
    });
  }

  /** Adds a version to `projects/<project>/secrets/<secret>`; the new version's number. */
  async addVersion(
    project: string,
    secret: string,
    value: string | Uint8Array,
    location?: string,
  ): Promise<string> {
    const data = Buffer.from(value);
    const parent =
      location === undefined
        ? `projects/${project}/secrets/${secret}`
        : `projects/${project}/locations/${location}/secrets/${secret}`;
    const [version] = await this.#client.addSecretVersion(
      { parent, payload: { data, dataCrc32c: crc32c(data) } },
      { retry: { retryCodes: [] }, maxRetries: 0 },
    );
    const number = version.name?.split("/").pop();
    if (number === undefined || !/^[0-9]+$/.test(number))
      throw new Error("addVersion answered without a version");
    return number;
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}
