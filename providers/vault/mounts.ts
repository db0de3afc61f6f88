// Which mount a reference lives on, and whether it is KV v1, KV v2 or another engine: asked once per
// mount through sys/internal/ui/mounts, as `vault kv get` does.
import { type Ref, SecretwrapError } from "../../src/provider-api.ts";
import { describeFailure, mapError } from "./errors.ts";
import type { Client } from "./login.ts";
import { PROVIDER } from "./options.ts";
import type { CallInfo } from "./transport.ts";

export interface MountInfo {
  /** With a trailing slash, e.g. "secret/". */
  readonly path: string;
  readonly kind: "kv1" | "kv2" | "other";
}

export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** The path of a locator inside its mount ("" for the mount itself), e.g. "app/db" in secret/app/db. */
export function pathInMount(locator: string, mount: MountInfo): string {
  return `${locator}/`.slice(mount.path.length).replace(/\/$/, "");
}

/**
 * The secret's path inside its mount as `vault kv get` names it. A reference with ?api_path=true
 * (vault-env's form, --compat) gives Vault's API path instead, which on KV v2 has data/ after the
 * mount: that segment is required there and taken off, so both forms read the same secret the same way.
 */
export function secretPathInMount(ref: Ref, mount: MountInfo): string {
  const rest = pathInMount(ref.locator, mount);
  if (ref.params["api_path"] !== "true" || mount.kind !== "kv2") return rest;
  if (rest !== "data" && !rest.startsWith("data/")) {
    throw new SecretwrapError(
      "REF_INVALID",
      `${ref.locator}: ${mount.path} is KV v2, whose API path has data/ after the mount (${mount.path}data/…)`,
      {
        subject: { provider: PROVIDER },
        hint: `write the API path as vault-env reads it (${mount.path}data/<path>), or use ref+vault://${mount.path}<path> without api_path`,
      },
    );
  }
  return rest.slice("data/".length);
}

export class Mounts {
  readonly #known: MountInfo[] = [];
  readonly #pending = new Map<string, Promise<unknown>>();
  readonly #client: Client;
  readonly #origin: string;

  constructor(client: Client, origin: string) {
    this.#client = client;
    this.#origin = origin;
  }

  /** The mount a locator lives on: asked once per mount, as `vault kv get` does. */
  async lookup(locator: string, signal: AbortSignal): Promise<MountInfo> {
    // Lookups that may hit the same mount wait for each other, so concurrent reads ask once.
    const group = locator.split("/")[0] ?? locator;
    for (;;) {
      const cached = this.#cached(locator);
      if (cached !== undefined) return cached;
      const pending = this.#pending.get(group);
      if (pending === undefined) break;
      await pending.catch(() => undefined);
    }
    const ask = this.#ask(locator, signal);
    this.#pending.set(group, ask);
    try {
      const info = await ask;
      this.#known.push(info);
      return info;
    } finally {
      this.#pending.delete(group);
    }
  }

  #cached(locator: string): MountInfo | undefined {
    const candidates = this.#known.filter((m) => `${locator}/`.startsWith(m.path));
    return candidates.sort((a, b) => b.path.length - a.path.length)[0];
  }

  async #ask(locator: string, signal: AbortSignal): Promise<MountInfo> {
    const path = `sys/internal/ui/mounts/${encodePath(locator)}`;
    const call: CallInfo = {};
    let body: { data?: { path?: unknown; type?: unknown; options?: { version?: unknown } | null } | null };
    try {
      body = (await this.#client.read(path, { signal, call })) as typeof body;
    } catch (error) {
      // An old Vault without this endpoint: like the CLI, assume KV v1 on the first segment.
      if (describeFailure(error).status === 404)
        return { path: `${locator.split("/")[0] ?? locator}/`, kind: "kv1" };
      throw mapError(error, { stage: "preflight", path, origin: this.#origin, call });
    }
    const mountPath = body.data?.path;
    if (typeof mountPath !== "string" || mountPath === "" || !`${locator}/`.startsWith(mountPath)) {
      throw new SecretwrapError(
        "FETCH_FAILED",
        `Vault's mount lookup for ${locator} gave no usable mount path`,
        { subject: { provider: PROVIDER } },
      );
    }
    const type = body.data?.type;
    const version = body.data?.options?.version;
    const kind = type === "kv" || type === "generic" ? (version === "2" ? "kv2" : "kv1") : "other";
    return { path: mountPath, kind };
  }
}
