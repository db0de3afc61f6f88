// The provider contract, and the only module of src/ that a provider may import (eslint.config.js
// enforces it). In the build every provider bundle imports it from ../core.js, so SecretwrapError and
// every cache behind it exist once; whatever a provider needs from secretwrap's own code is exported
// here and nowhere else.
//
// A provider is one folder, providers/<scheme>/, plus one line in providers/registry.ts:
//   descriptor.ts  what the core knows without loading anything: a ProviderDescriptor (no SDK import)
//   index.ts       the implementation, loaded on first use: `export const provider: Provider<Options>`
//   options.ts     its config block's schema, loaded only for a run whose config has that block
import type { Logger } from "./log.ts";
import type { Ref } from "./config/ref.ts";

export { SecretwrapError, type ErrorCode, type ErrorSubject } from "./errors.ts";
export { describeRef, fetchKey, type Ref } from "./config/ref.ts";
export { toIssues } from "./config/issues.ts";
export { MAX_SECRET_BYTES } from "./limits.ts";
export { parseJson } from "./json.ts";
export { commonJs } from "./interop.ts";
export { VERSION } from "./version.ts";
export { notARegularFile, readRegularFile } from "./regular-file.ts";

export interface ProviderContext {
  /** The environment secretwrap started with (a copy; providers read their ecosystem's variables here). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  /** Every credential a provider reads or obtains must be given to this, so output masks it. */
  readonly addSecret: (value: string | Uint8Array) => void;
  /** Per-attempt timeout in milliseconds, for SDKs that take one. */
  readonly attemptTimeoutMs: number;
  /** What this provider keeps between connect attempts of this run (see RunState). */
  readonly runState: RunState;
}

/**
 * A provider's store for one run: the core makes one with each ProviderContext, so it lives as long as
 * the run and dies with it, and neither another provider nor another run ever sees it. It is for what
 * must outlive a failed connect attempt (the core retries connect with the same ctx but a new session),
 * such as what a single-use credential gave once it is spent (a response-wrapped login secret, once
 * unwrapped). A provider keeps state here instead of at module level.
 */
export interface RunState {
  /**
   * The run's one instance of `kind`, constructed the first time it is asked for. Keyed by the class
   * itself, so a provider uses a class of its own and only code that imports it reaches the instance.
   */
  get<T extends object>(kind: new () => T): T;
}

/**
 * A lease the provider granted with a secret (e.g. a dynamic database credential): `run --watch`
 * renews it before `durationSec` runs out (src/watch/), reads a new secret when it can no longer be
 * renewed, and revokes it when the app ends.
 */
export interface Lease {
  readonly id: string;
  /** Seconds it is valid from when it was granted or last renewed. */
  readonly durationSec: number;
  readonly renewable: boolean;
}

/** The lifetime of a session's own login token, as granted or last renewed. */
export interface TokenLifetime {
  /** Seconds from now until it expires. */
  readonly durationSec: number;
  /** Whether renewToken can extend it (by renewing it, or by logging in again). */
  readonly renewable: boolean;
  /**
   * Set by renewToken when it logged in again instead of renewing: the leases read with the old token
   * end with it (a service may revoke a token's leases when the token ends), in `leasesEndInSec` (0: already),
   * so the watch reads those secrets again with the new token before then.
   */
  readonly replaced?: { readonly leasesEndInSec: number };
}

export interface Fetched {
  readonly bytes: Uint8Array;
  /** The value is a key/value map (a KV secret): without #field it must hold exactly one key. */
  readonly keyValueMap?: boolean;
  /** The version the provider actually served: for the audit line, and to compare on a later check. */
  readonly version?: string;
  /** Set when the secret comes with a lease. */
  readonly lease?: Lease;
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
   * A session that sends several secrets in one request (a batch read API) says how many: the
   * concurrency limit bounds requests, so this many times more fetches may be in flight.
   */
  readonly batchSize?: number;
  // Lifecycle capabilities, for `run --watch` and `render --watch` (src/watch/). Each is optional: a
  // provider implements the ones its service has and declares them in its descriptor's `capabilities`.
  // Each throws SecretwrapError like fetch (`transient: true` for what a later attempt may fix).
  /**
   * The version a fetch would serve now, cheaper than fetching (no value downloaded where the API
   * allows): compared with the `version` the last fetch gave; a different one means fetch again.
   * Undefined: this reference has no cheap check, so the watch fetches it and compares the bytes.
   */
  checkVersion?(ref: Ref, signal: AbortSignal): Promise<string | undefined>;
  /**
   * Extends a renewable lease granted with a fetched secret by `incrementSec` (the duration it was first
   * granted with); the answer is the lease as now granted. A shorter duration than asked means the
   * service capped it (its max TTL): the watch then reads a new secret before it runs out.
   */
  renew?(lease: Lease, incrementSec: number, signal: AbortSignal): Promise<Lease>;
  /** Gives up a lease granted with a fetched secret (when the app ends). */
  revoke?(lease: Lease, signal: AbortSignal): Promise<void>;
  /**
   * The session's own login token's lifetime now; undefined when it does not expire (or the provider's
   * SDK renews its credentials itself, as the cloud SDKs do). Called once when the watch starts: a
   * login answer already told it (no request); a static token may need one lookup. A run without
   * --watch never calls it, so its request count is unchanged.
   */
  tokenLifetime?(signal: AbortSignal): Promise<TokenLifetime | undefined>;
  /**
   * Keeps the session's login token alive: renews it, or logs in again with the same method when it
   * cannot be renewed or is near its max TTL (or the renewal was refused). A static token given by the
   * user can only be renewed, never replaced. The answer is the token's lifetime now.
   */
  renewToken?(signal: AbortSignal): Promise<TokenLifetime>;
  /**
   * Revokes the login token this session obtained (never a static token the user gave); the answer
   * says whether there was one to revoke.
   */
  revokeToken?(signal: AbortSignal): Promise<boolean>;
}

