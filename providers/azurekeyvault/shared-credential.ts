// One token per run: the challenge policy of each SecretClient (one per vault) asks the credential
// for a token; this shares one request between them, and remembers a definite refusal so that twenty
// secrets do not make twenty failing logins. The request can start before the first challenge
// (prefetch). After a transient failure the next attempt gets a fresh credential: MSAL remembers a
// 429/5xx and refuses every request to that endpoint for up to 60 s on its own (ThrottlingUtils),
// which would be a second retry policy behind src/retry.ts.
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";
import { SecretwrapError } from "../../src/provider-api.ts";
import { NAME, type ChosenMethod } from "./options.ts";
import { credentialError } from "./token-errors.ts";
import type { TokenTraffic } from "./token-traffic.ts";

export class SharedCredential implements TokenCredential {
  readonly #create: () => TokenCredential;
  #inner: TokenCredential;
  readonly #method: ChosenMethod;
  readonly #traffic: TokenTraffic;
  readonly #mask: (token: string) => void;
  readonly #tokens = new Map<string, Promise<AccessToken>>();
  #refused: SecretwrapError | undefined;

  constructor(
    create: () => TokenCredential,
    method: ChosenMethod,
    traffic: TokenTraffic,
    mask: (token: string) => void,
  ) {
    this.#create = create;
    this.#inner = create();
    this.#method = method;
    this.#traffic = traffic;
    this.#mask = mask;
  }

  /**
   * Starts the token request a vault's challenge is expected to ask for (the Key Vault scope and our
   * own tenant), so that it runs alongside the challenge instead of after it. The SDK still verifies
   * the challenge and then asks getToken for its scope and tenant: the token is handed out only if
   * those are exactly these. A failure here is reported to a challenge that asks for it, else dropped.
   */
  prefetch(scope: string, tenantId: string | undefined, signal: AbortSignal): void {
    const options: GetTokenOptions = {
      enableCae: true, // as the Key Vault policy asks
      abortSignal: signal,
      ...(tenantId === undefined ? {} : { tenantId }),
    };
    const key = this.#key([scope], options);
    // A refusal stays for a challenge that asks for exactly this token (one failing login, not two).
    if (!this.#tokens.has(key)) this.#start(key, [scope], options, true).catch(() => undefined);
  }

  async getToken(scopes: string | string[], options: GetTokenOptions = {}): Promise<AccessToken> {
    if (this.#refused !== undefined) throw this.#refused;
    const key = this.#key(scopes, options);
    const shared = this.#tokens.get(key);
    if (shared !== undefined) {
      const token = await this.#await(shared, options);
      // The challenge policy refreshes within 2 minutes of expiry: hand it a new token then.
      if (token.expiresOnTimestamp - 150_000 > Date.now()) return token;
      if (this.#tokens.get(key) === shared) this.#tokens.delete(key);
    }
    return this.#await(this.#tokens.get(key) ?? this.#start(key, scopes, options), options);
  }

  #key(scopes: string | string[], options: GetTokenOptions): string {
    // A managed identity ignores the tenant (the platform decides it); tenant names are case-blind.
    const tenant = this.#method === "managedIdentity" ? "" : (options.tenantId ?? "").toLowerCase();
    return JSON.stringify([scopes, tenant, options.claims ?? ""]);
  }

  /** One caller's wait for a shared request: its own abort ends its wait; a refusal is remembered. */
  async #await(request: Promise<AccessToken>, options: GetTokenOptions): Promise<AccessToken> {
    try {
      return await untilAborted(request, options.abortSignal, this.#method);
    } catch (error) {
      if (error instanceof SecretwrapError && !error.transient) this.#refused ??= error;
      throw error;
    }
  }

  /** A new shared request; a failed (or only a transiently failed) one is not shared with later attempts. */
  #start(
    key: string,
    scopes: string | string[],
    options: GetTokenOptions,
    keepRefusal = false,
  ): Promise<AccessToken> {
    const request = this.#request(scopes, options);
    request.catch((error: unknown) => {
      if (keepRefusal && error instanceof SecretwrapError && !error.transient) return;
      if (this.#tokens.get(key) === request) this.#tokens.delete(key);
    });
    this.#tokens.set(key, request);
    return request;
  }

  async #request(scopes: string | string[], options: GetTokenOptions): Promise<AccessToken> {
    this.#traffic.last = undefined;
    this.#traffic.signal = options.abortSignal;
    let token: AccessToken | null;
    try {
      token = await untilAborted(this.#inner.getToken(scopes, options), options.abortSignal, this.#method);
    } catch (error) {
      const mapped = credentialError(error, this.#method, this.#traffic.last);
      if (mapped.transient) this.#inner = this.#create();
      throw mapped;
    }
    if (token === null)
      throw new SecretwrapError("AUTH_FAILED", `${NAME}: ${this.#method} returned no token`);
    this.#mask(token.token);
    return token;
  }
}

/**
 * The credentials do not all stop on abort, and a token request that never settles would also hang
 * the challenge policy's shared refresh for every later attempt: give up on it when the attempt ends.
 */
function untilAborted<T>(
  promise: Promise<T>,
  signal: GetTokenOptions["abortSignal"],
  method: ChosenMethod,
): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void =>
      reject(
        new SecretwrapError("FETCH_FAILED", `${NAME}: ${method}: the token request did not finish in time`, {
          transient: true,
        }),
      );
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
