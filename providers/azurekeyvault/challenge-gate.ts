// Key Vault's auth starts with a 401 challenge per SecretClient (one per vault). The first request of
// a vault goes alone; the others wait until its challenge is answered, not until its whole round trip:
// they then start with the token instead of each collecting a challenge of their own.

type PipelinePolicy = NonNullable<
  import("@azure/keyvault-secrets").SecretClientOptions["additionalPolicies"]
>[number]["policy"];

export class ChallengeGate {
  readonly #opened: Promise<void>;
  #open: () => void = () => undefined;
  #started = false;

  constructor() {
    this.#opened = new Promise((resolve) => (this.#open = resolve));
  }

  /**
   * For position "perRetry", i.e. after the SDK's Key Vault authentication policy: a request that
   * leaves with a token means the client has finished its challenge, and the others may go.
   */
  readonly policy: PipelinePolicy = {
    name: "secretwrapChallengeGate",
    sendRequest: (request, next) => {
      if (request.headers.has("authorization")) this.#open();
      return next(request);
    },
  };

  /** Sends at once for the first caller; later callers once the first has a token or has settled. */
  async send<T>(request: () => Promise<T>): Promise<T> {
    if (this.#started) {
      await this.#opened;
      return request();
    }
    this.#started = true;
    const first = request();
    first.then(this.#open, this.#open);
    return first;
  }
}
