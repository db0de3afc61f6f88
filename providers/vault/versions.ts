// checkVersion for --watch: a KV v2 secret's current version from its metadata (no value downloaded),
// the same string fetch gives as Fetched.version. Every other engine has no cheap check (undefined: the
// watch fetches and compares bytes). A policy may grant data/ and not metadata/: then this reference is
// checked by fetching from then on, so the denial is asked once, not at every interval.
import type { ProviderContext, Ref } from "../../src/provider-api.ts";
import { describeFailure, mapError, TokenRejected } from "./errors.ts";
import type { Client } from "./login.ts";
import { encodePath, type Mounts, secretPathInMount } from "./mounts.ts";
import { PROVIDER } from "./options.ts";
import type { CallInfo } from "./transport.ts";

interface MetadataBody {
  readonly data?: { readonly current_version?: unknown } | null;
}

export class Versions {
  readonly #client: Client;
  readonly #mounts: Mounts;
  readonly #origin: string;
  readonly #ctx: ProviderContext;
  /** Locators whose metadata the policy denies. */
  readonly #denied = new Set<string>();

  constructor(client: Client, mounts: Mounts, origin: string, ctx: ProviderContext) {
    this.#client = client;
    this.#mounts = mounts;
    this.#origin = origin;
    this.#ctx = ctx;
  }

  async check(ref: Ref, signal: AbortSignal): Promise<string | undefined> {
    // A pinned version never changes: fetch served exactly this one.
    const pinned = ref.params["version"];
    if (pinned !== undefined) return pinned;
    if (this.#denied.has(ref.locator)) return undefined;
    const mount = await this.#mounts.lookup(ref.locator, signal); // known since the first fetch
    if (mount.kind !== "kv2") return undefined;
    const path = `${mount.path}metadata/${secretPathInMount(ref, mount)}`;
    const call: CallInfo = {};
    let body: MetadataBody;
    try {
      body = (await this.#client.read(encodePath(path), { signal, call })) as MetadataBody;
    } catch (error) {
      const mapped = mapError(error, { stage: "read", path, origin: this.#origin, call });
      // An expired token goes to the session's re-login like a read; a policy denial is remembered.
      if (mapped instanceof TokenRejected || describeFailure(error).status !== 403) throw mapped;
      this.#denied.add(ref.locator);
      this.#ctx.log.debug(
        `no read access to ${path} (403): ${ref.locator} is checked for changes by reading it instead`,
        { provider: PROVIDER },
      );
      return undefined;
    }
    const current = body.data?.current_version;
    return typeof current === "number" && current > 0 ? String(current) : undefined;
  }
}
