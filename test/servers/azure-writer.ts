// An operator rotating a secret in the Azure fake: the real @azure/keyvault-secrets client calling
// Set Secret (`PUT /secrets/{name}`), with the challenge flow and a token the fake issued (a developer's
// `az login` token), so a new version reaches the fake through its write API as Azure's client sends it.
import { SecretClient } from "@azure/keyvault-secrets";
import type { AzureFake } from "./azure.ts";
import type { TestPki } from "./tls.ts";

export class AzureWriter {
  readonly #client: SecretClient;

  constructor(fake: AzureFake, pki: TestPki) {
    const credential = {
      getToken: () =>
        Promise.resolve({ token: fake.developerToken(), expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    this.#client = new SecretClient(fake.vault.url, credential, {
      retryOptions: { maxRetries: 0 },
      // The fake's host is 127.0.0.1, not <name>.vault.azure.net.
      disableChallengeResourceVerification: true,
      tlsOptions: { ca: pki.caPem },
    });
  }

  /** Sets a new value: a new version that becomes the current one; its 32-hex version id. */
  async setSecret(name: string, value: string): Promise<string> {
    const secret = await this.#client.setSecret(name, value);
    const version = secret.properties.version;
    if (version === undefined) throw new Error("setSecret answered without a version");
    return version;
  }
}
