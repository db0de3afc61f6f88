// A logged-in Vault: reads secrets, logs in again once when Vault rejects an expired token mid-run
// (only for login methods; a static token cannot be renewed by logging in), and revokes its token on
// close when asked to.
import type { Fetched, ProviderContext, Ref, Session } from "../../src/provider-api.ts";
import { mapError, TokenRejected } from "./errors.ts";
import { login, type Client } from "./login.ts";
import { Mounts } from "./mounts.ts";
import { PROVIDER } from "./options.ts";
import { readSecret } from "./read.ts";
import { consumedVariables, type Settings } from "./settings.ts";
import type { CallInfo, Transport } from "./transport.ts";
import type { SecretIds } from "./unwrap.ts";

/** Bounds the best-effort token revocation in close(). */
const REVOKE_TIMEOUT_MS = 5_000;

export class VaultSession implements Session {
  readonly consumedEnv: readonly string[];
  readonly #client: Client;
  readonly #transport: Transport;
  readonly #settings: Settings;
  readonly #ctx: ProviderContext;
  readonly #mounts: Mounts;
  readonly #secretIds: SecretIds;
  /** The re-login in progress, shared by every read that met the same rejected token. */
  #relogin: { readonly stale: string; readonly done: Promise<void> } | undefined;

  constructor(
    client: Client,
    transport: Transport,
    settings: Settings,
    ctx: ProviderContext,
    secretIds: SecretIds,
  ) {
    this.#client = client;
    this.#secretIds = secretIds;
    this.#transport = transport;
    this.#settings = settings;
    this.#ctx = ctx;
    this.#mounts = new Mounts(client, settings.url.origin);
    this.consumedEnv = consumedVariables(settings.auth);
  }

  async fetch(ref: Ref, signal: AbortSignal): Promise<Fetched> {
    const token = this.#client.token;
    try {
      return await this.#read(ref, signal);
    } catch (error) {
      if (!(error instanceof TokenRejected) || this.#settings.auth.method === "token") throw error;
      // The token expired or was revoked while secrets were being read: log in again (once for all
      // reads that saw this token) and retry this read once. A failed login is the run's answer (77).
      this.#ctx.log.debug("Vault rejected the token; logging in again", {
        provider: PROVIDER,
        method: this.#settings.auth.method,
      });
      await this.#loginAgain(token, signal);
      return await this.#read(ref, signal);
    }
  }

  #read(ref: Ref, signal: AbortSignal): Promise<Fetched> {
    return readSecret(this.#client, this.#mounts, this.#settings.url.origin, ref, signal, this.#ctx);
  }

  async #loginAgain(stale: string, signal: AbortSignal): Promise<void> {
    if (this.#client.token !== stale) return; // another read already logged in again
    if (this.#relogin?.stale !== stale) {
      const done = login(this.#client, this.#settings, this.#ctx, this.#secretIds, signal);
      const attempt = { stale, done };
      this.#relogin = attempt;
      // Every waiting read sees a failure through `done`; a later retry may then start a new login.
      done.catch(() => {
        if (this.#relogin === attempt) this.#relogin = undefined;
      });
    }
    await this.#relogin.done;
  }

  async close(): Promise<void> {
    try {
      if (this.#settings.revokeToken) await this.#revoke();
    } finally {
      this.#transport.close();
    }
  }

  /** revokeToken: true. Revoking a token also revokes every lease it created (dynamic secrets). */
  async #revoke(): Promise<void> {
    const call: CallInfo = {};
    try {
      await this.#client.write(
        "auth/token/revoke-self",
        {},
        { signal: AbortSignal.timeout(Math.min(REVOKE_TIMEOUT_MS, this.#ctx.attemptTimeoutMs)), call },
      );
      this.#ctx.log.debug("revoked the Vault token (revokeToken: true)", { provider: PROVIDER });
    } catch (error) {
      const mapped = mapError(error, {
        stage: "revoke",
        path: "auth/token/revoke-self",
        origin: this.#settings.url.origin,
        call,
      });
      this.#ctx.log.warn(`could not revoke the Vault token: ${mapped.message}`, { provider: PROVIDER });
    }
  }
}
