// The contract every provider module under providers/ implements, and the lazy registry.
// A provider only logs in and turns one reference into bytes; field extraction, retries, deadlines,
// concurrency and redaction live once, in src/.
import type { Logger } from "./log.ts";
import type { Ref } from "./config/ref.ts";
import { SecretwrapError } from "./errors.ts";
import { keepYoungGenerationSmall } from "./young-generation.ts";

export interface ProviderContext {
  /** The environment secretwrap started with (a copy; providers read their ecosystem's variables here). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  /** Every credential a provider reads or obtains must be given to this, so output masks it. */
  readonly addSecret: (value: string | Uint8Array) => void;
  /** Per-attempt timeout in milliseconds, for SDKs that take one. */
  readonly attemptTimeoutMs: number;
}

export interface Fetched {
  readonly bytes: Uint8Array;
  /** The value is a key/value map (a Vault KV secret): without #field it must hold exactly one key. */
  readonly keyValueMap?: boolean;
  /** The version the provider actually served, for the audit line. */
  readonly version?: string;
  /** Extra audit facts (e.g. a lease id and duration), never a value. */
  readonly audit?: Readonly<Record<string, string>>;
}

export interface Session {
  /** Fetch one secret. Throws SecretwrapError; `transient: true` lets the engine retry it. */
  fetch(ref: Ref, signal: AbortSignal): Promise<Fetched>;
  /** Called once after every fetch settled (revoke tokens, close sockets). */
  close(): Promise<void>;
  /** Environment variables this session consumed as bootstrap credentials; removed from the child. */
  readonly consumedEnv: readonly string[];
  /**
   * A session that sends several secrets in one request (AWS BatchGetSecretValue) says how many: the
   * concurrency limit bounds requests, so this many times more fetches may be in flight.
   */
  readonly batchSize?: number;
}

export interface ProviderOptionsIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export interface Provider {
  readonly scheme: string;
  /** Validates this provider's block of the config file (strict); returns every problem at once. */
  validateOptions(options: unknown): ProviderOptionsIssue[];
  /** Log in (once per run). The options were validated before. */
  connect(options: unknown, ctx: ProviderContext, signal: AbortSignal): Promise<Session>;
}

export const SCHEMES = ["vault", "awssecrets", "gcpsecrets", "azurekeyvault", "file"] as const;
export type Scheme = (typeof SCHEMES)[number];

// A static map, so the bundler gives each provider its own chunk and a run that uses only Vault never
// loads the AWS, GCP or Azure SDKs. No provider is ever loaded from a user-supplied path.
const LOADERS: Partial<Record<Scheme, () => Promise<{ provider: Provider }>>> = {
  file: () => import("../providers/file.ts"),
  awssecrets: () => import("../providers/awssecrets.ts"),
  vault: () => import("../providers/vault.ts"),
  azurekeyvault: () => import("../providers/azurekeyvault.ts"),
  gcpsecrets: () => import("../providers/gcpsecrets.ts"),
};

export function isScheme(value: string): value is Scheme {
  return (SCHEMES as readonly string[]).includes(value);
}

export async function loadProvider(scheme: Scheme): Promise<Provider> {
  const load = LOADERS[scheme];
  if (load === undefined) {
    throw new SecretwrapError("PROVIDER_UNKNOWN", `the ${scheme} provider is not available in this build`, {
      subject: { provider: scheme },
      hint: `supported now: ${Object.keys(LOADERS).join(", ")}`,
    });
  }
  // Before an SDK allocates: its loading is secretwrap's peak memory (src/young-generation.ts).
  if (scheme !== "file") keepYoungGenerationSmall();
  return (await load()).provider;
}