/** Which of the Session's optional lifecycle capabilities a provider implements. */
export interface Capabilities {
  readonly checkVersion?: boolean;
  readonly renew?: boolean;
  readonly revoke?: boolean;
  readonly renewToken?: boolean;
  readonly revokeToken?: boolean;
}

export interface ProviderOptionsIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * A provider's implementation. `Options` is its config block's type, with every key optional: a run
 * whose config has no block for it passes `{}` (so zod is never loaded for nothing).
 */
export interface Provider<Options = unknown> {
  /** Log in (once per run). The options were checked against the provider's schema before. */
  connect(options: Options, ctx: ProviderContext, signal: AbortSignal): Promise<Session>;
}

/** The outcome of checking a config block: the block itself typed, or every problem in it. */
export type OptionsCheck<Options> =
  { readonly options: Options } | { readonly issues: readonly ProviderOptionsIssue[] };

/** A provider's config block schema (strict): every problem at once. */
export interface OptionSchema<Options = unknown> {
  check(block: unknown): OptionsCheck<Options>;
}

/**
 * The schema of a block that `validate` judges. The block handed on is the user's own object, not a
 * copy rebuilt by zod: rebuilding by assignment would turn a `__proto__` key into a prototype change.
 */
export function optionSchema<Options>(
  validate: (block: unknown) => readonly ProviderOptionsIssue[],
): OptionSchema<Options> {
  return {
    check(block) {
      const issues = validate(block);
      return issues.length === 0 ? { options: block as Options } : { issues };
    },
  };
}

/** A reference's locator and parameters, checked without I/O (src/config/ref.ts applies it). */
export interface LocatorGrammar {
  /** The accepted ?parameters. */
  readonly params: readonly string[];
  /** Why the locator or a parameter is not valid (given the #field, if any), or undefined. */
  check(
    locator: string,
    params: Readonly<Record<string, string>>,
    field: string | undefined,
  ): string | undefined;
  /**
   * For a scheme whose #field changes what is read, not only what is taken from the value read (with
   * a field, a parameter store may read every parameter under a path, as helmfile/vals does): a few
   * words naming that read, made part of the fetch's identity (fetchKey), so a reference with a field
   * and one without never share a fetch and the provider can tell them apart by `ref.field`.
   * Undefined: the field only selects.
   */
  read?(params: Readonly<Record<string, string>>, field: string | undefined): string | undefined;
  /**
   * Why a reference with these parameters cannot be kept under --watch (a read that changes something,
   * such as a write that issues a certificate, is not repeated on a schedule), or undefined.
   */
  unwatchable?(params: Readonly<Record<string, string>>): string | undefined;
}

/** What the core knows of a provider without loading it (providers/<scheme>/descriptor.ts). */
export interface ProviderDescriptor<Options = unknown> {
  /** ref+<scheme>://, and the provider's key under `providers:` in the config file. */
  readonly scheme: string;
  /** One line: what the provider reads. */
  readonly summary: string;
  /** A whole reference, for help text and hints. */
  readonly example: string;
  readonly locator: LocatorGrammar;
  /**
   * Prefixes of the environment variables the provider reads (credentials, endpoints): a secret may
   * not be delivered under such a name in a run that uses the provider.
   */
  readonly envPrefixes: readonly string[];
  /**
   * Variables the provider's SDK acts on (debug logs, proxies) that are meant for the app: taken out of
   * secretwrap's own environment before any provider loads, and handed back to the app.
   */
  readonly appOnlyVariables: readonly string[];
  /**
   * The implementation is its own bundle (dist/providers/<scheme>.js, with its SDK), loaded only by a
   * run that uses it; otherwise it is part of core.js.
   */
  readonly ownBundle: boolean;
  readonly capabilities: Capabilities;
  /** Its config block's schema; loaded only when the config file has a block for the provider. */
  options(): Promise<OptionSchema<Options>>;
  /** The implementation, loaded on first use. */
  load(): Promise<Provider<Options>>;
}

/**
 * One peer tool's reference forms (`--compat`): how that tool reads a whole value, mapped to the
 * reference secretwrap reads the same secret with (providers/compat/).
 */
export interface PeerForms {
  /** The tool's name as `--compat` takes it. */
  readonly tool: string;
  /** Where the tool documents its forms, for help and hints. */
  readonly docs: string;
  /**
   * undefined: not one of this tool's forms (the value stays literal). Otherwise the reference, or why
   * the value cannot be one. Pure, and never throws.
   */
  read(value: string): PeerReading | undefined;
}

export type PeerReading =
  | {
      /** The canonical ref+ reference. */
      readonly ref: string;
      /**
       * The variable holds the path of a file with the value (berglas' destination=tempfile), as the
       * tool sets it: a file in the secrets directory named after the variable.
       */
      readonly file?: true;
      /**
       * The tool does something else with a value that is a JSON object (secrets-init sets one variable
       * per key): such a value is refused with this problem and hint instead of delivered whole.
       */
      readonly jsonObject?: { readonly problem: string; readonly hint: string };
    }
  | {
      /** Why the value is not a usable reference. Never contains any part of the value. */
      readonly problem: string;
      readonly hint: string;
    };
