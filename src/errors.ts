// One error class for everything secretwrap reports. A message may name secrets, references,
// paths and providers, never a value or a credential; the redactor is only a second line of defence.

export type ErrorCode =
  | "USAGE"
  | "CONFIG_INVALID"
  | "REF_INVALID"
  | "PROVIDER_UNKNOWN"
  | "TARGET_INVALID"
  | "AUTH_FAILED"
  | "ACCESS_DENIED"
  | "SECRET_NOT_FOUND"
  | "FIELD_MISSING"
  | "FETCH_FAILED"
  | "FETCH_TIMEOUT"
  | "VALUE_UNUSABLE"
  | "OUTPUT_FAILED"
  | "NOT_TMPFS"
  | "COMMAND_NOT_FOUND"
  | "COMMAND_NOT_EXECUTABLE"
  | "INTERRUPTED"
  | "INTERNAL";

export const EXIT_CODE = {
  USAGE: 64,
  CONFIG_INVALID: 78,
  REF_INVALID: 78,
  PROVIDER_UNKNOWN: 78,
  TARGET_INVALID: 78,
  AUTH_FAILED: 77,
  ACCESS_DENIED: 77,
  SECRET_NOT_FOUND: 69,
  FIELD_MISSING: 69,
  FETCH_FAILED: 69,
  FETCH_TIMEOUT: 69,
  VALUE_UNUSABLE: 69,
  OUTPUT_FAILED: 73,
  NOT_TMPFS: 73,
  COMMAND_NOT_FOUND: 127,
  COMMAND_NOT_EXECUTABLE: 126,
  // INTERRUPTED carries 128+N itself (see SecretwrapError.exitCode)
  INTERRUPTED: 143,
  INTERNAL: 70,
} as const satisfies Record<ErrorCode, number>;

const DEFAULT_HINT: Record<ErrorCode, string> = {
  USAGE: "see `secretwrap --help`",
  CONFIG_INVALID: "fix the configuration at the path shown",
  REF_INVALID: "references look like ref+<scheme>://<locator>[?params][#field]; see README#reference-syntax",
  // The list of schemes is the build's (providers/registry.ts); src/config/ref.ts gives it as the hint.
  PROVIDER_UNKNOWN: "use one of the supported schemes",
  TARGET_INVALID: "names must match ^[A-Za-z_][A-Za-z0-9_]*$; file names must stay inside the secrets dir",
  AUTH_FAILED: "check the credentials secretwrap logs in with (see README#auth_failed)",
  ACCESS_DENIED: "grant the identity read access to this secret (see README#access_denied)",
  SECRET_NOT_FOUND: "check the reference's path, name and version; add `optional: true` if it may be absent",
  FIELD_MISSING: "check the #field against the keys the secret really has",
  FETCH_FAILED: "the provider could not be reached or failed; check its address and health",
  FETCH_TIMEOUT: "raise --timeout, or check why the provider is slow",
  VALUE_UNUSABLE: "deliver this secret as a file (name it X_FILE or set `file:` in the config)",
  OUTPUT_FAILED: "check the secrets dir: it must be writable, private, and the target must not exist",
  NOT_TMPFS: "use a tmpfs directory (default /dev/shm) or pass --allow-disk",
  COMMAND_NOT_FOUND: "check the command name and PATH",
  COMMAND_NOT_EXECUTABLE: "check the file's execute permission and that it is not a directory",
  INTERRUPTED: "secretwrap was stopped by a signal before the command started",
  INTERNAL: "this is a bug in secretwrap; please report it with the output of `secretwrap version`",
};

export interface ErrorSubject {
  readonly secret?: string;
  readonly ref?: string;
  readonly provider?: string;
}

export interface SecretwrapErrorOptions {
  readonly hint?: string;
  readonly subject?: ErrorSubject;
  readonly cause?: unknown;
  /** A transient failure may succeed if the same request is sent again. */
  readonly transient?: boolean;
  /** Server-requested wait before the next attempt (Retry-After). */
  readonly retryAfterMs?: number;
  readonly exitCode?: number;
  /** What this failure means for the command, when the command's usual words would be wrong. */
  readonly consequence?: string;
}

export class SecretwrapError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly subject: ErrorSubject;
  readonly transient: boolean;
  readonly retryAfterMs: number | undefined;
  readonly consequence: string | undefined;
  readonly #exitCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: SecretwrapErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SecretwrapError";
    this.code = code;
    this.hint = options.hint ?? DEFAULT_HINT[code];
    this.subject = options.subject ?? {};
    this.transient = options.transient ?? false;
    this.retryAfterMs = options.retryAfterMs;
    this.consequence = options.consequence;
    this.#exitCode = options.exitCode;
  }

  get exitCode(): number {
    return this.#exitCode ?? EXIT_CODE[this.code];
  }

  /** The same error, now attributed to a secret (name and reference only). */
  about(subject: ErrorSubject): SecretwrapError {
    return new SecretwrapError(this.code, this.message, {
      hint: this.hint,
      subject: { ...this.subject, ...subject },
      cause: this.cause,
      transient: this.transient,
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.#exitCode === undefined ? {} : { exitCode: this.#exitCode }),
      ...(this.consequence === undefined ? {} : { consequence: this.consequence }),
    });
  }
}

/** Many failures at once: every failing secret is reported in one run. */
export class SecretsFailedError extends SecretwrapError {
  readonly failures: readonly SecretwrapError[];

  constructor(failures: readonly SecretwrapError[], what: string) {
    const first = worstFailure(failures);
    super(first.code, what, { hint: first.hint });
    this.name = "SecretsFailedError";
    this.failures = failures;
  }
}

// Configuration problems come first: nothing else can be trusted until they are fixed; then auth,
// which is one fix for many secrets; then the rest.
const PRIORITY: readonly number[] = [78, 77, 73, 69];

function worstFailure(failures: readonly SecretwrapError[]): SecretwrapError {
  const ranked = [...failures].sort((a, b) => rank(a.exitCode) - rank(b.exitCode));
  const worst = ranked[0];
  if (worst === undefined) return new SecretwrapError("INTERNAL", "an empty failure list was reported");
  return worst;
}

function rank(exitCode: number): number {
  const index = PRIORITY.indexOf(exitCode);
  return index === -1 ? PRIORITY.length : index;
}

/** Anything thrown that is not ours is a bug: report it as INTERNAL without echoing its text. */
export function asSecretwrapError(error: unknown): SecretwrapError {
  if (error instanceof SecretwrapError) return error;
  const kind = error instanceof Error ? error.name : typeof error;
  return new SecretwrapError("INTERNAL", `unexpected ${kind}`, { cause: error });
}
