// checkVersion: which version a fetch would serve now, from the version resource's metadata
// (secretVersions.get: no payload, so no value is downloaded), for `run --watch`.
//
// It needs the permission secretmanager.versions.get (roles/secretmanager.viewer, or
// roles/secretmanager.secretVersionManager), which roles/secretmanager.secretAccessor does NOT hold: a
// workload with only the accessor role is refused. The check then answers undefined, so the watch
// fetches and compares the bytes, and the refusal is remembered for the session: one debug line per
// secret, never a second refused request for it.
import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import type { ProviderContext, Ref } from "../../src/provider-api.ts";
import { mapFailure } from "./errors.ts";
import { NAME } from "./options.ts";
import { targetOf, versionOf } from "./target.ts";
import { singleAttempt, type Transport } from "./transport.ts";

export class VersionCheck {
  /** Secrets (resource names without the version) whose version resource this session may not read. */
  readonly #refused = new Set<string>();
  readonly #client: (location: string | undefined) => SecretManagerServiceClient;
  readonly #transport: Transport;
  readonly #ctx: ProviderContext;

  constructor(
    client: (location: string | undefined) => SecretManagerServiceClient,
    transport: Transport,
    ctx: ProviderContext,
  ) {
    this.#client = client;
    this.#transport = transport;
    this.#ctx = ctx;
  }

  async check(ref: Ref, signal: AbortSignal): Promise<string | undefined> {
    const { name, location, secret } = targetOf(ref);
    // A pinned number always serves itself (its value never changes; a disabled or destroyed version
    // fails the fetch, which is where that is reported).
    const pinned = versionOf(name);
    if (pinned !== undefined && pinned !== "latest") return pinned;
    if (this.#refused.has(secret)) return undefined;
    const client = this.#client(location);
    let version: { readonly name?: string | null };
    try {
      [version] = await this.#transport.attemptSignal.run(signal, () =>
        client.getSecretVersion({ name }, singleAttempt(this.#ctx.attemptTimeoutMs)),
      );
    } catch (error) {
      const failure = mapFailure(error, name, "fetch");
      if (failure.code !== "ACCESS_DENIED") throw failure;
      this.#refused.add(secret);
      this.#ctx.log.debug(
        "no cheap version check for this secret: secretmanager.versions.get was denied (roles/secretmanager.secretAccessor does not hold it); --watch fetches it and compares the value instead",
        { provider: NAME, secret },
      );
      return undefined;
    }
    // `latest` resolves to the newest version whatever its state, as the access call does: a disabled
    // newest version is a new version, and the fetch that follows reports that it is not enabled.
    return versionOf(version.name);
  }
}
