// A logged-in Vault: reads secrets, logs in again once when Vault rejects an expired token mid-run
// (only for login methods; a static token cannot be renewed by logging in), and revokes its token on
// close when asked to. For --watch it also offers the lifecycle capabilities: lease renewal and
// revocation (lease.ts), its own token's lifetime, renewal and revocation (token.ts), and KV v2
// version checks (versions.ts); every re-login, whichever of them needs it, goes through #loginAgain.
import type { Fetched, Lease, ProviderContext, Ref, Session, TokenLifetime } from "../../src/provider-api.ts";
import { mapError, TokenRejected } from "./errors.ts";
import { renewLease, revokeLease } from "./lease.ts";
import { login, type Client, type TokenGrant } from "./login.ts";
import { Mounts } from "./mounts.ts";
import { PROVIDER } from "./options.ts";
import { readSecret } from "./read.ts";
import { consumedVariables, type Settings } from "./settings.ts";
import { LoginToken } from "./token.ts";
import type { CallInfo, Transport } from "./transport.ts";
import type { SecretIds } from "./unwrap.ts";
import { Versions } from "./versions.ts";
import { Writes } from "./write.ts";

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
  readonly #token: LoginToken;
  readonly #versions: Versions;
  readonly #writes: Writes;
  /** The re-login in progress, shared by every caller that met the same rejected token. */
  #relogin: { readonly stale: string; readonly done: Promise<void> } | undefined;

  constructor(
    client: Client,
    transport: Transport,
    settings: Settings,
    ctx: ProviderContext,
    secretIds: SecretIds,
    grant: TokenGrant | undefined,
  ) {
    this.#client = client;
    this.#secretIds = secretIds;
    this.#transport = transport;
    this.#settings = settings;
    this.#ctx = ctx;
    this.#mounts = new Mounts(client, settings.url.origin);
    this.#token = new LoginToken(
      client,
      settings,
      ctx,
      (stale, signal) => this.#loginAgain(stale, signal),
      grant,
    );
    this.#versions = new Versions(client, this.#mounts, settings.url.origin, ctx);
    this.#writes = new Writes(client, settings.url.origin);
    this.consumedEnv = consumedVariables(settings.auth);
  }

  fetch(ref: Ref, signal: AbortSignal): Promise<Fetched> {
    return this.#withValidToken(
      () =>
        ref.params["write"] === undefined
          ? readSecret(this.#client, this.#mounts, this.#settings.url.origin, ref, signal, this.#ctx)
          : this.#writes.fetch(ref, signal, this.#ctx),
      signal,
    );
  }

  checkVersion(ref: Ref, signal: AbortSignal): Promise<string | undefined> {
    return this.#withValidToken(() => this.#versions.check(ref, signal), signal);
  }

  renew(lease: Lease, incrementSec: number, signal: AbortSignal): Promise<Lease> {
    return renewLease(this.#client, this.#settings.url.origin, lease, incrementSec, signal, this.#ctx);
  }

  revoke(lease: Lease, signal: AbortSignal): Promise<void> {
    return revokeLease(this.#client, this.#settings.url.origin, lease, signal);
  }

  tokenLifetime(signal: AbortSignal): Promise<TokenLifetime | undefined> {
    return this.#token.lifetime(signal);
  }

  renewToken(signal: AbortSignal): Promise<TokenLifetime> {
    return this.#token.renew(signal);
  }

  revokeToken(signal: AbortSignal): Promise<boolean> {
    return this.#token.revoke(signal);
  }

  /** Runs a read; when Vault rejects the token (expired or revoked), logs in again and runs it once more. */
  async #withValidToken<T>(read: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const token = this.#client.token;
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof TokenRejected) || this.#settings.auth.method === "token") throw error;
      // The token expired or was revoked while secrets were being read: log in again (once for all
      // reads that saw this token) and retry this read once. A failed login is the run's answer (77).
      this.#ctx.log.debug("Vault rejected the token; logging in again", {
        provider: PROVIDER,
        method: this.#settings.auth.method,
      });
      await this.#loginAgain(token, signal);
      return await read();
    }
  }

  /** Logs in again with the same method (re-reading its credential files), once for every caller that saw `stale`. */
  async #loginAgain(stale: string, signal: AbortSignal): Promise<void> {
    if (this.#client.token !== stale) return; // another caller already logged in again
    if (this.#relogin?.stale !== stale) {
      const done = login(this.#client, this.#settings, this.#ctx, this.#secretIds, signal).then((grant) =>
        this.#token.granted(grant),
      );
      const attempt = { stale, done };
      this.#relogin = attempt;
      // Every waiting caller sees a failure through `done`; a later retry may then start a new login.
      done.catch(() => {
        if (this.#relogin === attempt) this.#relogin = undefined;
      });
    }
    await this.#relogin.done;
  }

  async close(): Promise<void> {
    try {
      // A token revokeToken already revoked is not revoked twice.
      if (this.#settings.revokeToken && !this.#token.revoked) await this.#revoke();
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
